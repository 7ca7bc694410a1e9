#pragma once
// The probe as a SIP client on an established MTLS connection: send one
// request, wait (bounded) for its final answer and, for a presence
// SUBSCRIBE, the NOTIFY that follows it (answered with 200 OK, as a user
// agent must, RFC 6665 4.1.3). Say precisely how an exchange ended, because
// "the peer closed the connection without answering" is the symptom of
// Lync's trusted-application check.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "probe/sip/message.hpp"
#include "probe/sip/stream_parser.hpp"
#include "tls/handshake.hpp"

namespace probe::sip {

enum class ExchangeOutcome {
  answered,          // a final response arrived
  closed,            // the peer closed the connection before answering
  timed_out,         // nothing answered within the timeout
  peer_rejected_us,  // a fatal TLS alert came instead (TLS 1.3 late rejection)
  malformed,         // the peer's bytes were not SIP
};
const char* to_string(ExchangeOutcome outcome);

struct Exchange {
  std::string request_line;  // "OPTIONS sip:lyncpool.example.com:5061;transport=tls"
  ExchangeOutcome outcome = ExchangeOutcome::timed_out;
  std::optional<Message> response;  // the final response
  std::optional<Message> notify;    // SUBSCRIBE: the NOTIFY of the new dialog
  double round_trip_ms = 0;         // request written -> final response read
  std::string error;                // one line when not answered
  // No byte of SIP had arrived on this connection when it ended: together
  // with `closed`, the drop right after the handshake.
  bool nothing_received = true;
};

class Client {
 public:
  Client(std::shared_ptr<tls::EstablishedConnection> connection, std::chrono::milliseconds timeout);

  // Sends `request` and waits for its final response; with wait_for_notify,
  // after a 2xx also for the NOTIFY of the same Call-ID.
  Exchange send(const Message& request, bool wait_for_notify = false);

 private:
  std::shared_ptr<tls::EstablishedConnection> connection_;
  std::chrono::milliseconds timeout_;
  StreamParser parser_;
  bool received_any_ = false;
};

// The presence state a PIDF document (RFC 3863 / RPID RFC 4480) shows:
// "offline" for a closed basic status, else "busy" / "away" from the RPID
// activities, else "available"; nullopt when the body is not PIDF.
std::optional<std::string> presence_state_of(const std::string& pidf);

}  // namespace probe::sip
