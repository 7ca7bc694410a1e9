#include <doctest/doctest.h>

#include "tests/support/report_reading.hpp"

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "probe/sip/builders.hpp"
#include "probe/sip/message.hpp"
#include "probe/sip/mock_lync.hpp"
#include "probe/sip/ms_diagnostics.hpp"
#include "probe/sip/presence_formats.hpp"
#include "probe/sip/stream_parser.hpp"

using namespace probe::sip;

namespace {

const std::string kOptions =
    "OPTIONS sip:pool.lync.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS bems.example.com;branch=z9hG4bK776asdhds\r\n"
    "Via: SIP/2.0/TLS proxy.example.com;branch=z9hG4bKproxy1\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:pool.lync.example.com>\r\n"
    "From: \"BEMS\" <sip:bems@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@bems.example.com\r\n"
    "CSeq: 63104 OPTIONS\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

std::string with_body(const std::string& start, const std::string& body) {
  return start +
         "Via: SIP/2.0/TLS h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
         "Call-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::vector<Message> messages_of(const std::vector<StreamEvent>& events) {
  std::vector<Message> out;
  for (const auto& e : events) {
    if (auto* m = std::get_if<Message>(&e)) out.push_back(*m);
  }
  return out;
}

const ParseError* error_of(const std::vector<StreamEvent>& events) {
  for (const auto& e : events) {
    if (auto* p = std::get_if<ParseError>(&e)) return p;
  }
  return nullptr;
}

MockLyncConfig lync_config() {
  MockLyncConfig config;
  config.presence["alice@example.com"] = PresenceState::busy;
  config.presence["bob@example.com"] = PresenceState::offline;
  config.local_host = "lync.example.com";
  return config;
}

Message only_response(const std::vector<Message>& answers) {
  REQUIRE(answers.size() == 1);
  REQUIRE(answers[0].is_response());
  return answers[0];
}

Message parsed(const std::string& bytes) {
  auto message = parse_message(bytes);
  REQUIRE_MESSAGE(message.ok(), (message.ok() ? "" : message.error().message));
  return *message;
}

}  // namespace

// --- message parsing and building ---

TEST_CASE("a request parses into method, URI, headers in order and an empty body") {
  Message m = parsed(kOptions);
  CHECK(m.is_request());
  CHECK(m.method == "OPTIONS");
  CHECK(m.request_uri == "sip:pool.lync.example.com");
  CHECK(m.headers_named("via").size() == 2);
  CHECK(m.header("CALL-ID") == "a84b4c76e66710@bems.example.com");
  CHECK(m.body.empty());
}

TEST_CASE("serialize then parse gives back the same message, body included") {
  Message m = parsed(with_body("MESSAGE sip:a@b SIP/2.0\r\n", "hello\r\nworld"));
  std::string wire = serialize(m);
  Message again = parsed(wire);
  CHECK(again.method == "MESSAGE");
  CHECK(again.body == "hello\r\nworld");
  CHECK(again.headers.size() == m.headers.size());
  CHECK(serialize(again) == wire);
}

