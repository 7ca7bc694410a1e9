#pragma once
// The load generator behind `mtlsprobe load`: many mutual-TLS handshakes
// against one endpoint, as a closed loop (a fixed number of connections,
// each starting the next handshake when its last one ended) or an open loop
// (a fixed rate of new handshakes, whatever the endpoint's pace), on worker
// threads that each run their own io_context. Each connection runs TCP, TLS,
// an optional SIP OPTIONS and the close in phases with deadlines
// (tls/async_client.hpp); each worker counts and times into its own
// statistics, merged when the run ends (the h2load way: nothing shared on
// the hot path but two relaxed counters for the progress line).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "probe/diagnosis/handshake.hpp"
#include "probe/load/latency.hpp"
#include "report/model.hpp"
#include "tls/async_client.hpp"

namespace probe::load {

enum class Phase { tcp, tls, sip };
inline constexpr Phase kPhases[] = {Phase::tcp, Phase::tls, Phase::sip};
const char* to_string(Phase phase);  // "tcp", "tls", "sip"

struct SipSettings {
  std::string target_uri;  // "sip:lyncpool.example.com:5061;transport=tls"
  std::string from_uri;    // our certificate's CN, as connect --sip sends it
  std::chrono::milliseconds timeout{10000};
};

struct LoadSettings {
  boost::asio::ip::tcp::endpoint endpoint;
  std::size_t connections = 16;  // closed loop: at once; open loop: the most in flight
  std::optional<double> rate;    // handshakes started per second: open loop
  std::optional<std::chrono::duration<double>> duration;  // one of these two bounds the run
  std::optional<std::uint64_t> count;
  unsigned threads = 1;
  bool resumption = false;
  std::optional<SipSettings> sip;
  // How failures are diagnosed (our side, our store, the name expected).
  LiveContext diagnosis;
};

// Counters a progress line may read while the run goes on.
struct LoadProgress {
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> failed{0};
};

struct FailureCount {
  report::Finding finding;  // the first failure of this id, as diagnosed
  std::uint64_t count = 0;
};

struct LoadResult {
  double elapsed_seconds = 0;
  std::uint64_t succeeded = 0, failed = 0;
  std::uint64_t resumed = 0;      // succeeded with an abbreviated handshake
  std::uint64_t not_started = 0;  // open loop: due while --connections were in flight
  std::vector<std::pair<Phase, LatencySummary>> latency;  // phases that completed at least once
  std::vector<FailureCount> failures;                     // most frequent first
  // Successful handshakes per second of the run.
  double handshakes_per_second() const;
};

// Runs until the count is reached or the duration is over, then lets the
// connections in flight finish (each bounded by its deadlines).
LoadResult run_load(const LoadSettings& settings, const tls::ClientContext& context,
                    LoadProgress& progress);

}  // namespace probe::load
