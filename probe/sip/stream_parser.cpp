#include "probe/sip/stream_parser.hpp"

#include <algorithm>
#include <utility>

namespace probe::sip {

StreamParser::StreamParser(Limits limits) : limits_(limits) {}

std::vector<StreamEvent> StreamParser::feed(std::string_view bytes) {
  std::vector<StreamEvent> events;
  // Take only what fits under the limit, frame it, repeat: a huge feed never
  // grows the buffer past max_message_bytes.
  while (!bytes.empty() && state_ != State::failed) {
    std::size_t room = limits_.max_message_bytes - buffer_.size();
    std::size_t take = std::min(room, bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    extract(events);
    if (state_ != State::failed && buffer_.size() >= limits_.max_message_bytes) {
      fail(events,
           "message exceeds the " + std::to_string(limits_.max_message_bytes) + "-byte limit");
    }
  }
  return events;
}

void StreamParser::fail(std::vector<StreamEvent>& events, std::string reason,
                        std::optional<Message> head) {
  if (previous_lacked_content_length_ && !head) {
    reason +=
        " (the message before had no Content-Length, so a body it carried is read as the"
        " next message)";
  }
  events.push_back(ParseError{std::move(reason), std::move(head)});
  state_ = State::failed;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

void StreamParser::extract(std::vector<StreamEvent>& events) {
  for (;;) {
    switch (state_) {
      case State::failed:
        return;

      case State::between_messages: {
        std::size_t consumed = 0;
        while (buffer_.size() - consumed >= 2 && buffer_[consumed] == '\r' &&
               buffer_[consumed + 1] == '\n') {
          consumed += 2;
          if (pending_crlf_) events.emplace_back(std::in_place_type<KeepAlivePing>);
          pending_crlf_ = !pending_crlf_;
        }
        buffer_.erase(0, consumed);
        if (buffer_.empty() || buffer_ == "\r") return;  // wait: maybe more CRLF
        pending_crlf_ = false;
        scan_ = HeadScan{};
        state_ = State::head;
        break;
      }

      case State::head: {
        auto head_length = scan_head(buffer_, scan_, limits_);
        if (!head_length) return fail(events, head_length.error().message);
        if (*head_length == 0) return;  // need more bytes (feed() checks the limit)
        auto head = parse_head(std::string_view(buffer_).substr(0, *head_length), limits_);
        if (!head) return fail(events, head.error().message);
        auto length = content_length_of(*head, limits_);
        if (!length) return fail(events, length.error().message, std::move(*head));
        std::size_t body = length->value_or(0);
        if (*head_length + body > limits_.max_message_bytes) {
          return fail(events,
                      "message of " + std::to_string(*head_length + body) +
                          " bytes (head + Content-Length) exceeds the " +
                          std::to_string(limits_.max_message_bytes) + "-byte limit",
                      std::move(*head));
        }
        previous_lacked_content_length_ = !length->has_value();
        current_ = std::move(*head);
        head_length_ = *head_length;
        body_length_ = body;
        state_ = State::body;
        break;
      }

      case State::body: {
        if (buffer_.size() < head_length_ + body_length_) return;
        current_.body = buffer_.substr(head_length_, body_length_);
        buffer_.erase(0, head_length_ + body_length_);
        events.push_back(std::move(current_));
        current_ = Message{};
        state_ = State::between_messages;
        break;
      }
    }
  }
}

}  // namespace probe::sip