TEST_CASE("a response parses into status code and reason, and round-trips") {
  Message m = parsed("SIP/2.0 486 Busy Here\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(m.is_response());
  CHECK(m.status_code == 486);
  CHECK(m.reason == "Busy Here");
  CHECK(start_line_text(m) == "486 Busy Here");
  CHECK(parsed(serialize(m)).reason == "Busy Here");
}

TEST_CASE("compact header names are expanded and names match in any case") {
  Message m = parsed(
      "SUBSCRIBE sip:a@b SIP/2.0\r\nv: SIP/2.0/TLS h;branch=z9hG4bK1\r\nf: <sip:x@y>;tag=9\r\n"
      "t: <sip:a@b>\r\ni: cid\r\nm: <sip:x@h>\r\nk: eventlist\r\nc: text/plain\r\ns: hi\r\n"
      "e: gzip\r\no: presence\r\nl: 0\r\n\r\n");
  CHECK(m.headers[0].name == "Via");
  CHECK(m.header("Call-ID") == "cid");
  CHECK(m.header("i") == "cid");
  CHECK(m.header("contact") == "<sip:x@h>");
  CHECK(m.header("Supported") == "eventlist");
  CHECK(m.header("Content-Type") == "text/plain");
  CHECK(m.header("Subject") == "hi");
  CHECK(m.header("Content-Encoding") == "gzip");
  CHECK(m.header("Event") == "presence");
  CHECK(m.header("Content-Length") == "0");
}

TEST_CASE("folded header lines are joined and comma lists split outside quotes and brackets") {
  Message m = parsed(
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h1;branch=z9hG4bK1,\r\n SIP/2.0/TLS "
      "h2;branch=z9hG4bK2\r\nContact: \"A, B\" <sip:a@x;p=1,2>, <sip:c@y>\r\n\r\n");
  auto vias = split_header_list(*m.header("Via"));
  REQUIRE(vias.size() == 2);
  CHECK(header_param(vias[1], "branch") == "z9hG4bK2");
  auto contacts = split_header_list(*m.header("Contact"));
  REQUIRE(contacts.size() == 2);
  CHECK(header_uri(contacts[0]) == "sip:a@x;p=1,2");
}

TEST_CASE("header parameters skip URI parameters inside angle brackets") {
  CHECK(header_param("<sip:a@b;tag=uri>;tag=hdr", "tag") == "hdr");
  CHECK_FALSE(header_param("<sip:a@b;tag=uri>", "tag").has_value());
  CHECK(header_param("sip:a@b;tag=x", "TAG") == "x");
  CHECK(uri_user_at_host("sips:Alice@Example.COM:5061;transport=tls") == "alice@example.com");
  CHECK(uri_host("::1") == "[::1]");
  CHECK(uri_host("127.0.0.1") == "127.0.0.1");
}

TEST_CASE("a message over 64 KiB is refused") {
  std::string big = with_body("MESSAGE sip:a@b SIP/2.0\r\n", std::string(70 * 1024, 'x'));
  auto m = parse_message(big);
  REQUIRE_FALSE(m.ok());
  CHECK(testing::mentions(m.error().message, "65536"));
}

TEST_CASE("more than 100 header fields are refused") {
  std::string head = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 101; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
  auto m = parse_message(head + "\r\n");
  REQUIRE_FALSE(m.ok());
  CHECK(testing::mentions(m.error().message, "100 header fields"));
  std::string ok = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 100; ++i) ok += "X-H" + std::to_string(i) + ": v\r\n";
  CHECK(parse_message(ok + "\r\n").ok());
}

TEST_CASE("a header line over 8 KiB is refused") {
  auto m = parse_message("OPTIONS sip:a@b SIP/2.0\r\nX: " + std::string(8200, 'a') + "\r\n\r\n");
  REQUIRE_FALSE(m.ok());
  CHECK(testing::mentions(m.error().message, "line limit"));
}

TEST_CASE("Content-Length must be a plain non-negative number that matches the body") {
  for (std::string bad : {"-1", "abc", "+5", "0x10", "1 2", "", "99999999999999999999"}) {
    auto m = parse_message("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: " + bad + "\r\n\r\n");
    REQUIRE_FALSE(m.ok());
    CHECK(testing::mentions(m.error().message, "Content-Length"));
  }
  auto shorter = parse_message("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc");
  REQUIRE_FALSE(shorter.ok());
  CHECK(testing::mentions(shorter.error().message, "shorter"));
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab").ok());
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\n\r\nab").ok());
}

TEST_CASE("bare LF, bare CR, control characters and bad start lines are refused") {
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\nTo: x\n\n").ok());
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\rTo: x\r\n\r\n").ok());
  CHECK_FALSE(
      parse_message(std::string("OPTIONS sip:a@b SIP/2.0\r\nTo: a") + '\0' + "b\r\n\r\n").ok());
  CHECK_FALSE(parse_message("OPTIONS  sip:a@b SIP/2.0\r\n\r\n").ok());
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/3.0\r\n\r\n").ok());
  CHECK_FALSE(parse_message("SIP/2.0 2000 OK\r\n\r\n").ok());
  CHECK_FALSE(parse_message("OPT{IONS sip:a@b SIP/2.0\r\n\r\n").ok());
  CHECK_FALSE(parse_message("OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n").ok());
}

TEST_CASE("building a header with CR or LF is a programmer error") {
  Message m;
  CHECK_THROWS_AS(m.add_header("X", "a\r\nInjected: yes"), std::invalid_argument);
}

// --- stream framing ---

TEST_CASE("a message fed one byte at a time comes out once, complete") {
  std::string wire = with_body("MESSAGE sip:a@b SIP/2.0\r\n", "body bytes");
  StreamParser parser;
  std::vector<Message> got;
  for (char c : wire) {
    auto more = messages_of(parser.feed(std::string_view(&c, 1)));
    got.insert(got.end(), more.begin(), more.end());
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "body bytes");
  CHECK(parser.buffered_bytes() == 0);
}

