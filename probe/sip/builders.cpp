#include "probe/sip/builders.hpp"

#include "tls/random.hpp"

namespace probe::sip {
namespace {

// The RFC 3261 magic cookie marks a branch as globally unique (8.1.1.7).
constexpr std::string_view kBranchCookie = "z9hG4bK";

std::string name_addr(std::string_view uri) { return "<" + std::string(uri) + ">"; }

Message new_request(std::string_view method, std::string_view target_uri, std::string_view from_uri,
                    std::string_view via_host, std::string_view transport) {
  Message request;
  request.kind = Message::Kind::request;
  request.method = std::string(method);
  request.request_uri = std::string(target_uri);
  request.add_header("Via", via_value(via_host, transport));
  request.add_header("Max-Forwards", "70");
  request.add_header("From", name_addr(from_uri) + ";tag=" + new_tag());
  request.add_header("To", name_addr(target_uri));
  request.add_header("Call-ID", new_call_id());
  request.add_header("CSeq", "1 " + std::string(method));
  request.add_header("User-Agent", "mtlsprobe");
  return request;
}

}  // namespace

std::string new_branch() { return std::string(kBranchCookie) + tls::random_hex(8); }
std::string new_tag() { return tls::random_hex(8); }
std::string new_call_id() { return tls::random_hex(16); }

std::string via_value(std::string_view host, std::string_view transport) {
  return "SIP/2.0/" + std::string(transport) + " " + uri_host(host) + ";branch=" + new_branch();
}

Message build_options_request(std::string_view target_uri, std::string_view from_uri,
                              std::string_view via_host, std::string_view transport) {
  Message request = new_request("OPTIONS", target_uri, from_uri, via_host, transport);
  request.add_header("Accept", "application/sdp");
  return request;
}

Message build_subscribe_presence(std::string_view presentity_uri, std::string_view from_uri,
                                 std::string_view via_host, unsigned expires_seconds,
                                 std::string_view transport) {
  Message request = new_request("SUBSCRIBE", presentity_uri, from_uri, via_host, transport);
  request.add_header("Contact", "<sip:mtlsprobe@" + uri_host(via_host) + ";transport=" +
                                    std::string(transport == "TLS" ? "tls" : transport) + ">");
  request.add_header("Event", "presence");
  request.add_header("Accept", "application/pidf+xml");
  request.add_header("Expires", std::to_string(expires_seconds));
  return request;
}

Message make_response(const Message& request, int status_code, std::string_view reason,
                      std::string_view server, std::string_view to_tag) {
  Message response;
  response.kind = Message::Kind::response;
  response.status_code = status_code;
  response.reason = std::string(reason);
  for (const std::string& via : request.headers_named("Via")) response.add_header("Via", via);
  if (auto from = request.header("From")) response.add_header("From", *from);
  if (auto to = request.header("To")) {
    // 8.2.6.2: the UAS adds a tag to To unless the request had one already.
    bool tagged = header_param(*to, "tag").has_value();
    response.add_header(
        "To", tagged ? *to : *to + ";tag=" + (to_tag.empty() ? new_tag() : std::string(to_tag)));
  }
  if (auto call_id = request.header("Call-ID")) response.add_header("Call-ID", *call_id);
  if (auto cseq = request.header("CSeq")) response.add_header("CSeq", *cseq);
  if (!server.empty()) response.add_header("Server", server);
  return response;
}

std::string start_line_text(const Message& message) {
  if (message.is_request()) return message.method + " " + message.request_uri;
  return std::to_string(message.status_code) + " " + message.reason;
}

bool is_final_response(const Message& message) {
  return message.is_response() && message.status_code >= 200;
}

bool answers(const Message& response, const Message& request) {
  if (!response.is_response() || !request.is_request()) return false;
  auto branch = [](const Message& m) -> std::optional<std::string> {
    auto via = m.header("Via");
    if (!via) return std::nullopt;
    auto items = split_header_list(*via);
    if (items.empty()) return std::nullopt;
    return header_param(items.front(), "branch");
  };
  return response.header("Call-ID") == request.header("Call-ID") &&
         response.header("CSeq") == request.header("CSeq") && branch(response).has_value() &&
         branch(response) == branch(request);
}

}  // namespace probe::sip
