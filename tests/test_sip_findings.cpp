// The pure parts of SIP over MTLS: which client certificates the mock's
// trusted-application check lets in, how a PIDF body reads, and how each way
// an exchange can end becomes sip.options / sip.presence.
#include <doctest/doctest.h>

#include "probe/diagnosis/sip_findings.hpp"
#include "probe/sip/mock_lync.hpp"
#include "probe/sip/ms_diagnostics.hpp"
#include "probe/sip/presence_formats.hpp"
#include "probe/sip/server_session.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/test_pki.hpp"

namespace {

// A self-signed certificate with these names.
tls::Certificate leaf(const std::string& cn, std::vector<std::string> dns) {
  static testing::TestPki pki;
  static int issued = 0;
  tls::CertificateSpec spec;
  spec.common_name = cn;
  spec.dns_names = std::move(dns);
  const std::string name = "leaf" + std::to_string(++issued);
  pki.issue(name, spec, "");
  return pki.certificate(name);
}

tls::HandshakeRecord client_record(const tls::Certificate& certificate) {
  tls::HandshakeRecord record;
  record.role = tls::HandshakeRole::client;
  record.tcp_connected = true;
  record.handshake_completed = true;
  record.our_certificate_sent = certificate;
  record.peer_chain = {certificate};
  return record;
}

probe::sip::Exchange answered(int code, const std::string& reason) {
  probe::sip::Exchange exchange;
  exchange.request_line = "OPTIONS sip:lyncpool.example.com:5061;transport=tls";
  exchange.outcome = probe::sip::ExchangeOutcome::answered;
  probe::sip::Message response;
  response.kind = probe::sip::Message::Kind::response;
  response.status_code = code;
  response.reason = reason;
  exchange.response = response;
  exchange.round_trip_ms = 3;
  return exchange;
}

probe::sip::Exchange unanswered(probe::sip::ExchangeOutcome outcome, bool nothing_received) {
  probe::sip::Exchange exchange;
  exchange.request_line = "OPTIONS sip:lyncpool.example.com:5061;transport=tls";
  exchange.outcome = outcome;
  exchange.nothing_received = nothing_received;
  exchange.error = "what the client saw";
  return exchange;
}

}  // namespace

TEST_CASE("the trusted-application check matches the CN or a SAN name, in any case") {
  tls::HandshakeRecord record = client_record(
      leaf("bemsapppool.example.com", {"bemsapppool.example.com", "bems01.example.com"}));
  CHECK_FALSE(probe::untrusted_application(record, {}));
  CHECK_FALSE(probe::untrusted_application(record, {"BEMSAppPool.Example.com"}));
  CHECK_FALSE(probe::untrusted_application(record, {"other.example.com", "bems01.example.com"}));
  auto why = probe::untrusted_application(record, {"other.example.com"});
  REQUIRE(why);
  CHECK(*why ==
        "client certificate names bemsapppool.example.com, bems01.example.com, none of the trusted "
        "applications (other.example.com)");
}

TEST_CASE("a PIDF document reads as the state the mock was given") {
  using probe::sip::PresenceState;
  for (PresenceState state : {PresenceState::available, PresenceState::busy, PresenceState::away,
                              PresenceState::offline}) {
    auto read =
        probe::sip::presence_state_of(probe::sip::presence_document("a@example.com", state));
    REQUIRE(read);
    CHECK(*read == probe::sip::to_string(state));
  }
  CHECK_FALSE(probe::sip::presence_state_of("not xml <"));
  CHECK_FALSE(probe::sip::presence_state_of("<other/>"));
}

TEST_CASE("sip.options: 2xx passes, other 4xx warns, 5xx fails, no exchange skips") {
  tls::HandshakeRecord record = client_record(leaf("bemsapppool.example.com", {}));
  auto ok = probe::sip_options_finding(answered(200, "OK"), record);
  CHECK(ok.status == report::Status::pass);
  CHECK(ok.detail.find("200 OK in 3 ms") != std::string::npos);
  CHECK(probe::sip_options_finding(answered(403, "Forbidden"), record).status ==
        report::Status::warn);
  CHECK(probe::sip_options_finding(answered(503, "Service Unavailable"), record).status ==
        report::Status::fail);
  CHECK(probe::sip_options_finding(std::nullopt, record).status == report::Status::skip);
}

