#pragma once
// The SIP side of the mock Lync / Skype for Business endpoint, with no I/O:
// a TLS session owns one MockLyncSession and does
//
//   SessionOutput out = session.feed(bytes_read);
//   write each out.to_send in order; log out.log; if (out.close_now) shut down
//
// Answers (RFC 3261, RFC 3856 presence, RFC 6665 events):
//   OPTIONS                         -> 200 OK, Allow / Supported / Accept
//   SUBSCRIBE Event: presence
//     for a configured user         -> 200 OK (Expires, Contact), then NOTIFY
//                                      with the user's state: an [MS-PRES]
//                                      categories body when Accept asks for
//                                      msrtc-event-categories+xml first, else PIDF
//     Accept with neither           -> 406 Not Acceptable
//     for anyone else               -> 404 Not Found with ms-diagnostics 4005,
//                                      as a Front End answers
//     a batch ([MS-PRES] adhocList) -> 200 OK carrying (ms-piggyback-first-
//                                      notify) or followed by a NOTIFY with a
//                                      multipart/related body: an rlmi+xml
//                                      list, a categories document per known
//                                      presentity, noresource for the others;
//                                      400 for a malformed or oversized list
//   SUBSCRIBE other Event           -> 489 Bad Event
//   ACK, any response               -> nothing
//   any other method                -> 501 Not Implemented
//   request missing Via / From / To / Call-ID / CSeq -> 400, connection kept
//   unframeable bytes               -> 400 Bad Request, then close_now
//   CRLFCRLF keep-alive             -> CRLF
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "probe/sip/message.hpp"
#include "probe/sip/stream_parser.hpp"
#include "tls/result.hpp"

namespace probe::sip {

inline constexpr std::string_view kMockLyncServer = "mtlsprobe-mock-lync";

enum class PresenceState { available, busy, away, offline };
std::string_view to_string(PresenceState state);

struct PresenceAssignment {
  std::string user;  // "alice@example.com", lower case
  PresenceState state;
};
// "alice@example.com=busy" (from --presence); the error names what is wrong.
mtls::Result<PresenceAssignment> parse_presence_assignment(std::string_view text);

struct MockLyncConfig {
  std::map<std::string, PresenceState> presence;  // keys as PresenceAssignment::user
  std::string local_host = "mock-lync.invalid";   // our Via / Contact host in NOTIFY
  unsigned max_subscription_seconds = 3600;
  Limits limits;
};

// The PIDF document (RFC 3863, with an RPID activity, RFC 4480) for `user`.
std::string presence_document(std::string_view user, PresenceState state);
// The [MS-PRES] categories document a Front End sends Lync clients: one
// "state" category with the aggregate availability of `state`.
std::string categories_document(std::string_view user, PresenceState state);

// What the mock sends for one parsed message (possibly nothing). notify_cseq
// numbers our NOTIFYs and is advanced for each one built.
std::vector<Message> respond_to(const Message& message, const MockLyncConfig& config,
                                unsigned& notify_cseq);

// 400 Bad Request for a framing error, echoing the head when there is one;
// the reason goes in a Warning header (399, RFC 3261 20.43).
Message bad_request_for(const ParseError& error);

// One request the mock answered, for serve's report.
struct ServedRequest {
  std::string request;  // its start line
  std::string method;
  int status = 0;       // our final answer's code; 0 when none is due (ACK)
  std::string answers;  // the start lines of what we sent, "200 OK + NOTIFY ..."
};

struct SessionOutput {
  std::vector<std::string> to_send;  // wire bytes, in order
  bool close_now = false;            // after sending to_send
  std::vector<std::string> log;      // one line per event, for the server log
  std::vector<ServedRequest> served;
  unsigned keep_alives = 0;
  std::string framing_error;  // why the bytes were not SIP, when close_now
};

class MockLyncSession {
 public:
  explicit MockLyncSession(MockLyncConfig config);
  SessionOutput feed(std::string_view bytes);
  bool closed() const { return parser_.failed(); }

 private:
  MockLyncConfig config_;
  StreamParser parser_;
  unsigned notify_cseq_ = 1;
};

}  // namespace probe::sip
