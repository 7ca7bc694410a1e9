#include "probe/sip/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <utility>

#include "tls/text.hpp"

namespace probe::sip {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// RFC 3261 25.1 token characters.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

std::string describe_byte(unsigned char c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 0x0f];
}

// Compact forms: RFC 3261 7.3.3 (v f t i l m k c s e) plus o / u of RFC 6665,
// which a presence subscriber may use for Event / Allow-Events.
constexpr std::array<std::pair<char, std::string_view>, 12> kCompactNames{{
    {'v', "Via"},
    {'f', "From"},
    {'t', "To"},
    {'i', "Call-ID"},
    {'l', "Content-Length"},
    {'m', "Contact"},
    {'k', "Supported"},
    {'c', "Content-Type"},
    {'s', "Subject"},
    {'e', "Content-Encoding"},
    {'o', "Event"},
    {'u', "Allow-Events"},
}};

mtls::Error error(std::string message) { return mtls::Error{std::move(message)}; }

// RFC 3261 25.1 quoted-string, scanned one character at a time: step()
// returns true for a character that belongs to a quoted string (its quotes
// included) and skips the character a backslash escapes.
struct QuotedStrings {
  bool inside = false;
  bool step(std::string_view value, std::size_t& i) {
    char c = value[i];
    if (inside) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inside = false;
      return true;
    }
    if (c == '"') inside = true;
    return inside;
  }
};

// Position just after the display name and <URI> of a name-addr, or of the
// URI of an addr-spec / Via sent-by: where header parameters begin.
std::size_t parameters_start(std::string_view value) {
  QuotedStrings quotes;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (quotes.step(value, i)) continue;
    char c = value[i];
    if (c == '<') {
      std::size_t close = value.find('>', i);
      return close == std::string_view::npos ? value.size() : close + 1;
    } else if (c == ';') {
      return i;
    }
  }
  return value.size();
}

mtls::Result<Message> parse_start_line(std::string_view line) {
  Message message;
  if (line.size() >= 4 && tls::iequals(line.substr(0, 4), "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    message.kind = Message::Kind::response;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return error("status line has no status code");
    std::string_view version = line.substr(0, sp);
    if (!tls::iequals(version, "SIP/2.0")) {
      return error("unsupported SIP version '" + std::string(version) + "' (expected SIP/2.0)");
    }
    std::string_view rest = line.substr(sp + 1);
    std::string_view code = rest.substr(0, std::min<std::size_t>(3, rest.size()));
    if (code.size() != 3 ||
        !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return error("status code is not three digits in '" + std::string(line) + "'");
    }
    message.status_code = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (message.status_code < 100) return error("status code below 100");
    rest.remove_prefix(3);
    if (!rest.empty() && rest.front() != ' ') return error("status code is not followed by SP");
    message.reason = std::string(tls::trim_blanks(rest));
    return message;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version, single spaces.
  std::size_t first = line.find(' ');
  std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return error("request line is not 'METHOD URI SIP/2.0': '" + std::string(line) + "'");
  }
  std::string_view method = line.substr(0, first);
  std::string_view uri = line.substr(first + 1, second - first - 1);
  std::string_view version = line.substr(second + 1);
  if (!is_token(method)) return error("method '" + std::string(method) + "' is not a token");
  if (uri.empty() || uri.find(':') == std::string_view::npos) {
    return error("request URI '" + std::string(uri) + "' has no scheme");
  }
  if (!tls::iequals(version, "SIP/2.0")) {
    return error("unsupported SIP version '" + std::string(version) + "' (expected SIP/2.0)");
  }
  message.kind = Message::Kind::request;
  message.method = std::string(method);
  message.request_uri = std::string(uri);
  return message;
}

}  // namespace

std::string expand_compact_name(std::string_view name) {
  if (name.size() == 1) {
    for (const auto& [compact, full] : kCompactNames) {
      if (tls::ascii_lower(name[0]) == compact) return std::string(full);
    }
  }
  return std::string(name);
}

bool header_name_equals(std::string_view a, std::string_view b) {
  return tls::iequals(expand_compact_name(a), expand_compact_name(b));
}