TEST_CASE("sip.options: a drop right after the handshake names the trusted application pool") {
  tls::HandshakeRecord record =
      client_record(leaf("bemsapppool.example.com", {"bemsapppool.example.com"}));
  using probe::sip::ExchangeOutcome;
  auto dropped = probe::sip_options_finding(unanswered(ExchangeOutcome::closed, true), record);
  CHECK(dropped.status == report::Status::fail);
  CHECK(dropped.detail.find("'bemsapppool.example.com'") != std::string::npos);
  CHECK(dropped.remedy.find("New-CsTrustedApplicationPool") != std::string::npos);
  CHECK(dropped.remedy.find("New-CsTrustedApplication ") != std::string::npos);

  auto later = probe::sip_options_finding(unanswered(ExchangeOutcome::closed, false), record);
  CHECK(later.status == report::Status::fail);
  CHECK(later.remedy.find("New-CsTrustedApplicationPool") == std::string::npos);

  CHECK(probe::sip_options_finding(unanswered(ExchangeOutcome::timed_out, true), record).status ==
        report::Status::fail);
  // The TLS alert is the handshake's finding; SIP does not count it twice.
  CHECK(probe::sip_options_finding(unanswered(ExchangeOutcome::peer_rejected_us, true), record)
            .status == report::Status::skip);
}

TEST_CASE(
    "sip.presence: 404 warns, 200 without NOTIFY warns, 200 with NOTIFY passes with the state") {
  tls::HandshakeRecord record = client_record(leaf("bemsapppool.example.com", {}));
  CHECK(probe::sip_presence_finding(answered(404, "Not Found"), "bob@example.com", record).status ==
        report::Status::warn);
  probe::sip::Exchange subscribed = answered(200, "OK");
  CHECK(probe::sip_presence_finding(subscribed, "alice@example.com", record).status ==
        report::Status::warn);
  probe::sip::Message notify;
  notify.method = "NOTIFY";
  notify.body = probe::sip::presence_document("alice@example.com", probe::sip::PresenceState::away);
  subscribed.notify = notify;
  auto pass = probe::sip_presence_finding(subscribed, "alice@example.com", record);
  CHECK(pass.status == report::Status::pass);
  CHECK(pass.detail.find("alice@example.com is away") != std::string::npos);
  CHECK(probe::sip_presence_finding(unanswered(probe::sip::ExchangeOutcome::timed_out, false),
                                    "alice@example.com", record)
            .status == report::Status::fail);
}

