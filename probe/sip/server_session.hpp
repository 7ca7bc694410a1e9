#pragma once
// The mock Lync endpoint's SIP side on one established MTLS connection
// (`serve --role lync --sip`), in the Beast examples' shape: the session
// owns its connection, shared_from_this keeps it alive across the steps
//
//   start -> [trusted-application check] -> read -> feed -> write... -> read ...
//
// and it ends on the peer's close, an idle deadline, a write failure or the
// mock's close_now. Runs on its connection's strand in the HandshakeServer's threads.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "probe/sip/mock_lync.hpp"
#include "tls/handshake.hpp"

namespace probe {

struct SipServerConfig {
  sip::MockLyncConfig mock;
  // Lync's topology: the FQDNs of the trusted applications (pools) it knows.
  // Empty: every client that completed the handshake is served.
  std::vector<std::string> trusted_applications;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{10000};
};

// One line for the server log.
using SipLog = std::function<void(const std::string&)>;

// What one SIP session saw, for serve's report (the sip.* findings).
struct SipSessionFacts {
  bool started = false;                              // a session ran on the connection
  std::optional<std::string> untrusted_application;  // why we closed at once, as Lync does
  std::vector<sip::ServedRequest> requests;
  unsigned keep_alives = 0;
  std::string framing_error;         // the client sent bytes that are not SIP
  std::optional<std::string> ended;  // why the session ended, once it has
  // What a report waits for: the first request answered, or the end.
  bool settled() const { return !requests.empty() || ended.has_value(); }
};

// The session (on the server's thread) writes, serve's judge reads: the
// judge waits, up to a deadline, for the session to settle.
class SipSessionWatch {
 public:
  void update(const std::function<void(SipSessionFacts&)>& change);
  // The facts once settled, or as they stand at `deadline`.
  SipSessionFacts wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  SipSessionFacts facts_;
};

// nullopt when the client's certificate (CN or a SAN DNS name) names one of
// the trusted applications, or none are configured; otherwise why Lync would
// drop the connection: "client certificate names a, b, none of the trusted
// applications (c)".
std::optional<std::string> untrusted_application(const tls::HandshakeRecord& record,
                                                 const std::vector<std::string>& trusted);

class SipServerSession : public std::enable_shared_from_this<SipServerSession> {
 public:
  // `watch` (may be null) is told what the session sees.
  SipServerSession(std::shared_ptr<tls::EstablishedConnection> connection,
                   const tls::HandshakeRecord& record, const SipServerConfig& config, SipLog log,
                   std::shared_ptr<SipSessionWatch> watch = nullptr);
  void start();

 private:
  void read();
  void on_read(mtls::Result<std::string> bytes);
  void write_next();
  void on_write(mtls::Status written);
  void close(const std::string& why);
  void note(const std::function<void(SipSessionFacts&)>& change);

  std::shared_ptr<tls::EstablishedConnection> connection_;
  tls::HandshakeRecord record_;
  SipServerConfig config_;
  SipLog log_;
  std::shared_ptr<SipSessionWatch> watch_;
  sip::MockLyncSession mock_;
  std::deque<std::string> outbox_;
  bool close_after_writing_ = false;
};

}  // namespace probe
