#pragma once
// `serve --metrics-listen`: counts of the handshakes a server saw, by outcome
// and client certificate subject, as Prometheus metrics, so a lab or a mock
// endpoint can be watched like the real one. Thread-safe: the server's
// thread counts while the HTTP thread renders.
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "tls/handshake_record.hpp"

namespace probe {

class HandshakeCounts {
 public:
  // A client chooses its certificate, so the subjects are bounded: after
  // this many distinct ones, new subjects are counted as "(other)".
  static constexpr std::size_t kMaxSubjects = 1000;

  void count(const tls::HandshakeRecord& record);
  // A connection closed before it sent anything (a TCP port check).
  void count_port_check();
  std::string exposition() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> handshakes_;  // outcome, subject
  std::map<std::string, bool> subjects_;
  std::uint64_t port_checks_ = 0;
};

// "success" for a completed handshake without error, else the error's name
// ("we-rejected-peer", "no-peer-certificate", "handshake-timeout", ...).
std::string handshake_outcome(const tls::HandshakeRecord& record);

}  // namespace probe