std::optional<std::string> Message::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (header_name_equals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::vector<std::string> Message::headers_named(std::string_view name) const {
  std::vector<std::string> values;
  for (const Header& h : headers) {
    if (header_name_equals(h.name, name)) values.push_back(h.value);
  }
  return values;
}

void Message::add_header(std::string_view name, std::string_view value) {
  if (!is_token(name)) throw std::invalid_argument("SIP header name is not a token");
  if (std::any_of(value.begin(), value.end(),
                  [](char c) { return c == '\r' || c == '\n' || c == 0; })) {
    throw std::invalid_argument("SIP header value contains CR, LF or NUL");
  }
  headers.push_back(Header{expand_compact_name(name), std::string(tls::trim_blanks(value))});
}

void Message::set_header(std::string_view name, std::string_view value) {
  auto first = std::find_if(headers.begin(), headers.end(),
                            [&](const Header& h) { return header_name_equals(h.name, name); });
  if (first == headers.end()) {
    add_header(name, value);
    return;
  }
  std::size_t index = static_cast<std::size_t>(first - headers.begin());
  remove_header(name);
  add_header(name, value);
  std::rotate(headers.begin() + static_cast<std::ptrdiff_t>(index), headers.end() - 1,
              headers.end());
}

void Message::remove_header(std::string_view name) {
  std::erase_if(headers, [&](const Header& h) { return header_name_equals(h.name, name); });
}

std::vector<std::string> split_header_list(std::string_view value) {
  std::vector<std::string> items;
  QuotedStrings quotes;
  bool bracketed = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || (value[i] == ',' && !quotes.inside && !bracketed)) {
      std::string_view item = tls::trim_blanks(value.substr(start, i - start));
      if (!item.empty()) items.emplace_back(item);
      start = i + 1;
      continue;
    }
    if (quotes.step(value, i)) continue;
    if (value[i] == '<') bracketed = true;
    if (value[i] == '>') bracketed = false;
  }
  return items;
}

std::optional<std::string> header_param(std::string_view value, std::string_view name) {
  std::string_view params = value.substr(parameters_start(value));
  while (!params.empty()) {
    std::size_t semicolon = params.find(';');
    if (semicolon == std::string_view::npos) break;
    params.remove_prefix(semicolon + 1);
    std::size_t end = params.find(';');
    std::string_view param = tls::trim_blanks(params.substr(0, end));
    std::size_t equals = param.find('=');
    std::string_view key = tls::trim_blanks(param.substr(0, equals));
    if (tls::iequals(key, name)) {
      if (equals == std::string_view::npos) return std::string();
      return std::string(tls::trim_blanks(param.substr(equals + 1)));
    }
  }
  return std::nullopt;
}

std::string header_uri(std::string_view value) {
  std::size_t params = parameters_start(value);
  std::string_view head = value.substr(0, params);
  std::size_t open = head.find('<');
  if (open != std::string_view::npos) {
    std::size_t close = head.find('>', open);
    return std::string(tls::trim_blanks(head.substr(
        open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1)));
  }
  return std::string(tls::trim_blanks(head));
}

std::string uri_user_at_host(std::string_view uri) {
  std::string text = tls::ascii_lower(tls::trim_blanks(uri));
  std::string_view view = text;
  for (std::string_view scheme : {"sip:", "sips:", "pres:"}) {
    if (view.starts_with(scheme)) {
      view.remove_prefix(scheme.size());
      break;
    }
  }
  view = view.substr(0, view.find_first_of(";?"));
  std::size_t at = view.rfind('@');
  std::string_view user =
      at == std::string_view::npos ? std::string_view() : view.substr(0, at + 1);
  std::string_view host = at == std::string_view::npos ? view : view.substr(at + 1);
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);  // npos + 1 == 0 keeps nothing of a broken literal
  } else {
    host = host.substr(0, host.find(':'));
  }
  return std::string(user) + std::string(host);
}

std::string uri_host(std::string_view host) {
  bool ipv6 = std::count(host.begin(), host.end(), ':') > 1 && !host.starts_with('[');
  return ipv6 ? "[" + std::string(host) + "]" : std::string(host);
}

mtls::Result<std::size_t> scan_head(std::string_view buffer, HeadScan& state,
                                    const Limits& limits) {
  for (std::size_t& pos = state.position; pos < buffer.size(); ++pos) {
    auto c = static_cast<unsigned char>(buffer[pos]);
    bool after_cr = pos > 0 && buffer[pos - 1] == '\r' && pos - 1 >= state.line_start;
    if (c == '\n') {
      if (!after_cr) return error("bare LF in the header section (SIP lines end in CRLF)");
      std::size_t line_length = pos - 1 - state.line_start;
      if (line_length == 0) {
        if (state.line_start == 0) return error("empty start line");
        return pos + 1;
      }
      state.line_start = pos + 1;
      continue;
    }
    if (after_cr) return error("bare CR in the header section (SIP lines end in CRLF)");
    if (pos + 1 > limits.max_message_bytes) {
      return error("header section exceeds the " + std::to_string(limits.max_message_bytes) +
                   "-byte message limit");
    }
    if (c == '\r') continue;
    if (is_control(c))
      return error("control character " + describe_byte(c) + " in the header section");
    if (pos == state.line_start && state.line_start != 0 && !is_space(static_cast<char>(c))) {
      if (++state.header_lines > limits.max_headers) {
        return error("more than " + std::to_string(limits.max_headers) + " header fields");
      }
    }
    if (pos - state.line_start + 1 > limits.max_line_bytes) {
      return error("a header line exceeds the " + std::to_string(limits.max_line_bytes) +
                   "-byte line limit");
    }
  }
  return std::size_t{0};
}

