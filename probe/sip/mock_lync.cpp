#include "probe/sip/mock_lync.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "probe/sip/builders.hpp"
#include "probe/sip/ms_diagnostics.hpp"
#include "probe/sip/presence_formats.hpp"
#include "tls/text.hpp"

namespace probe::sip {
namespace {

constexpr std::string_view kAllow = "ACK, OPTIONS, SUBSCRIBE";

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A quoted-string for a Warning text: quotes and backslashes dropped rather
// than escaped, so a peer's bytes cannot end the string early.
std::string warning_value(std::string_view reason) {
  std::string text;
  for (char c : reason.substr(0, 200)) {
    if (c != '"' && c != '\\') text += c;
  }
  return "399 " + std::string(kMockLyncServer) + " \"" + text + "\"";
}

Message respond(const Message& request, int code, std::string_view reason,
                std::string_view to_tag = {}) {
  return make_response(request, code, reason, kMockLyncServer, to_tag);
}

Message bad_request(const Message& request, std::string_view why) {
  Message response = respond(request, 400, "Bad Request");
  response.add_header("Warning", warning_value(why));
  return response;
}

// RFC 3261 8.1.1: the headers every request carries (Max-Forwards is not
// required here: a missing one harms nothing on a direct connection).
std::optional<std::string> missing_mandatory_header(const Message& request) {
  for (std::string_view name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
    if (!request.header(name)) return "missing " + std::string(name) + " header";
  }
  std::string cseq = *request.header("CSeq");
  std::size_t space = cseq.find_first_of(" \t");
  std::string_view number = std::string_view(cseq).substr(0, space);
  std::string method =
      space == std::string::npos ? "" : cseq.substr(cseq.find_first_not_of(" \t", space));
  if (number.empty() || number.size() > 10 ||
      !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "CSeq number '" + std::string(number) + "' is not a number";
  }
  if (method != request.method)
    return "CSeq method '" + method + "' differs from " + request.method;
  return std::nullopt;
}

// RFC 3856 6.4: 3600 s unless Expires asks for another time, capped at
// the configured maximum.
mtls::Result<unsigned> subscription_expires(const Message& request, const MockLyncConfig& config) {
  unsigned expires = 3600;
  if (auto asked = request.header("Expires")) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(asked->data(), asked->data() + asked->size(), value);
    if (ec != std::errc() || end != asked->data() + asked->size())
      return mtls::Error{"Expires '" + *asked + "' is not a number of seconds"};
    expires = value;
  }
  return std::min(expires, config.max_subscription_seconds);
}

// The dialog a SUBSCRIBE opens: our To tag, Contact and the granted time.
struct SubscriptionDialog {
  std::string tag;
  std::string contact;
  unsigned expires = 0;
};

SubscriptionDialog open_dialog(const Message& request, const MockLyncConfig& config,
                               unsigned expires) {
  return {header_param(*request.header("To"), "tag").value_or(new_tag()),
          "<sip:mock-lync@" + uri_host(config.local_host) + ";transport=tls>", expires};
}

std::string subscription_state(unsigned expires) {
  return expires > 0 ? "active;expires=" + std::to_string(expires)
                     : std::string("terminated;reason=timeout");
}

Message subscribe_ok(const Message& request, const SubscriptionDialog& dialog) {
  Message ok = respond(request, 200, "OK", dialog.tag);
  ok.add_header("Expires", std::to_string(dialog.expires));
  ok.add_header("Contact", dialog.contact);
  return ok;
}

// The NOTIFY opens the other direction of the dialog (RFC 6665 4.2.2):
// From/To swapped, our tag on From, sent to the subscriber's Contact.
Message dialog_notify(const Message& request, const MockLyncConfig& config,
                      const SubscriptionDialog& dialog, unsigned& notify_cseq) {
  const std::string to = *request.header("To");
  Message notify;
  notify.method = "NOTIFY";
  auto subscriber_contact = request.header("Contact");
  notify.request_uri =
      header_uri(subscriber_contact ? split_header_list(*subscriber_contact).front()
                                    : *request.header("From"));
  notify.add_header("Via", via_value(config.local_host, "TLS"));
  notify.add_header("Max-Forwards", "70");
  notify.add_header("From", header_param(to, "tag") ? to : to + ";tag=" + dialog.tag);
  notify.add_header("To", *request.header("From"));
  notify.add_header("Call-ID", *request.header("Call-ID"));
  notify.add_header("CSeq", std::to_string(notify_cseq++) + " NOTIFY");
  notify.add_header("Contact", dialog.contact);
  notify.add_header("Event", *request.header("Event"));
  notify.add_header("Subscription-State", subscription_state(dialog.expires));
  notify.add_header("User-Agent", kMockLyncServer);
  return notify;
}

bool supports(const Message& request, std::string_view option) {
  for (const std::string& line : request.headers_named("Supported")) {
    for (const std::string& item : split_header_list(line))
      if (tls::iequals(tls::trim_blanks(item), option)) return true;
  }
  return false;
}

// One body part of a multipart/related document (RFC 2387).
std::string mime_part(std::string_view boundary, std::string_view content_id, std::string_view type,
                      std::string_view content) {
  return "--" + std::string(boundary) + "\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <" +
         std::string(content_id) + ">\r\nContent-Type: " + std::string(type) + "\r\n\r\n" +
         std::string(content) + "\r\n";
}

// [MS-PRES] batch subscription: the state of every listed presentity in one
// multipart/related document (RFC 4662 resource list: an rlmi+xml list, then
// a categories document per presentity the pool knows; one it does not know
// is terminated with reason noresource). Sent in the 200 OK when the client
// supports ms-piggyback-first-notify, as a Front End does, else in a NOTIFY.
std::vector<Message> answer_batch_subscribe(const Message& request, const MockLyncConfig& config,
                                            unsigned& notify_cseq) {
  bool accepts_multipart = request.headers_named("Accept").empty();
  for (const std::string& line : request.headers_named("Accept")) {
    for (const std::string& item : split_header_list(line))
      accepts_multipart =
          accepts_multipart ||
          tls::iequals(tls::trim_blanks(item.substr(0, item.find(';'))), "multipart/related");
  }
  if (!accepts_multipart) {
    Message not_acceptable = respond(request, 406, "Not Acceptable");
    not_acceptable.add_header("Accept", "multipart/related, " + std::string(kRlmiType) + ", " +
                                            std::string(kMsrtcCategoriesType));
    return {not_acceptable};
  }
  auto batch = parse_batch_subscription(request.body);
  if (!batch) return {bad_request(request, batch.error().message)};
  auto expires = subscription_expires(request, config);
  if (!expires) return {bad_request(request, expires.error().message)};
  const SubscriptionDialog dialog = open_dialog(request, config, *expires);

  const std::string boundary = "mtlsprobe-" + new_tag();
  const std::string domain = uri_host(config.local_host);
  const std::string list_id = "resourceList." + boundary + "@" + domain;
  std::string list =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
      "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"" +
      xml_escape(request.request_uri) + "\" version=\"1\" fullState=\"true\">\r\n";
  std::string documents;
  for (std::size_t i = 0; i < batch->resources.size(); ++i) {
    const std::string& uri = batch->resources[i];
    const std::string user = uri_user_at_host(uri);
    const std::string id = std::to_string(i + 1);
    list += "  <resource uri=\"" + xml_escape(uri) + "\">";
    auto configured = config.presence.find(user);
    if (configured == config.presence.end()) {
      list += "<instance id=\"" + id + "\" state=\"terminated\" reason=\"noresource\"/>";
    } else {
      const std::string cid = id + "." + boundary + "@" + domain;
      list += "<instance id=\"" + id + "\" state=\"active\" cid=\"" + xml_escape(cid) + "\"/>";
      documents += mime_part(boundary, cid, kMsrtcCategoriesType,
                             categories_document(user, configured->second));
    }
    list += "</resource>\r\n";
  }
  list += "</list>";
  const std::string body =
      mime_part(boundary, list_id, kRlmiType, list) + documents + "--" + boundary + "--\r\n";
  const std::string type = "multipart/related; type=\"" + std::string(kRlmiType) + "\"; start=\"<" +
                           list_id + ">\"; boundary=" + boundary;

  Message ok = subscribe_ok(request, dialog);
  ok.add_header("Require", "eventlist");
  if (supports(request, "ms-piggyback-first-notify")) {
    ok.add_header("Event", *request.header("Event"));
    ok.add_header("Subscription-State", subscription_state(dialog.expires));
    ok.add_header("Content-Type", type);
    ok.body = body;
    return {ok};
  }
  Message notify = dialog_notify(request, config, dialog, notify_cseq);
  notify.add_header("Require", "eventlist");
  notify.add_header("Content-Type", type);
  notify.body = body;
  return {ok, notify};
}

std::vector<Message> answer_subscribe(const Message& request, const MockLyncConfig& config,
                                      unsigned& notify_cseq) {
  auto event = request.header("Event");
  std::string package = event ? event->substr(0, event->find(';')) : std::string();
  while (!package.empty() && (package.back() == ' ' || package.back() == '\t')) package.pop_back();
  if (package != "presence") {
    Message response = respond(request, 489, "Bad Event");
    response.add_header("Allow-Events", "presence");
    return {response};
  }
  if (is_batch_subscription(request)) return answer_batch_subscribe(request, config, notify_cseq);
  std::string user = uri_user_at_host(request.request_uri);
  auto configured = config.presence.find(user);
  if (configured == config.presence.end()) {
    // A Front End says why in ms-diagnostics ([MS-OCER]); 4005 is its
    // answer for an address it has no SIP-enabled user for.
    Message not_found = respond(request, 404, "Not Found");
    not_found.add_header(
        "ms-diagnostics",
        ms_diagnostic_value(4005, "Destination URI either not enabled for SIP or does not exist",
                            config.local_host));
    return {not_found};
  }
  auto format = negotiate_presence_format(request);
  if (!format) {
    Message not_acceptable = respond(request, 406, "Not Acceptable");
    not_acceptable.add_header("Accept",
                              std::string(kMsrtcCategoriesType) + ", " + std::string(kPidfType));
    return {not_acceptable};
  }
  auto expires = subscription_expires(request, config);
  if (!expires) return {bad_request(request, expires.error().message)};
  const SubscriptionDialog dialog = open_dialog(request, config, *expires);
  Message notify = dialog_notify(request, config, dialog, notify_cseq);
  notify.add_header("Content-Type", content_type_of(*format));
  notify.body = *format == PresenceFormat::msrtc_categories
                    ? categories_document(user, configured->second)
                    : presence_document(user, configured->second);
  return {subscribe_ok(request, dialog), notify};
}

}  // namespace

