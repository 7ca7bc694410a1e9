#pragma once
// Incremental SIP framer over a byte stream (TLS or TCP): feed whatever bytes
// arrived, get back every event they complete, in order.
//
//   StreamParser parser;                     // Limits{} = 64 KiB / 100 / 8 KiB
//   for (StreamEvent& e : parser.feed(bytes)) {
//     Message       -> one complete request or response (body included)
//     KeepAlivePing -> a bare CRLFCRLF between messages (RFC 5626 3.5.1):
//                      the server answers with one CRLF
//     ParseError    -> framing is lost: answer 400 (ParseError::head, when
//                      set, is the request to echo headers from) and close;
//                      every later feed() returns nothing
//   }
//
// Framing choices:
// - Content-Length is required over streams (RFC 3261 18.3, 20.14). A head
//   without it is taken to have an empty body; any body the peer sent anyway
//   then arrives as the next "message" and fails there, so it is refused (400
//   and close) rather than silently mis-framed. We do not reject the missing
//   header itself because bodiless requests from simple tools often omit it.
// - A single CRLF before a start line is ignored (RFC 3261 7.5; also a
//   RFC 5626 pong); each CRLFCRLF is one ping.
// - Memory is bounded: the parser never holds more than
//   Limits::max_message_bytes, however large the bytes given to one feed().
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "probe/sip/message.hpp"

namespace probe::sip {

struct KeepAlivePing {};

struct ParseError {
  std::string reason;
  std::optional<Message> head;  // set when the start line and headers parsed
};

using StreamEvent = std::variant<Message, KeepAlivePing, ParseError>;

class StreamParser {
 public:
  explicit StreamParser(Limits limits = {});

  std::vector<StreamEvent> feed(std::string_view bytes);

  bool failed() const { return state_ == State::failed; }
  // Bytes held for an incomplete message; never above max_message_bytes.
  std::size_t buffered_bytes() const { return buffer_.size(); }

 private:
  enum class State { between_messages, head, body, failed };

  void extract(std::vector<StreamEvent>& events);
  void fail(std::vector<StreamEvent>& events, std::string reason,
            std::optional<Message> head = std::nullopt);

  Limits limits_;
  std::string buffer_;
  State state_ = State::between_messages;
  bool pending_crlf_ = false;  // one CRLF seen between messages
  bool previous_lacked_content_length_ = false;
  HeadScan scan_;
  Message current_;
  std::size_t head_length_ = 0;
  std::size_t body_length_ = 0;
};

}  // namespace probe::sip
