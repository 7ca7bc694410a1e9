// diagnose_handshake() as a table: hand-built handshake records in (each
// failure phase, each alert, TLS 1.2 and 1.3, with and without the peer's
// chain), findings out. Certificates are real (tls/issuer); no socket is
// opened: the end-to-end runs are in test_live.cpp and test_handshake.cpp.
#include <doctest/doctest.h>

#include "probe/diagnosis/handshake.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/test_pki.hpp"
#include "tls/alerts.hpp"

namespace {

using probe::Side;
using report::Status;
using testing::mentions;
using tls::HandshakeError;

// root -> intermediate -> the BEMS and Lync/Skype leaves; a stranger from another root.
const testing::TestPki& pki() {
  return testing::made_once([](testing::TestPki& pki) {
    pki.root("root", "Diagnosis Root");
    pki.intermediate("intermediate", "Diagnosis Intermediate", "root");
    pki.leaf("bems", "bemsapppool.example.com", "intermediate");
    pki.leaf("lync", "lyncpool.example.com", "intermediate");
    pki.root("other-root", "Other Root");
    pki.leaf("stranger", "lyncpool.example.com", "other-root");
  });
}

// Our BEMS store: our leaf and key, the root, the intermediate.
const tls::Store& bems_store() {
  static const tls::Store store = pki().store("bems", {"root"}, {"intermediate"});
  return store;
}

probe::LiveContext bems_dialling() {
  probe::LiveContext context;
  context.us = Side::bems;
  context.ours = &bems_store();
  context.expected_name = "lyncpool.example.com";
  return context;
}

tls::CaName ca_name(const std::string& name) {
  const auto& info = pki().certificate(name).info();
  return {info.subject, info.subject_der};
}

// The peer's chain as it arrived and our verification of it.
void peer_presents(tls::HandshakeRecord& record, const std::vector<std::string>& chain) {
  record.peer_sent_certificate = true;
  record.peer_chain.clear();
  for (const auto& name : chain) record.peer_chain.push_back(pki().certificate(name));
  std::vector<tls::Certificate> untrusted(record.peer_chain.begin() + 1, record.peer_chain.end());
  tls::VerifyPolicy policy;
  record.peer_verification =
      tls::verify_chain(record.peer_chain.front(), untrusted, {pki().certificate("root")}, policy);
  record.peer_chain_in_order = true;
  record.peer_chain_complete = record.peer_verification->trusted;
}

// BEMS dialled the Lync/Skype pool; the handshake completed with `version`,
// both sides sent their chain, and the server listed our root.
tls::HandshakeRecord completed_client(const std::string& version) {
  tls::HandshakeRecord record;
  record.role = tls::HandshakeRole::client;
  record.target = "lyncpool.example.com:5061";
  record.peer_address = "127.0.0.1:5061";
  record.tcp_connected = true;
  record.tcp_connect_ms = 1;
  record.handshake_completed = true;
  record.handshake_ms = 5;
  record.protocol_version = tls::parse_tls_version(version);
  record.cipher_suite =
      version == "TLSv1.3" ? "TLS_AES_256_GCM_SHA384" : "ECDHE-ECDSA-AES256-GCM-SHA384";
  record.min_version_allowed = tls::TlsVersion::tls1_2;
  record.max_version_allowed = tls::TlsVersion::tls1_3;
  record.our_certificate_sent = pki().certificate("bems");
  record.our_chain_sent = {pki().certificate("intermediate")};
  record.certificate_request_received = true;
  record.acceptable_ca_names = {ca_name("root")};
  record.acceptable_ca_der_bytes = record.acceptable_ca_names.front().der.size();
  record.waited_for_verdict = version == "TLSv1.3";
  peer_presents(record, {"lync", "intermediate"});
  return record;
}

// The client's handshake ended with `error` before it completed.
tls::HandshakeRecord failed_client(HandshakeError error, const std::string& message) {
  tls::HandshakeRecord record = completed_client("TLSv1.3");
  record.handshake_completed = false;
  record.protocol_version.reset();
  record.cipher_suite.clear();
  record.waited_for_verdict = false;
  record.error = error;
  record.error_message = message;
  return record;
}

// A TCP failure: nothing after connect happened.
tls::HandshakeRecord tcp_failed(HandshakeError error, const std::string& message) {
  tls::HandshakeRecord record;
  record.role = tls::HandshakeRole::client;
  record.target = "lyncpool.example.com:5061";
  record.error = error;
  record.error_message = message;
  return record;
}

tls::AlertRecord alert(const std::string& name, bool sent, tls::AlertPhase phase) {
  tls::AlertRecord record;
  record.sent = sent;
  record.fatal = true;
  record.code = tls::alert_code(name).value();
  record.name = name;
  record.phase = phase;
  return record;
}

// The peer rejected us with `name`, during the handshake or, in TLS 1.3, right after it.
tls::HandshakeRecord rejected_by_peer(const std::string& name, tls::AlertPhase phase) {
  tls::HandshakeRecord record =
      phase == tls::AlertPhase::after_handshake
          ? completed_client("TLSv1.3")
          : failed_client(HandshakeError::peer_rejected_us, "the peer sent " + name);
  auto received = alert(name, /*sent=*/false, phase);
  record.alerts.push_back(received);
  record.peer_rejected_us = true;
  record.peer_rejected_us_after_handshake = phase == tls::AlertPhase::after_handshake;
  record.rejection_alert = received;
  if (phase == tls::AlertPhase::after_handshake) {
    record.error = HandshakeError::peer_rejected_us;
    record.error_message = "the peer sent " + name + " after the handshake";
  }
  return record;
}

// The Lync/Skype pool's client connected to our BEMS server.
tls::HandshakeRecord completed_server(const std::string& version) {
  tls::HandshakeRecord record;
  record.role = tls::HandshakeRole::server;
  record.peer_address = "127.0.0.1:40000";
  record.tcp_connected = true;
  record.handshake_completed = true;
  record.protocol_version = tls::parse_tls_version(version);
  record.cipher_suite = "TLS_AES_256_GCM_SHA384";
  record.our_certificate_sent = pki().certificate("bems");
  record.our_chain_sent = {pki().certificate("intermediate")};
  record.acceptable_ca_names_sent =
      std::make_shared<const std::vector<tls::CaName>>(std::vector{ca_name("root")});
  peer_presents(record, {"lync", "intermediate"});
  return record;
}

probe::LiveContext bems_serving() {
  probe::LiveContext context = bems_dialling();
  context.expected_name.clear();
  return context;
}

struct Diagnosis {
  std::vector<report::Finding> findings;