TEST_CASE("an ms-diagnostics value reads as its id, sub-code, reason, source and attributes") {
  struct Case {
    const char* value;
    int id;
    std::optional<int> sub;
    const char* reason;
    const char* source;
    std::size_t attributes;
  };
  const Case cases[] = {
      {"1010;reason=\"Certificate trust with another server could not be established\";"
       "ErrorType=\"The peer certificate does not contain a matching FQDN\";"
       "HRESULT=\"0x80090322(SEC_E_WRONG_PRINCIPAL)\";source=\"sip.skype.lab\"",
       1010, std::nullopt, "Certificate trust with another server could not be established",
       "sip.skype.lab", 2},
      // Lync writes spaces around '=' and inside quotes in some versions.
      {"1009; reason =\"No match for domain in DNS SRV results\"; domain =\" cms.lab \";"
       "source=\"sip.skype.lab\"",
       1009, std::nullopt, "No match for domain in DNS SRV results", "sip.skype.lab", 1},
      {"4005;reason=\"Destination URI either not enabled for SIP or does not exist\"", 4005,
       std::nullopt, "Destination URI either not enabled for SIP or does not exist", "", 0},
      {"2.123", 2, 123, "", "", 0},
      // A ';' or an escaped quote inside a quoted value does not end it.
      {"1047;reason=\"a;b \\\"c\\\"\";source=x", 1047, std::nullopt, "a;b \"c\"", "x", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    auto parsed = probe::sip::parse_ms_diagnostic(c.value);
    REQUIRE(parsed);
    CHECK(parsed->error_id == c.id);
    CHECK(parsed->sub_code == c.sub);
    CHECK(parsed->reason == c.reason);
    CHECK(parsed->source == c.source);
    CHECK(parsed->attributes.size() == c.attributes);
  }
  for (const char* garbage :
       {"", "reason=\"x\"", "abc;reason=x", "12x;reason=y", "1.;x=y", "99999999999;reason=x"}) {
    CAPTURE(garbage);
    CHECK_FALSE(probe::sip::parse_ms_diagnostic(garbage));
  }
}

TEST_CASE("every ms-diagnostics id in the table has a meaning and a fix, in id order") {
  int previous = 0;
  for (const auto& entry : probe::sip::ms_diagnostic_table()) {
    CAPTURE(entry.error_id);
    CHECK(entry.error_id > previous);
    previous = entry.error_id;
    CHECK(entry.meaning.size() > 20);
    CHECK(entry.fix.size() > 20);
    CHECK(probe::sip::ms_diagnostic_meaning(entry.error_id) == &entry);
  }
  CHECK(probe::sip::ms_diagnostic_meaning(1010) != nullptr);
  CHECK(probe::sip::ms_diagnostic_meaning(1047) != nullptr);
  CHECK(probe::sip::ms_diagnostic_meaning(4005) != nullptr);
  CHECK(probe::sip::ms_diagnostic_meaning(1999) == nullptr);
  CHECK(probe::sip::ms_diagnostic_component(1999).find("SIP stack") != std::string_view::npos);
  CHECK(probe::sip::ms_diagnostic_component(2049).find("presence") != std::string_view::npos);
}

TEST_CASE("a response's ms-diagnostics headers are all read, public ones marked, and bounded") {
  probe::sip::Message response;
  response.kind = probe::sip::Message::Kind::response;
  response.status_code = 504;
  response.add_header("ms-diagnostics", "1034;reason=\"Previous hop\";source=\"edge\"");
  response.add_header("MS-Diagnostics-Public", "1047;reason=\"TLS\", 1010;reason=\"trust\"");
  auto read = probe::sip::ms_diagnostics_of(response);
  REQUIRE(read.size() == 3);
  CHECK(read[0].error_id == 1034);
  CHECK_FALSE(read[0].public_header);
  CHECK(read[1].error_id == 1047);
  CHECK(read[1].public_header);
  CHECK(read[2].error_id == 1010);
  for (int i = 0; i < 100; ++i) response.add_header("ms-diagnostics", "1000;reason=\"x\"");
  CHECK(probe::sip::ms_diagnostics_of(response).size() == probe::sip::kMaxMsDiagnostics);
}

TEST_CASE("sip.options and sip.presence carry the pool's ms-diagnostics and its fix") {
  struct Case {
    const char* header;
    int code;
    const char* status;
    const char* in_detail;
    const char* in_remedy;
  };
  const Case cases[] = {
      {"1010;reason=\"Certificate trust with another server could not be established\";"
       "HRESULT=\"0x800B0109(CERT_E_UNTRUSTEDROOT)\";source=\"pool.example.com\"",
       504, "fail", "ms-diagnostics 1010 \"Certificate trust", "Trusted Root"},
      {"1047;reason=\"Failed to complete TLS negotiation with a federated peer server\";"
       "WinsockFailureCode=\"10054(WSAECONNRESET)\"",
       504, "fail", "WinsockFailureCode 10054(WSAECONNRESET)", "serverAuth and clientAuth"},
      {"4005;reason=\"Destination URI either not enabled for SIP or does not exist\";"
       "source=\"pool.example.com\"",
       404, "warn", "from pool.example.com: Destination URI", "Enable-CsUser"},
      // An id we do not know is shown with the component its range belongs to.
      {"1999;reason=\"Something new\"", 503, "fail", "an error id of the SIP stack", "SIP log"},
  };
  tls::HandshakeRecord record =
      client_record(leaf("bemsapppool.example.com", {"bemsapppool.example.com"}));
  for (const Case& c : cases) {
    CAPTURE(c.header);
    probe::sip::Exchange exchange = answered(c.code, "Whatever");
    exchange.response->add_header("ms-diagnostics", c.header);
    for (const report::Finding& f :
         {probe::sip_options_finding(exchange, record),
          probe::sip_presence_finding(exchange, "alice@example.com", record)}) {
      CAPTURE(f.id);
      CHECK(report::to_string(f.status) == std::string(c.status));
      CHECK(testing::mentions(f.detail, c.in_detail));
      CHECK(testing::mentions(f.remedy, c.in_remedy));
    }
  }
}

TEST_CASE("an [MS-PRES] categories document reads as the state the mock was given") {
  using probe::sip::PresenceState;
  for (PresenceState state : {PresenceState::available, PresenceState::busy, PresenceState::away,
                              PresenceState::offline}) {
    auto read =
        probe::sip::categories_state_of(probe::sip::categories_document("a@example.com", state));
    REQUIRE(read);
    CHECK(*read == probe::sip::to_string(state));
  }
  struct Range {
    long availability;
    const char* state;
  };
  for (Range r : {Range{3000, "available"}, Range{4500, "available"}, Range{6000, "busy"},
                  Range{8999, "busy"}, Range{9000, "do-not-disturb"}, Range{12000, "be-right-back"},
                  Range{15000, "away"}, Range{18000, "offline"}}) {
    CAPTURE(r.availability);
    CHECK(probe::sip::availability_state(r.availability) == std::string(r.state));
  }
  CHECK_FALSE(probe::sip::availability_state(2999));
  CHECK_FALSE(probe::sip::categories_state_of("not xml <"));
  CHECK_FALSE(probe::sip::categories_state_of("<categories/>"));
  CHECK_FALSE(probe::sip::categories_state_of(
      "<categories><category name=\"note\"><state><availability>3500</availability></state>"
      "</category></categories>"));
  // Nested far deeper than any presence document: refused before parsing.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  CHECK_FALSE(probe::sip::categories_state_of(deep));
}

TEST_CASE("the aggregate state wins over another state category") {
  std::string body =
      "<categories xmlns=\"http://schemas.microsoft.com/2006/09/sip/categories\">"
      "<category name=\"state\"><state xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:type=\"userState\"><availability>15500</availability></state></category>"
      "<category name=\"state\"><state xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xsi:type=\"aggregateState\"><availability>6500</availability></state></category>"
      "</categories>";
  CHECK(probe::sip::categories_state_of(body) == std::string("busy"));
}