TEST_CASE("pipelined requests in one feed come out in order") {
  std::string wire = kOptions + with_body("MESSAGE sip:a@b SIP/2.0\r\n", "xyz") + kOptions;
  StreamParser parser;
  auto got = messages_of(parser.feed(wire));
  REQUIRE(got.size() == 3);
  CHECK(got[0].method == "OPTIONS");
  CHECK(got[1].body == "xyz");
  CHECK(got[2].method == "OPTIONS");
}

TEST_CASE("a body shorter than Content-Length waits for the rest across feeds") {
  std::string wire = with_body("MESSAGE sip:a@b SIP/2.0\r\n", "0123456789");
  StreamParser parser;
  CHECK(parser.feed(wire.substr(0, wire.size() - 4)).empty());
  CHECK(parser.buffered_bytes() == wire.size() - 4);
  auto got = messages_of(parser.feed(wire.substr(wire.size() - 4)));
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "0123456789");
}

TEST_CASE("CRLFCRLF between messages is a keep-alive ping; a single CRLF is ignored") {
  StreamParser parser;
  auto events = parser.feed("\r\n\r\n" + kOptions + "\r\n" + kOptions);
  REQUIRE(events.size() == 3);
  CHECK(std::holds_alternative<KeepAlivePing>(events[0]));
  CHECK(std::holds_alternative<Message>(events[1]));
  CHECK(std::holds_alternative<Message>(events[2]));
  // Split across feeds.
  CHECK(parser.feed("\r").empty());
  CHECK(parser.feed("\n\r").empty());
  auto ping = parser.feed("\n");
  REQUIRE(ping.size() == 1);
  CHECK(std::holds_alternative<KeepAlivePing>(ping[0]));
}

TEST_CASE("a bad Content-Length in a stream is a ParseError that keeps the head to answer") {
  StreamParser parser;
  std::string wire = kOptions;
  wire.replace(wire.find("Content-Length: 0"), 17, "Content-Length: -4");
  auto events = parser.feed(wire);
  const ParseError* error = error_of(events);
  REQUIRE(error != nullptr);
  CHECK(testing::mentions(error->reason, "Content-Length"));
  REQUIRE(error->head.has_value());
  CHECK(parser.failed());
  CHECK(parser.feed(kOptions).empty());  // nothing after framing is lost
}

TEST_CASE("a stream message whose Content-Length exceeds the limit fails before the body") {
  StreamParser parser;
  auto events = parser.feed("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 65530\r\n\r\n");
  const ParseError* error = error_of(events);
  REQUIRE(error != nullptr);
  CHECK(testing::mentions(error->reason, "limit"));
}

TEST_CASE("an endless header line fails at the line limit, not at end of input") {
  StreamParser parser;
  std::vector<StreamEvent> events = parser.feed("OPTIONS sip:a@b SIP/2.0\r\nX: ");
  std::string chunk(1000, 'a');
  for (int i = 0; i < 20 && error_of(events) == nullptr; ++i) {
    events = parser.feed(chunk);
    CHECK(parser.buffered_bytes() <= 9 * 1024);
  }
  REQUIRE(error_of(events) != nullptr);
  CHECK(testing::mentions(error_of(events)->reason, "line limit"));
}

TEST_CASE("a body sent without Content-Length fails as the next message, with a hint") {
  StreamParser parser;
  auto events = parser.feed("MESSAGE sip:a@b SIP/2.0\r\nCall-ID: 1\r\n\r\nthis is a body\r\n\r\n");
  REQUIRE(messages_of(events).size() == 1);
  CHECK(messages_of(events)[0].body.empty());
  REQUIRE(error_of(events) != nullptr);
  CHECK(testing::mentions(error_of(events)->reason, "no Content-Length"));
}