  const report::Finding* find(const std::string& id) const {
    for (const auto& finding : findings)
      if (finding.id == id) return &finding;
    return nullptr;
  }
  const report::Finding& at(const std::string& id) const {
    const report::Finding* finding = find(id);
    REQUIRE_MESSAGE(finding, id << " is missing");
    return *finding;
  }
  Status status(const std::string& id) const { return at(id).status; }
  bool says(const std::string& id, const std::string& words) const {
    return mentions(at(id).detail, words);
  }
};

Diagnosis diagnose(const tls::HandshakeRecord& record, const probe::LiveContext& context) {
  return {probe::diagnose_handshake(record, context)};
}

}  // namespace

TEST_CASE("a completed TLS 1.2 mutual handshake passes every handshake finding") {
  auto d = diagnose(completed_client("TLSv1.2"), bems_dialling());
  CHECK(d.status("handshake.tcp") == Status::pass);
  CHECK(d.status("handshake.protocol") == Status::pass);
  CHECK(d.says("handshake.protocol", "TLSv1.2 with ECDHE-ECDSA-AES256-GCM-SHA384"));
  CHECK(d.status("handshake.ca-list") == Status::pass);
  CHECK(d.says("handshake.ca-list", "A CA of our chain is in the server's acceptable-CA list"));
  CHECK(d.status("handshake.no-client-cert") == Status::pass);
  CHECK(d.status("handshake.peer-rejected-us") == Status::pass);
  CHECK(
      d.says("handshake.peer-rejected-us", "finished the handshake after seeing our certificate"));
  CHECK(d.status("handshake.we-rejected-peer") == Status::pass);
  CHECK(d.says("handshake.we-rejected-peer", "Lync/Skype pool chain verifies"));
  CHECK(d.status("peer.name") == Status::pass);
  for (const char* id :
       {"bems.chain.trusted", "bems.chain.intermediates", "lync.chain.trusted",
        "lync.chain.intermediates", "lync.validity", "lync.eku", "lync.key.strength"})
    CHECK_MESSAGE(d.status(id) == Status::pass, id);
  // A BEMS-side client does not judge its own names: that is `check`'s work.
  CHECK(d.find("bems.san.pool") == nullptr);
}