std::string_view to_string(PresenceState state) {
  switch (state) {
    case PresenceState::available:
      return "available";
    case PresenceState::busy:
      return "busy";
    case PresenceState::away:
      return "away";
    case PresenceState::offline:
      return "offline";
  }
  return "offline";
}

mtls::Result<PresenceAssignment> parse_presence_assignment(std::string_view text) {
  std::size_t equals = text.rfind('=');
  if (equals == std::string_view::npos) {
    return mtls::Error{"presence '" + std::string(text) +
                       "' is not user@domain=available|busy|away|offline"};
  }
  std::string_view user = text.substr(0, equals);
  std::string_view state_text = text.substr(equals + 1);
  std::size_t at = user.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == user.size() ||
      user.find_first_of(" \t\r\n<>\";") != std::string_view::npos) {
    return mtls::Error{"presence user '" + std::string(user) + "' is not user@domain"};
  }
  for (PresenceState state : {PresenceState::available, PresenceState::busy, PresenceState::away,
                              PresenceState::offline}) {
    if (state_text == to_string(state)) return PresenceAssignment{uri_user_at_host(user), state};
  }
  return mtls::Error{"presence state '" + std::string(state_text) + "' for " + std::string(user) +
                     " is not one of available, busy, away, offline"};
}

std::string presence_document(std::string_view user, PresenceState state) {
  std::string entity = xml_escape("sip:" + std::string(user));
  std::string basic = state == PresenceState::offline ? "closed" : "open";
  std::string activity;
  if (state == PresenceState::busy) activity = "<rpid:busy/>";
  if (state == PresenceState::away) activity = "<rpid:away/>";
  if (state == PresenceState::offline) activity = "<rpid:unknown/>";
  std::string label(to_string(state));
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
         "          xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\n"
         "          xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\n"
         "          entity=\"" +
         entity +
         "\">\n"
         "  <tuple id=\"mock-lync\">\n"
         "    <status><basic>" +
         basic +
         "</basic></status>\n"
         "    <contact>" +
         entity +
         "</contact>\n"
         "    <note>" +
         label +
         "</note>\n"
         "  </tuple>\n"
         "  <dm:person id=\"person\">\n" +
         (activity.empty() ? "" : "    <rpid:activities>" + activity + "</rpid:activities>\n") +
         "    <dm:note>" + label +
         "</dm:note>\n"
         "  </dm:person>\n"
         "</presence>\n";
}