TEST_CASE("random bytes and mutated messages never crash the framer nor grow its buffer") {
  std::mt19937 random(20240601);  // fixed seed: a failure can be replayed
  Limits limits;
  std::size_t errors = 0;
  std::size_t messages = 0;
  for (int round = 0; round < 10000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      std::size_t length = random() % 600;
      for (std::size_t i = 0; i < length; ++i) input.push_back(static_cast<char>(random() % 256));
    } else {
      input = kOptions + with_body("MESSAGE sip:a@b SIP/2.0\r\n", "payload");
      int mutations = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < mutations; ++i) {
        std::size_t at = random() % input.size();
        switch (random() % 4) {
          case 0:
            input[at] = static_cast<char>(random() % 256);
            break;
          case 1:
            input.erase(at, 1 + random() % 10);
            break;
          case 2:
            input.insert(at, std::string(1 + random() % 20, "\r\n:; 0a"[random() % 7]));
            break;
          case 3:
            input.insert(at, input.substr(0, std::min<std::size_t>(input.size(), 200)));
            break;
        }
        if (input.empty()) input = "x";
      }
    }
    StreamParser parser(limits);
    std::size_t position = 0;
    while (position < input.size()) {
      std::size_t take = 1 + random() % 64;
      auto events = parser.feed(std::string_view(input).substr(position, take));
      position += take;
      CHECK(parser.buffered_bytes() <= limits.max_message_bytes);
      for (const auto& e : events) {
        if (std::holds_alternative<ParseError>(e)) ++errors;
        if (auto* m = std::get_if<Message>(&e)) {
          ++messages;
          // Whatever was accepted must survive a round trip.
          CHECK(parse_message(serialize(*m)).ok());
        }
      }
    }
    auto whole = parse_message(input);
    if (!whole.ok()) CHECK_FALSE(whole.error().message.empty());  // every refusal says why
  }
  CHECK(errors > 0);
  CHECK(messages > 0);
}

TEST_CASE("one huge feed is taken in bounded pieces and refused") {
  StreamParser parser;
  std::string flood(1 << 20, 'A');
  auto events = parser.feed(flood);
  REQUIRE(error_of(events) != nullptr);
  CHECK(parser.buffered_bytes() == 0);
}

// --- client builders ---

TEST_CASE("an OPTIONS request has a magic-cookie branch, tag, Call-ID, CSeq and Max-Forwards") {
  Message a = build_options_request("sip:pool.example.com", "sip:bems@example.com", "::1");
  Message b = build_options_request("sip:pool.example.com", "sip:bems@example.com", "::1");
  Message m = parsed(serialize(a));
  CHECK(m.method == "OPTIONS");
  CHECK(m.header("Max-Forwards") == "70");
  CHECK(m.header("CSeq") == "1 OPTIONS");
  CHECK(m.header("Via")->starts_with("SIP/2.0/TLS [::1];branch=z9hG4bK"));
  CHECK(header_param(*m.header("Via"), "branch")->size() > 7 + 8);
  CHECK(header_param(*m.header("From"), "tag").has_value());
  CHECK_FALSE(header_param(*m.header("To"), "tag").has_value());
  CHECK(a.header("Call-ID") != b.header("Call-ID"));
  CHECK(header_param(*a.header("Via"), "branch") != header_param(*b.header("Via"), "branch"));
}

TEST_CASE("a presence SUBSCRIBE names the presentity, the event and a contact") {
  Message m = build_subscribe_presence("sip:alice@example.com", "sip:bems@example.com",
                                       "bems.example.com", 600);
  CHECK(m.method == "SUBSCRIBE");
  CHECK(m.request_uri == "sip:alice@example.com");
  CHECK(m.header("Event") == "presence");
  CHECK(m.header("Expires") == "600");
  CHECK(m.header("Contact") == "<sip:mtlsprobe@bems.example.com;transport=tls>");
  CHECK(m.header("CSeq") == "1 SUBSCRIBE");
}

// --- the mock Lync responder ---

TEST_CASE("OPTIONS is answered 200 with Via, From, Call-ID, CSeq echoed and a To tag added") {
  unsigned cseq = 1;
  Message request = parsed(kOptions);
  Message ok = only_response(respond_to(request, lync_config(), cseq));
  CHECK(ok.status_code == 200);
  CHECK(ok.headers_named("Via") == request.headers_named("Via"));
  CHECK(ok.header("From") == request.header("From"));
  CHECK(ok.header("Call-ID") == request.header("Call-ID"));
  CHECK(ok.header("CSeq") == request.header("CSeq"));
  CHECK(ok.header("To")->starts_with(*request.header("To") + ";tag="));
  CHECK(ok.header("Allow").has_value());
  CHECK(ok.header("Supported").has_value());
  CHECK(ok.header("Accept").has_value());
  CHECK(ok.header("Server") == "mtlsprobe-mock-lync");
  CHECK(testing::mentions(serialize(ok), "Content-Length: 0\r\n"));
  CHECK(answers(ok, request));
}