TEST_CASE("in TLS 1.3 the verdict on our certificate passes only after waiting for it") {
  auto waited = diagnose(completed_client("TLSv1.3"), bems_dialling());
  CHECK(waited.status("handshake.peer-rejected-us") == Status::pass);
  CHECK(waited.says("handshake.peer-rejected-us", "No alert arrived while we waited"));

  auto record = completed_client("TLSv1.3");
  record.waited_for_verdict = false;
  auto unwaited = diagnose(record, bems_dialling());
  CHECK(unwaited.status("handshake.peer-rejected-us") == Status::skip);
  CHECK(unwaited.says("handshake.peer-rejected-us", "--verdict-wait 0"));
}

TEST_CASE("each TCP failure fails handshake.tcp with its own cause and skips the rest") {
  struct Case {
    HandshakeError error;
    const char* words;
  };
  for (const Case& c : {
           Case{HandshakeError::dns_failure, "does not resolve"},
           Case{HandshakeError::connection_refused, "refused: nothing listens on that port"},
           Case{HandshakeError::network_unreachable, "is unreachable"},
           Case{HandshakeError::connect_timeout, "within the connect timeout"},
           Case{HandshakeError::tcp_error, "TCP connection to lyncpool.example.com:5061 failed"},
           Case{HandshakeError::local_error, "Our side could not take part"},
       }) {
    CAPTURE(tls::to_string(c.error));
    auto d = diagnose(tcp_failed(c.error, "the reason"), bems_dialling());
    CHECK(d.status("handshake.tcp") == Status::fail);
    CHECK(d.says("handshake.tcp", c.words));
    CHECK(d.status("handshake.protocol") == Status::skip);
    CHECK(d.says("handshake.protocol", "no TCP connection"));
    CHECK(d.status("handshake.ca-list") == Status::skip);
    CHECK(d.status("handshake.peer-rejected-us") == Status::skip);
    CHECK(d.status("handshake.we-rejected-peer") == Status::skip);
    CHECK(d.says("handshake.we-rejected-peer", "the peer presented no certificate"));
    CHECK(d.status("peer.name") == Status::skip);
    CHECK(d.find("lync.chain.trusted") == nullptr);  // no chain, no chain findings
  }
}

TEST_CASE("each protocol failure fails handshake.protocol with its own cause") {
  struct Case {
    HandshakeError error;
    const char* words;
  };
  for (const Case& c : {
           Case{HandshakeError::no_common_version, "No TLS version both sides allow"},
           Case{HandshakeError::no_common_cipher, "No cipher suite, group or signature"},
           Case{HandshakeError::handshake_timeout, "The handshake timed out"},
           Case{HandshakeError::peer_closed, "closed the connection during the handshake"},
           Case{HandshakeError::tls_error, "The TLS handshake failed: the reason"},
       }) {
    CAPTURE(tls::to_string(c.error));
    auto record = failed_client(c.error, "the reason");
    record.peer_sent_certificate = false;
    record.peer_chain.clear();
    record.peer_verification.reset();
    record.certificate_request_received = false;
    auto d = diagnose(record, bems_dialling());
    CHECK(d.status("handshake.tcp") == Status::pass);
    CHECK(d.status("handshake.protocol") == Status::fail);
    CHECK(d.says("handshake.protocol", c.words));
    CHECK(d.status("handshake.ca-list") == Status::skip);
    CHECK(d.says("handshake.ca-list", "before a CertificateRequest"));
    CHECK(d.status("handshake.peer-rejected-us") == Status::skip);
    CHECK(d.says("handshake.peer-rejected-us", "the handshake did not complete"));
    CHECK(d.status("peer.name") == Status::skip);
  }
}