std::string categories_document(std::string_view user, PresenceState state) {
  // [MS-PRES] 3.7.5.1.1: the middle of each availability range.
  int availability = 3500;
  if (state == PresenceState::busy) availability = 6500;
  if (state == PresenceState::away) availability = 15500;
  if (state == PresenceState::offline) availability = 18500;
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<categories xmlns=\"http://schemas.microsoft.com/2006/09/sip/categories\" uri=\"" +
         xml_escape("sip:" + std::string(user)) +
         "\">\n"
         "  <category name=\"state\" instance=\"0\" container=\"2\" version=\"1\" "
         "expireType=\"static\">\n"
         "    <state xmlns=\"http://schemas.microsoft.com/2006/09/sip/state\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" manual=\"false\" "
         "xsi:type=\"aggregateState\">\n"
         "      <availability>" +
         std::to_string(availability) +
         "</availability>\n"
         "    </state>\n"
         "  </category>\n"
         "</categories>\n";
}

std::vector<Message> respond_to(const Message& message, const MockLyncConfig& config,
                                unsigned& notify_cseq) {
  if (message.is_response()) return {};    // e.g. the 200 to our NOTIFY
  if (message.method == "ACK") return {};  // ACK is never answered (RFC 3261 17.2.1)
  if (auto missing = missing_mandatory_header(message)) return {bad_request(message, *missing)};
  if (message.method == "OPTIONS") {
    Message ok = respond(message, 200, "OK");
    ok.add_header("Allow", kAllow);
    ok.add_header("Allow-Events", "presence");
    ok.add_header("Supported", "");
    ok.add_header("Accept", std::string(kMsrtcCategoriesType) + ", " + std::string(kPidfType));
    return {ok};
  }
  if (message.method == "SUBSCRIBE") return answer_subscribe(message, config, notify_cseq);
  Message response = respond(message, 501, "Not Implemented");
  response.add_header("Allow", kAllow);
  return {response};
}