TEST_CASE("our own OPTIONS request is answered and the answer matches it") {
  unsigned cseq = 1;
  Message request = build_options_request("sip:lync.example.com", "sip:bems@example.com", "b");
  Message ok =
      parsed(serialize(only_response(respond_to(parsed(serialize(request)), lync_config(), cseq))));
  CHECK(ok.status_code == 200);
  CHECK(answers(ok, request));
  CHECK(is_final_response(ok));
}

TEST_CASE("a presence SUBSCRIBE for a configured user gets 200 then a NOTIFY with PIDF") {
  unsigned cseq = 1;
  Message subscribe = build_subscribe_presence("sip:Alice@example.com", "sip:bems@example.com",
                                               "bems.example.com", 7200);
  auto out = respond_to(subscribe, lync_config(), cseq);
  REQUIRE(out.size() == 2);
  const Message& ok = out[0];
  const Message& notify = out[1];
  CHECK(ok.status_code == 200);
  CHECK(ok.header("Expires") == "3600");  // capped at max_subscription_seconds
  CHECK(ok.header("Contact").has_value());
  REQUIRE(notify.is_request());
  CHECK(notify.method == "NOTIFY");
  CHECK(notify.request_uri == "sip:mtlsprobe@bems.example.com;transport=tls");
  CHECK(notify.header("Call-ID") == subscribe.header("Call-ID"));
  CHECK(header_param(*notify.header("From"), "tag") == header_param(*ok.header("To"), "tag"));
  CHECK(notify.header("To") == subscribe.header("From"));
  CHECK(notify.header("Event") == "presence");
  CHECK(notify.header("Subscription-State") == "active;expires=3600");
  CHECK(notify.header("Content-Type") == "application/pidf+xml");
  CHECK(testing::mentions(notify.body, "entity=\"sip:alice@example.com\""));
  CHECK(testing::mentions(notify.body, "<basic>open</basic>"));
  CHECK(testing::mentions(notify.body, "<rpid:busy/>"));
  CHECK(testing::mentions(notify.body, "busy</dm:note>"));
  CHECK(parsed(serialize(notify)).body == notify.body);
  CHECK(cseq == 2);
}

TEST_CASE("an offline user's NOTIFY says closed") {
  unsigned cseq = 1;
  auto out = respond_to(build_subscribe_presence("sip:bob@example.com", "sip:x@y", "h"),
                        lync_config(), cseq);
  REQUIRE(out.size() == 2);
  CHECK(testing::mentions(out[1].body, "<basic>closed</basic>"));
}

namespace {

std::string nested(int levels, const std::string& inner = "open") {
  std::string xml;
  for (int i = 0; i < levels; ++i) xml += "<a>";
  xml += inner;
  for (int i = 0; i < levels; ++i) xml += "</a>";
  return xml;
}

}  // namespace

TEST_CASE("a PIDF NOTIFY nested 9,000 levels deep is refused before the XML parser recurses") {
  // Issue 16 item 6: it fits in 64 KiB and overflowed the stack.
  Message notify;
  notify.method = "NOTIFY";
  notify.set_header("Content-Type", "application/pidf+xml");
  notify.body = "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\">" + nested(9000) + "</presence>";
  CHECK(notify.body.size() < 64 * 1024);
  CHECK_FALSE(notify_presence_state(notify).has_value());
  notify.set_header("Content-Type", std::string(kMsrtcCategoriesType));
  CHECK_FALSE(notify_presence_state(notify).has_value());
}

TEST_CASE("markup hidden in comments, CDATA or attributes cannot lower the XML depth count") {
  CHECK(xml_depth_within(nested(32)));
  CHECK_FALSE(xml_depth_within(nested(33)));
  std::string closers;
  for (int i = 0; i < 100; ++i) closers += "</a>";
  CHECK_FALSE(xml_depth_within("<!--" + closers + "-->" + nested(40)));
  CHECK_FALSE(xml_depth_within("<![CDATA[" + closers + "]]>" + nested(40)));
  CHECK_FALSE(xml_depth_within(closers + nested(40)));
  CHECK_FALSE(xml_depth_within("<x y=\">\"/>" + nested(40)));
  CHECK(xml_depth_within("<?xml version=\"1.0\"?><!DOCTYPE x><a b='>'><c/></a>"));
}

