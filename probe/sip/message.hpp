#pragma once
// A small SIP message layer (RFC 3261 section 7), transport-agnostic: bytes in,
// Message out, and back. Written for this tool's OPTIONS / SUBSCRIBE needs and
// strict by design, because it faces whatever a peer sends over MTLS:
//   - every limit in Limits is enforced before anything is buffered past it;
//   - lines end in CRLF (a bare CR or LF is refused) and control characters
//     other than HT are refused in the start line and headers;
//   - Content-Length must be plain decimal digits; two different values are
//     refused; the head plus the declared body must fit max_message_bytes.
// Compact header names (RFC 3261 7.3.3, plus o/u of RFC 6665) are expanded to
// their full names at parse time and names are compared case-insensitively.
//
// API:
//   parse_message(bytes)   one complete message (a datagram, or a framed
//                          stream message); missing Content-Length => the
//                          body is the rest of the bytes (RFC 3261 18.3).
//   serialize(message)     wire bytes; Content-Length always written from
//                          the body size.
//   scan_head / parse_head the two steps the stream framer
//                          (sip_stream_parser.hpp) runs incrementally.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls/result.hpp"

namespace probe::sip {

struct Limits {
  std::size_t max_message_bytes = 64 * 1024;  // head + body
  std::size_t max_headers = 100;              // header fields, not counting folded lines
  std::size_t max_line_bytes = 8 * 1024;      // one physical line without its CRLF
};

struct Header {
  std::string name;   // full form: compact names expanded ("i" -> "Call-ID")
  std::string value;  // folded lines joined with one SP, outer whitespace trimmed
};

struct Message {
  enum class Kind { request, response };
  Kind kind = Kind::request;
  std::string method;       // requests: "OPTIONS"
  std::string request_uri;  // requests: "sip:alice@example.com"
  int status_code = 0;      // responses: 100..699
  std::string reason;       // responses: "OK"
  std::vector<Header> headers;
  std::string body;

  bool is_request() const { return kind == Kind::request; }
  bool is_response() const { return kind == Kind::response; }

  // First value of the named header (any case, compact or full form).
  std::optional<std::string> header(std::string_view name) const;
  // Every occurrence in order; a comma-separated list header (Via, Allow...)
  // stays one element per line: split_header_list() splits it.
  std::vector<std::string> headers_named(std::string_view name) const;
  // Appends a header. Throws std::invalid_argument for a CR, LF or NUL in the
  // name or value (header injection is a programmer error at this point).
  void add_header(std::string_view name, std::string_view value);
  // Replaces every occurrence with one, at the place of the first.
  void set_header(std::string_view name, std::string_view value);
  void remove_header(std::string_view name);
};

// "i" -> "Call-ID", "o" -> "Event"...; other names are returned unchanged.
std::string expand_compact_name(std::string_view name);
bool header_name_equals(std::string_view a, std::string_view b);

// Splits "a, <sip:b;x=1,2>, \"c,d\" <sip:e>" at top-level commas (not inside
// quotes or angle brackets), trimming each element (RFC 3261 7.3.1).
std::vector<std::string> split_header_list(std::string_view value);
// The header parameter `name` of a From/To/Contact/Via value, skipping the
// display name and the <URI> (whose own ;params are URI parameters, 20.10).
// nullopt when absent; "" for a parameter without a value.
std::optional<std::string> header_param(std::string_view value, std::string_view name);
// The URI of a name-addr ("\"A\" <sip:a@x>;tag=1" -> "sip:a@x") or addr-spec.
std::string header_uri(std::string_view value);
// "sip:Alice@Example.COM:5061;transport=tls" -> "alice@example.com" (lower
// case, no scheme, port or parameters), for matching configured users.
std::string uri_user_at_host(std::string_view uri);
// A host for a URI or Via sent-by: an IPv6 literal gets its brackets
// ("::1" -> "[::1]"); names, IPv4 and "host:port" are returned unchanged.
std::string uri_host(std::string_view host);

mtls::Result<Message> parse_message(std::string_view bytes, const Limits& limits = {});
std::string serialize(const Message& message);

// Incremental search for the blank line that ends the head. Feed the same
// growing buffer and the same state; returns the head length including the
// final CRLFCRLF once found, 0 while more bytes are needed, or an error for a
// limit or a line-ending violation. Each byte is examined once.
struct HeadScan {
  std::size_t position = 0;
  std::size_t line_start = 0;
  std::size_t header_lines = 0;  // lines after the start line that begin a field
};
mtls::Result<std::size_t> scan_head(std::string_view buffer, HeadScan& state, const Limits& limits);

// Parses a head found by scan_head (start line + headers; the blank line is
// optional); the body stays empty. Split from content_length_of so a caller
// can still answer a request whose Content-Length is wrong (head parsed,
// framing lost). content_length_of gives nullopt when the header is absent.
mtls::Result<Message> parse_head(std::string_view head, const Limits& limits);
mtls::Result<std::optional<std::size_t>> content_length_of(const Message& head,
                                                           const Limits& limits);

}  // namespace probe::sip