TEST_CASE("a peer that answers in another protocol is named, with its first bytes") {
  auto record = failed_client(HandshakeError::not_tls, "not TLS");
  record.peer_sent_certificate = false;
  record.peer_chain.clear();
  record.peer_verification.reset();
  record.non_tls_protocol = "SIP";
  record.first_bytes_received = "SIP/2.0 400 Bad Request";
  auto d = diagnose(record, bems_dialling());
  CHECK(d.status("handshake.protocol") == Status::fail);
  CHECK(d.says("handshake.protocol", "does not speak TLS: it answered in SIP"));
  CHECK(d.says("handshake.protocol", "SIP/2.0 400 Bad Request"));
  CHECK(mentions(d.at("handshake.protocol").remedy, "this port speaks SIP"));
}

TEST_CASE("each alert the peer rejects us with is explained in terms of a requirement") {
  struct Case {
    const char* alert;
    const char* words;
  };
  for (const Case& c : {
           Case{"unknown_ca", "does not trust the CA that issued our certificate"},
           Case{"bad_certificate", "Go and GnuTLS send this for any verification failure"},
           Case{"unsupported_certificate", "Extended Key Usage lacks clientAuth"},
           Case{"certificate_unknown", "Java sends this for any trust-manager failure"},
           Case{"certificate_expired", "A certificate of our chain is expired"},
           Case{"certificate_revoked", "revoked a certificate of our chain"},
           Case{"certificate_required", "requires a client certificate"},
           Case{"handshake_failure", "client sent no certificate"},
           Case{"access_denied", "policy refused our identity"},
           Case{"decrypt_error", "signature check failed"},
           Case{"insufficient_security", "stronger parameters"},
           Case{"internal_error", "ended the handshake with this alert"},
       }) {
    CAPTURE(c.alert);
    for (auto phase : {tls::AlertPhase::during_handshake, tls::AlertPhase::after_handshake}) {
      CAPTURE(tls::to_string(phase));
      auto d = diagnose(rejected_by_peer(c.alert, phase), bems_dialling());
      const auto& rejected = d.at("handshake.peer-rejected-us");
      CHECK(rejected.status == Status::fail);
      CHECK(mentions(rejected.detail, std::string("the alert ") + c.alert + " (" +
                                          std::to_string(*tls::alert_code(c.alert)) + ")"));
      CHECK(mentions(rejected.detail, c.words));
      CHECK(mentions(rejected.detail, phase == tls::AlertPhase::after_handshake
                                          ? "right after the handshake (TLS 1.3"
                                          : "during the handshake"));
      // Our own certificate passes every check, so the peer's side is named.
      CHECK(mentions(rejected.detail, "Our own checks of the certificate and chain we sent pass"));
      CHECK(mentions(rejected.remedy, "Import our root CA into the peer's Trusted Root store"));
      REQUIRE(rejected.certificate);
      CHECK(rejected.certificate->subject == pki().certificate("bems").info().subject);
      CHECK(d.status("handshake.tcp") == Status::pass);
    }
  }
}

TEST_CASE(
    "a rejection during the handshake leaves the protocol finding to say it did not "
    "complete") {
  auto d =
      diagnose(rejected_by_peer("unknown_ca", tls::AlertPhase::during_handshake), bems_dialling());
  CHECK(d.status("handshake.protocol") == Status::skip);
  CHECK(d.says("handshake.protocol", "the handshake did not complete"));
}