TEST_CASE("SUBSCRIBE for an unknown presentity is 404, for another event 489") {
  unsigned cseq = 1;
  auto unknown = build_subscribe_presence("sip:carol@example.com", "sip:x@y", "h");
  CHECK(only_response(respond_to(unknown, lync_config(), cseq)).status_code == 404);
  auto dialog = build_subscribe_presence("sip:alice@example.com", "sip:x@y", "h");
  dialog.set_header("Event", "dialog");
  Message bad_event = only_response(respond_to(dialog, lync_config(), cseq));
  CHECK(bad_event.status_code == 489);
  CHECK(bad_event.header("Allow-Events") == "presence");
}

TEST_CASE("INVITE and MESSAGE get 501, ACK and responses get nothing") {
  unsigned cseq = 1;
  Message invite = parsed(kOptions);
  invite.method = "INVITE";
  invite.set_header("CSeq", "1 INVITE");
  CHECK(only_response(respond_to(invite, lync_config(), cseq)).status_code == 501);
  Message message = parsed(with_body("MESSAGE sip:a@b SIP/2.0\r\n", "hi"));
  CHECK(only_response(respond_to(message, lync_config(), cseq)).status_code == 501);
  Message ack = invite;
  ack.method = "ACK";
  ack.set_header("CSeq", "1 ACK");
  CHECK(respond_to(ack, lync_config(), cseq).empty());
  CHECK(respond_to(parsed("SIP/2.0 200 OK\r\n\r\n"), lync_config(), cseq).empty());
}

TEST_CASE("a request missing Call-ID or with a mismatched CSeq gets 400 naming why") {
  unsigned cseq = 1;
  Message request = parsed(kOptions);
  request.remove_header("Call-ID");
  Message bad = only_response(respond_to(request, lync_config(), cseq));
  CHECK(bad.status_code == 400);
  CHECK(testing::mentions(*bad.header("Warning"), "Call-ID"));
  Message mismatched = parsed(kOptions);
  mismatched.set_header("CSeq", "1 INVITE");
  CHECK(only_response(respond_to(mismatched, lync_config(), cseq)).status_code == 400);
}

TEST_CASE("a session answers pings, pipelined requests, and closes after malformed bytes") {
  MockLyncSession session(lync_config());
  SessionOutput out = session.feed("\r\n\r\n" + kOptions + kOptions);
  REQUIRE(out.to_send.size() == 3);
  CHECK(out.to_send[0] == "\r\n");
  CHECK(out.to_send[1].starts_with("SIP/2.0 200 OK\r\n"));
  CHECK_FALSE(out.close_now);
  CHECK(out.log.size() == 3);

  SessionOutput bad = session.feed("GARBAGE\r\n\r\n");
  REQUIRE(bad.to_send.size() == 1);
  CHECK(bad.to_send[0].starts_with("SIP/2.0 400 Bad Request\r\n"));
  CHECK(testing::mentions(bad.to_send[0], "Warning: 399 mtlsprobe-mock-lync"));
  CHECK(bad.close_now);
  CHECK(session.closed());
  CHECK(session.feed(kOptions).to_send.empty());
}

TEST_CASE("a session's 400 for a bad Content-Length echoes the request's headers") {
  MockLyncSession session(lync_config());
  std::string wire = kOptions;
  wire.replace(wire.find("Content-Length: 0"), 17, "Content-Length: abc");
  SessionOutput out = session.feed(wire);
  REQUIRE(out.to_send.size() == 1);
  Message response = parsed(out.to_send[0]);
  CHECK(response.status_code == 400);
  CHECK(response.header("Call-ID") == "a84b4c76e66710@bems.example.com");
  CHECK(out.close_now);
}

TEST_CASE("presence assignments parse, and bad ones say what is wrong") {
  auto ok = parse_presence_assignment("Alice@Example.com=away");
  REQUIRE(ok.ok());
  CHECK(ok->user == "alice@example.com");
  CHECK(ok->state == PresenceState::away);
  CHECK(testing::mentions(parse_presence_assignment("alice@example.com=sleepy").error().message,
                          "sleepy"));
  CHECK_FALSE(parse_presence_assignment("alice=busy").ok());
  CHECK_FALSE(parse_presence_assignment("alice@example.com").ok());
}