Message bad_request_for(const ParseError& error) {
  if (error.head && error.head->is_request()) return bad_request(*error.head, error.reason);
  Message response;
  response.kind = Message::Kind::response;
  response.status_code = 400;
  response.reason = "Bad Request";
  response.add_header("Server", kMockLyncServer);
  response.add_header("Warning", warning_value(error.reason));
  return response;
}

MockLyncSession::MockLyncSession(MockLyncConfig config)
    : config_(std::move(config)), parser_(config_.limits) {}

SessionOutput MockLyncSession::feed(std::string_view bytes) {
  SessionOutput out;
  for (StreamEvent& event : parser_.feed(bytes)) {
    if (std::holds_alternative<KeepAlivePing>(event)) {
      out.to_send.emplace_back("\r\n");  // RFC 5626 3.5.1 pong
      out.log.emplace_back("keep-alive CRLFCRLF -> CRLF");
      ++out.keep_alives;
    } else if (auto* error = std::get_if<ParseError>(&event)) {
      out.to_send.push_back(serialize(bad_request_for(*error)));
      out.log.push_back("malformed SIP (" + error->reason + ") -> 400 Bad Request, closing");
      out.close_now = true;
      out.framing_error = error->reason;
    } else {
      const Message& message = std::get<Message>(event);
      std::vector<Message> answers = respond_to(message, config_, notify_cseq_);
      std::string line = start_line_text(message) + " ->";
      if (answers.empty()) line += " no answer";
      ServedRequest served;
      for (const Message& answer : answers) {
        line += " " + start_line_text(answer);
        served.answers += (served.answers.empty() ? "" : " + ") + start_line_text(answer);
        if (answer.is_response() && served.status == 0) served.status = answer.status_code;
        out.to_send.push_back(serialize(answer));
      }
      out.log.push_back(std::move(line));
      if (message.is_request()) {
        served.request = start_line_text(message);
        served.method = message.method;
        out.served.push_back(std::move(served));
      }
    }
  }
  return out;
}

}  // namespace probe::sip