TEST_CASE(
    "a peer chain we cannot verify fails handshake.we-rejected-peer at the failing "
    "certificate") {
  auto record = failed_client(HandshakeError::we_rejected_peer, "we sent unknown_ca");
  record.alerts.push_back(alert("unknown_ca", /*sent=*/true, tls::AlertPhase::during_handshake));
  peer_presents(record, {"stranger"});
  REQUIRE_FALSE(record.peer_verification->trusted);
  auto d = diagnose(record, bems_dialling());
  const auto& rejected = d.at("handshake.we-rejected-peer");
  // The defect is blamed by the peer's own finding; the wire finding shows
  // it, points there and does not fail a second time.
  CHECK(rejected.status == Status::skip);
  CHECK(mentions(rejected.detail, "we refused the Lync/Skype pool certificate"));
  CHECK(mentions(rejected.detail, "at depth 0"));
  // The leaf's own issuer is in no store: one missing file, blamed once by
  // the intermediates finding (which says where it goes), not also by
  // lync.chain.trusted.
  CHECK(mentions(rejected.detail, "the defect is reported by lync.chain.intermediates"));
  CHECK(d.status("lync.chain.intermediates") == Status::fail);
  CHECK(d.status("lync.chain.trusted") == Status::skip);
  CHECK(mentions(d.at("lync.chain.intermediates").remedy, "trusted-root/ if it is a root"));
  CHECK(d.status("handshake.peer-rejected-us") == Status::skip);
}

TEST_CASE("a peer that sends its leaf alone is judged by the intermediates we hold") {
  auto record = completed_client("TLSv1.2");
  peer_presents(record, {"lync"});
  auto d = diagnose(record, bems_dialling());
  CHECK(d.status("lync.chain.intermediates") == Status::pass);
  CHECK(d.says("lync.chain.intermediates", "our intermediate/ has the rest"));

  tls::Store bare = pki().store("bems", {"root"});  // no intermediate/ on our side
  auto context = bems_dialling();
  context.ours = &bare;
  auto missing = diagnose(record, context);
  CHECK(missing.status("lync.chain.intermediates") == Status::fail);
  CHECK(missing.says("lync.chain.intermediates", "lacks 'CN=Diagnosis Intermediate'"));
}

TEST_CASE("the name we dialled must be in the peer's SAN") {
  auto context = bems_dialling();
  context.expected_name = "otherpool.example.com";
  auto d = diagnose(completed_client("TLSv1.2"), context);
  CHECK(d.status("peer.name") == Status::fail);
  CHECK(d.says("peer.name", "does not cover 'otherpool.example.com'"));
  CHECK(d.says("peer.name", "lyncpool.example.com"));

  context.expected_name.clear();
  CHECK(diagnose(completed_client("TLSv1.2"), context).status("peer.name") == Status::skip);
}

TEST_CASE("the server's acceptable-CA list predicts a rejection when it names none of our CAs") {
  SUBCASE("an empty list is Windows Server 2012 and later") {
    auto record = completed_client("TLSv1.2");
    record.acceptable_ca_names.clear();
    record.acceptable_ca_der_bytes = 0;
    auto d = diagnose(record, bems_dialling());
    CHECK(d.status("handshake.ca-list") == Status::pass);
    CHECK(d.says("handshake.ca-list", "names no CAs"));
  }
  SUBCASE("a list without our root or intermediate") {
    auto record = completed_client("TLSv1.2");
    record.acceptable_ca_names = {ca_name("other-root")};
    auto d = diagnose(record, bems_dialling());
    CHECK(d.status("handshake.ca-list") == Status::fail);
    CHECK(d.says("handshake.ca-list", "expect a rejection"));
  }
  SUBCASE("a list without our CA is not explained by an expired certificate, only by our chain") {
    auto record = completed_client("TLSv1.2");
    record.acceptable_ca_names = {ca_name("other-root")};
    report::Finding expired;
    expired.id = "bems.validity";
    expired.status = Status::fail;
    std::vector<report::Finding> judged{expired};
    auto context = bems_dialling();
    context.own_judged = &judged;
    CHECK(diagnose(record, context).status("handshake.ca-list") == Status::fail);
    report::Finding untrusted;
    untrusted.id = "bems.chain.trusted";
    untrusted.status = Status::fail;
    judged.push_back(untrusted);
    auto d = diagnose(record, context);
    CHECK(d.status("handshake.ca-list") == Status::skip);
    CHECK(d.says("handshake.ca-list", "the defect is reported by bems.chain.trusted"));
  }
  SUBCASE("a list over 16 KB") {
    auto record = completed_client("TLSv1.2");
    record.acceptable_ca_der_bytes = 17 * 1024;
    auto d = diagnose(record, bems_dialling());
    CHECK(d.status("handshake.ca-list") == Status::warn);
    CHECK(d.says("handshake.ca-list", "schannel truncates"));
  }
  SUBCASE("no CertificateRequest at all is TLS, not mutual TLS") {
    auto record = completed_client("TLSv1.2");
    record.certificate_request_received = false;
    record.acceptable_ca_names.clear();
    record.our_certificate_sent.reset();
    record.our_chain_sent.clear();
    auto d = diagnose(record, bems_dialling());
    CHECK(d.status("handshake.ca-list") == Status::warn);
    CHECK(d.says("handshake.ca-list", "not mutual TLS"));
    CHECK(d.status("handshake.no-client-cert") == Status::skip);
    CHECK(d.find("bems.chain.trusted") == nullptr);  // we sent nothing to judge
  }
}