TEST_CASE("the mock answers a SUBSCRIBE in the format its Accept asks for first") {
  struct Case {
    const char* accept;  // nullptr: no Accept header
    int status;
    const char* content_type;
    const char* in_body;
  };
  const Case cases[] = {
      {"application/msrtc-event-categories+xml, application/pidf+xml", 200,
       "application/msrtc-event-categories+xml", "<availability>6500</availability>"},
      {"application/pidf+xml, application/msrtc-event-categories+xml", 200, "application/pidf+xml",
       "<rpid:busy/>"},
      {"Application/MSRTC-Event-Categories+XML;q=1", 200, "application/msrtc-event-categories+xml",
       "xsi:type=\"aggregateState\""},
      {nullptr, 200, "application/pidf+xml", "<basic>open</basic>"},  // RFC 3856 default
      {"application/xpidf+xml", 406, nullptr, nullptr},
  };
  for (const Case& c : cases) {
    CAPTURE((c.accept ? c.accept : "(none)"));
    unsigned cseq = 1;
    Message subscribe =
        build_subscribe_presence("sip:alice@example.com", "sip:bems@example.com", "h");
    if (c.accept)
      subscribe.set_header("Accept", c.accept);
    else
      subscribe.remove_header("Accept");
    auto out = respond_to(parsed(serialize(subscribe)), lync_config(), cseq);
    REQUIRE(!out.empty());
    CHECK(out[0].status_code == c.status);
    if (c.status != 200) {
      CHECK(out.size() == 1);
      CHECK(testing::mentions(out[0].header("Accept").value_or(""), "msrtc-event-categories"));
      continue;
    }
    REQUIRE(out.size() == 2);
    CHECK(out[1].header("Content-Type") == std::string(c.content_type));
    CHECK(testing::mentions(out[1].body, c.in_body));
    CHECK(probe::sip::notify_presence_state(parsed(serialize(out[1]))) == std::string("busy"));
  }
}

TEST_CASE("SUBSCRIBE for an unknown user gets 404 with ms-diagnostics 4005, as a Front End") {
  unsigned cseq = 1;
  Message not_found = only_response(respond_to(
      build_subscribe_presence("sip:carol@example.com", "sip:x@y", "h"), lync_config(), cseq));
  CHECK(not_found.status_code == 404);
  auto diagnostics = probe::sip::ms_diagnostics_of(parsed(serialize(not_found)));
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].error_id == 4005);
  CHECK(diagnostics[0].reason == "Destination URI either not enabled for SIP or does not exist");
  CHECK_FALSE(diagnostics[0].source.empty());
}

namespace {

// [MS-PRES] 2.2.2.4.1: a Lync client's batch subscription (trimmed).
Message batch_subscribe(const std::string& resources, bool piggyback) {
  Message subscribe =
      build_subscribe_presence("sip:bems@example.com", "sip:bems@example.com", "bems.example.com");
  subscribe.set_header("Accept",
                       "application/msrtc-event-categories+xml, application/rlmi+xml, "
                       "multipart/related");
  subscribe.set_header("Require", "adhoclist, categoryList");
  subscribe.set_header("Supported",
                       piggyback ? "eventlist, ms-piggyback-first-notify" : "eventlist");
  subscribe.set_header("Content-Type", "application/msrtc-adrl-categorylist+xml");
  subscribe.body =
      "<batchSub xmlns=\"http://schemas.microsoft.com/2006/01/sip/batch-subscribe\" "
      "uri=\"sip:bems@example.com\" name=\"\"><action name=\"subscribe\" id=\"63792024\">"
      "<adhocList>" +
      resources +
      "</adhocList><categoryList xmlns=\"http://schemas.microsoft.com/2006/09/sip/categorylist\">"
      "<category name=\"state\"/><category name=\"note\"/></categoryList></action></batchSub>";
  return parsed(serialize(subscribe));
}

// The parts of a multipart/related body, split on its boundary: test-side
// only, to look at what the mock wrote.
std::vector<std::string> parts_of(const Message& message) {
  std::string type = message.header("Content-Type").value_or("");
  std::string boundary = type.substr(type.find("boundary=") + 9);
  std::vector<std::string> parts;
  std::string delimiter = "--" + boundary;
  std::size_t at = message.body.find(delimiter);
  while (at != std::string::npos) {
    std::size_t start = at + delimiter.size();
    if (message.body.compare(start, 2, "--") == 0) break;
    std::size_t next = message.body.find("\r\n" + delimiter, start);
    if (next == std::string::npos) break;
    parts.push_back(message.body.substr(start + 2, next - start - 2));
    at = next + 2;
  }
  return parts;
}

std::string part_body(const std::string& part) { return part.substr(part.find("\r\n\r\n") + 4); }

}  // namespace