mtls::Result<Message> parse_head(std::string_view head, const Limits& limits) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    std::size_t end = head.find("\r\n");
    lines.push_back(head.substr(0, end));
    head = end == std::string_view::npos ? std::string_view() : head.substr(end + 2);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return error("empty message");

  auto start = parse_start_line(lines.front());
  if (!start) return start;
  Message message = std::move(*start);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.size() > limits.max_line_bytes) {
      return error("a header line exceeds the " + std::to_string(limits.max_line_bytes) +
                   "-byte line limit");
    }
    if (is_space(line.front())) {
      // Folded continuation (RFC 3261 7.3.1): joined with one SP.
      if (message.headers.empty()) return error("continuation line before any header");
      std::string& value = message.headers.back().value;
      std::string_view more = tls::trim_blanks(line);
      if (!more.empty()) value += (value.empty() ? "" : " ") + std::string(more);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return error("header line without ':': '" + std::string(line.substr(0, 80)) + "'");
    }
    std::string_view name = tls::trim_blanks(line.substr(0, colon));
    if (!is_token(name)) return error("header name '" + std::string(name) + "' is not a token");
    if (message.headers.size() >= limits.max_headers) {
      return error("more than " + std::to_string(limits.max_headers) + " header fields");
    }
    message.headers.push_back(
        Header{expand_compact_name(name), std::string(tls::trim_blanks(line.substr(colon + 1)))});
  }
  return message;
}

mtls::Result<std::optional<std::size_t>> content_length_of(const Message& head,
                                                           const Limits& limits) {
  std::optional<std::size_t> length;
  for (const std::string& value : head.headers_named("Content-Length")) {
    // 1*DIGIT only: a sign, a space inside or a hex form is refused; a huge
    // number is caught by the limit before it can overflow.
    if (value.empty() || value.size() > 9 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return error("Content-Length '" + value.substr(0, 40) + "' is not a non-negative number" +
                   (value.size() > 9 && !value.empty() ? " within the message limit" : ""));
    }
    std::size_t parsed = 0;
    std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (length && *length != parsed) return error("two different Content-Length values");
    length = parsed;
  }
  if (length && *length > limits.max_message_bytes) {
    return error("Content-Length " + std::to_string(*length) + " exceeds the " +
                 std::to_string(limits.max_message_bytes) + "-byte message limit");
  }
  return length;
}

mtls::Result<Message> parse_message(std::string_view bytes, const Limits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return error("message of " + std::to_string(bytes.size()) + " bytes exceeds the " +
                 std::to_string(limits.max_message_bytes) + "-byte limit");
  }
  HeadScan scan;
  auto head_length = scan_head(bytes, scan, limits);
  if (!head_length) return head_length.error();
  if (*head_length == 0) return error("no blank line ends the header section");
  auto message = parse_head(bytes.substr(0, *head_length), limits);
  if (!message) return message;
  auto length = content_length_of(*message, limits);
  if (!length) return length.error();
  std::string_view rest = bytes.substr(*head_length);
  if (*length) {
    if (rest.size() < **length) {
      return error("body shorter than Content-Length (" + std::to_string(rest.size()) + " of " +
                   std::to_string(**length) + " bytes)");
    }
    if (rest.size() > **length) {
      return error(std::to_string(rest.size() - **length) +
                   " bytes follow the body that Content-Length declares");
    }
  }
  // Without Content-Length the body runs to the end of the bytes, as for a
  // datagram (RFC 3261 18.3); the stream framer decides otherwise.
  message->body = std::string(rest);
  return message;
}

std::string serialize(const Message& message) {
  std::string out;
  if (message.is_request()) {
    out = message.method + " " + message.request_uri + " SIP/2.0\r\n";
  } else {
    out = "SIP/2.0 " + std::to_string(message.status_code) + " " + message.reason + "\r\n";
  }
  for (const Header& h : message.headers) {
    if (header_name_equals(h.name, "Content-Length")) continue;
    // An empty list ("Supported:") is legal and written without trailing space.
    out += h.name + (h.value.empty() ? ":" : ": ") + h.value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(message.body.size()) + "\r\n\r\n";
  out += message.body;
  return out;
}

}  // namespace probe::sip
