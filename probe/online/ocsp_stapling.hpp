#pragma once
// Where `serve` gets the OCSP response it staples: a file made beforehand,
// or a responder asked at start and again before the answer goes stale.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/result.hpp"
#include "tls/revocation.hpp"

namespace probe {

struct StapleFlags {
  std::string response_file;  // --ocsp-response FILE
  std::string responder;      // --ocsp-responder URL|aia
  bool enabled() const { return !response_file.empty() || !responder.empty(); }
};
void add_staple_flags(CLI::App* command, StapleFlags& flags);

using StapleLog = std::function<void(const std::string& line)>;

// The first response to staple (possibly empty when the responder could not
// be reached: serving goes on without a staple). Errors (an unreadable or
// non-OCSP file, no responder URL for `aia`, no issuer) are one line.
// `chain` is our leaf first, then its issuer.
mtls::Result<tls::FetchedOcspResponse> first_staple(const StapleFlags& flags,
                                                    const std::vector<tls::Certificate>& chain,
                                                    const tls::RevocationOptions& options,
                                                    const StapleLog& log);

// Asks the responder again in the background (half-way to nextUpdate, at
// most hourly; a minute after a failure) and hands every usable answer to
// `update`. Stops and joins on destruction.
class StapleRefresher {
 public:
  StapleRefresher(std::string url, std::vector<tls::Certificate> chain,
                  tls::RevocationOptions options, std::chrono::seconds first_wait,
                  std::function<void(std::vector<std::uint8_t>)> update, StapleLog log);
  ~StapleRefresher();
  StapleRefresher(const StapleRefresher&) = delete;
  StapleRefresher& operator=(const StapleRefresher&) = delete;

 private:
  void run(std::chrono::seconds wait);

  std::string url_;
  std::vector<tls::Certificate> chain_;
  tls::RevocationOptions options_;
  std::function<void(std::vector<std::uint8_t>)> update_;
  StapleLog log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The responder URL `--ocsp-responder` names (resolving `aia`), or an error.
mtls::Result<std::string> staple_responder_url(const StapleFlags& flags,
                                               const tls::Certificate& leaf);

// How long until the next refresh of an answer with these dates.
std::chrono::seconds refresh_interval(const tls::RevocationStatus& status);

}  // namespace probe