TEST_CASE("a batch subscription gets every presentity's state in one multipart answer") {
  const std::string resources =
      "<resource uri=\"sip:alice@example.com\"/><resource uri=\"sip:Bob@example.com\"/>"
      "<resource uri=\"sip:carol@example.com\"/>";
  for (bool piggyback : {true, false}) {
    CAPTURE(piggyback);
    unsigned cseq = 1;
    Message subscribe = batch_subscribe(resources, piggyback);
    auto out = respond_to(subscribe, lync_config(), cseq);
    REQUIRE(out.size() == (piggyback ? 1u : 2u));
    CHECK(out[0].status_code == 200);
    CHECK(answers(out[0], subscribe));
    CHECK(out[0].header("Require") == "eventlist");
    // The first state rides on the 200 OK when the client supports it, as a
    // Front End sends it; otherwise it is the NOTIFY's.
    Message carrier = parsed(serialize(out.back()));
    if (!piggyback) {
      CHECK(carrier.method == "NOTIFY");
      CHECK(carrier.header("Subscription-State") == "active;expires=3600");
    }
    std::string type = carrier.header("Content-Type").value_or("");
    CHECK(type.starts_with("multipart/related; type=\"application/rlmi+xml\"; start=\"<"));
    auto parts = parts_of(carrier);
    REQUIRE(parts.size() == 3);  // the list, alice, bob; carol is unknown
    CHECK(testing::mentions(parts[0], "Content-Type: application/rlmi+xml"));
    const std::string list = part_body(parts[0]);
    CHECK(testing::mentions(list, "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\""));
    CHECK(testing::mentions(list, "fullState=\"true\""));
    CHECK(testing::mentions(list,
                            "<resource uri=\"sip:carol@example.com\"><instance id=\"3\" "
                            "state=\"terminated\" reason=\"noresource\"/>"));
    // Each known presentity's document is the part its instance's cid names.
    const std::pair<const char*, const char*> known[] = {{"1", "busy"}, {"2", "offline"}};
    for (std::size_t i = 0; i < 2; ++i) {
      std::string cid_at =
          "<instance id=\"" + std::string(known[i].first) + "\" state=\"active\" cid=\"";
      std::size_t at = list.find(cid_at);
      REQUIRE(at != std::string::npos);
      std::string cid =
          list.substr(at + cid_at.size(), list.find('"', at + cid_at.size()) - at - cid_at.size());
      CHECK(testing::mentions(parts[i + 1], "Content-ID: <" + cid + ">"));
      CHECK(
          testing::mentions(parts[i + 1], "Content-Type: application/msrtc-event-categories+xml"));
      CHECK(categories_state_of(part_body(parts[i + 1])) == std::string(known[i].second));
    }
  }
}

TEST_CASE("a malformed, empty or oversized batch subscription is 400 with the reason") {
  std::string many;
  for (std::size_t i = 0; i <= kMaxBatchResources; ++i)
    many += "<resource uri=\"sip:u" + std::to_string(i) + "@example.com\"/>";
  const std::pair<std::string, const char*> cases[] = {
      {"", "names no resource"},
      {"<resource/>", "has no uri"},
      {many, "more than 100 resources"},
  };
  for (const auto& [resources, reason] : cases) {
    CAPTURE(reason);
    unsigned cseq = 1;
    Message bad = only_response(respond_to(batch_subscribe(resources, true), lync_config(), cseq));
    CHECK(bad.status_code == 400);
    CHECK(testing::mentions(bad.header("Warning").value_or(""), reason));
  }
  unsigned cseq = 1;
  Message subscribe = batch_subscribe("<resource uri=\"sip:alice@example.com\"/>", true);
  subscribe.body = "<batchSub><action>" + nested(40) + "</action></batchSub>";
  Message bad = only_response(respond_to(subscribe, lync_config(), cseq));
  CHECK(bad.status_code == 400);
  CHECK(testing::mentions(bad.header("Warning").value_or(""), "not XML"));
  subscribe.set_header("Accept", "application/msrtc-event-categories+xml");
  Message refused = only_response(respond_to(subscribe, lync_config(), cseq));
  CHECK(refused.status_code == 406);
  CHECK(testing::mentions(refused.header("Accept").value_or(""), "multipart/related"));
}
