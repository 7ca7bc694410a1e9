// The pure parts of SIP over MTLS: which client certificates the mock's
// trusted-application check lets in, how a PIDF body reads, and how each way
// an exchange can end becomes sip.options / sip.presence.
#include <doctest/doctest.h>

#include "probe/diagnosis/sip_findings.hpp"
#include "probe/sip/mock_lync.hpp"
#include "probe/sip/server_session.hpp"
#include "tls/issuer.hpp"

namespace {

tls::Certificate leaf(const std::string& cn, std::vector<std::string> dns) {
  auto key = tls::generate_key({tls::KeySpec::ec});
  REQUIRE(key.ok());
  tls::CertificateSpec spec;
  spec.common_name = cn;
  spec.dns_names = std::move(dns);
  auto certificate = tls::issue_certificate(spec, *key, nullptr, *key);
  REQUIRE_MESSAGE(certificate.ok(), (certificate.ok() ? "" : certificate.error().message));
  return *certificate;
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