TEST_CASE("a client without credentials fails handshake.no-client-cert") {
  tls::Store empty;
  empty.trusted_roots = bems_store().trusted_roots;
  auto context = bems_dialling();
  context.ours = &empty;
  auto record = completed_client("TLSv1.2");
  record.our_certificate_sent.reset();
  record.our_chain_sent.clear();
  auto d = diagnose(record, context);
  CHECK(d.status("handshake.no-client-cert") == Status::fail);
  CHECK(d.says("handshake.no-client-cert", "no certificate with its matching private key"));
}

TEST_CASE("the server side judges the client's certificate and its BEMS names") {
  auto lync_store = pki().store("lync", {"root"}, {"intermediate"});
  probe::LiveContext context;
  context.us = Side::lync;
  context.ours = &lync_store;
  context.pool = "bemsapppool.example.com";
  auto record = completed_server("TLSv1.3");
  record.our_certificate_sent = pki().certificate("lync");
  peer_presents(record, {"bems", "intermediate"});
  auto d = diagnose(record, context);
  CHECK(d.status("handshake.tcp") == Status::pass);
  CHECK(d.says("handshake.tcp", "Connection from 127.0.0.1:40000"));
  CHECK(d.find("handshake.ca-list") == nullptr);  // a client-side judgement
  CHECK(d.find("peer.name") == nullptr);
  CHECK(d.status("handshake.no-client-cert") == Status::pass);
  CHECK(d.status("handshake.peer-rejected-us") == Status::pass);
  CHECK(d.status("handshake.we-rejected-peer") == Status::pass);
  CHECK(d.status("bems.subject.cn-fqdn") == Status::pass);
  CHECK(d.status("bems.san.pool") == Status::pass);
  CHECK(d.status("bems.eku") == Status::pass);
}

TEST_CASE("a client that sends no certificate fails the server's handshake.no-client-cert") {
  auto record = completed_server("TLSv1.2");
  record.handshake_completed = false;
  record.peer_sent_certificate = false;
  record.peer_chain.clear();
  record.peer_verification.reset();
  record.error = HandshakeError::no_peer_certificate;
  record.error_message = "the client sent no certificate";
  record.alerts.push_back(
      alert("handshake_failure", /*sent=*/true, tls::AlertPhase::during_handshake));
  auto d = diagnose(record, bems_serving());
  CHECK(d.status("handshake.no-client-cert") == Status::fail);
  CHECK(d.says("handshake.no-client-cert", "(127.0.0.1:40000) sent no certificate"));
  CHECK(mentions(d.at("handshake.no-client-cert").remedy, "Lync/Skype pool side"));
  CHECK(d.status("handshake.we-rejected-peer") == Status::skip);
  CHECK(d.find("lync.chain.trusted") == nullptr);
}
