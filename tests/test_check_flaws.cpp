// Every lab flaw breaks exactly the findings it should, and the clean lab
// passes every finding: the rules against real certificates with exactly
// one defect each, made by the lab issuer.
#include <doctest/doctest.h>

#include <map>

#include "probe/lab/pki.hpp"
#include "probe/rules/requirements.hpp"
#include "probe/rules/rules.hpp"
#include "tests/support/lab_folder.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/issuer.hpp"
#include "tls/store.hpp"

namespace {

using Expected = std::map<std::string, report::Status>;
constexpr auto fail = report::Status::fail;
constexpr auto warn = report::Status::warn;
constexpr auto skip = report::Status::skip;

// Findings that are not `pass` for each flaw; everything else must pass.
const std::map<std::string, Expected>& expected_by_flaw() {
  static const std::map<std::string, Expected> table = {
      {"missing-key",
       {{"bems.key.present", fail}, {"bems.key.matches", skip}, {"bems.key.readable", skip}}},
      {"key-mismatch", {{"bems.key.matches", fail}}},
      // The root is in neither store: bems.chain.trusted blames it for both,
      // trust.mutual points there.
      {"untrusted-root", {{"bems.chain.trusted", fail}, {"trust.mutual", skip}}},
      {"missing-intermediate",
       // One absent file, blamed once: the pool's chain needs the same CA.
       {{"bems.chain.intermediates", fail}, {"lync.chain.intermediates", skip}}},
      {"root-in-intermediate-store", {{"bems.store.placement", warn}}},
      {"cn-not-fqdn", {{"bems.subject.cn-fqdn", fail}}},
      {"san-missing-pool", {{"bems.san.pool", fail}}},
      {"san-missing-instance", {{"bems.san.instances", fail}}},
      {"expired", {{"bems.validity", fail}}},
      {"not-yet-valid", {{"bems.validity", fail}}},
      {"no-client-auth-eku", {{"bems.eku", fail}}},
      {"no-digital-signature", {{"bems.eku", fail}}},
      {"weak-key", {{"bems.key.strength", fail}}},
      {"sha1-signature", {{"bems.key.strength", fail}}},
      // Two separate PKIs: trust.mutual names both imports (the pool's
      // issuing CA with its root); the chain findings point there.
      {"separate-untrusted-cas",
       {{"lync.chain.trusted", skip}, {"lync.chain.intermediates", skip}, {"trust.mutual", fail}}},
      {"intermediate-in-root-store", {{"bems.store.placement", fail}}},
      {"no-revocation-info", {{"bems.revocation.published", warn}}},
  };
  return table;
}

Expected not_passing(const std::optional<std::string>& flaw, report::Finding* sample = nullptr,
                     const std::string& sample_id = {}) {
  probe::LabOptions options;  // RSA keys, as `pki init` makes them by default
  options.flaw = flaw;
  testing::LabFolder lab(options);
  tls::Store bems = lab.load("bems");
  tls::Store lync = lab.load("lync");

  probe::OfflineInputs inputs;
  inputs.bems = &bems;
  inputs.lync = &lync;
  inputs.pool = options.pool;
  inputs.instances = options.instances;
  Expected seen;
  for (const auto& finding : probe::evaluate_offline(inputs)) {
    CHECK_FALSE(finding.detail.empty());
    if (finding.status != report::Status::pass) {
      seen[finding.id] = finding.status;
      CHECK_MESSAGE((finding.status == skip || !finding.remedy.empty()), finding.id);
      if (sample && finding.status == fail && sample->id.empty() &&
          (sample_id.empty() || finding.id == sample_id))
        *sample = finding;
    }
  }
  return seen;
}

std::string describe(const Expected& findings) {
  std::string text;
  for (const auto& [id, status] : findings)
    text += id + "=" + std::string(report::to_string(status)) + " ";
  return text.empty() ? "(all pass)" : text;
}

}  // namespace

TEST_CASE("the clean lab passes every finding") {
  CHECK(describe(not_passing(std::nullopt)) == "(all pass)");
}

TEST_CASE("every lab flaw breaks exactly the findings it should") {
  for (const auto& flaw : probe::lab_flaws()) {
    const std::string name(flaw.name);
    CAPTURE(name);
    auto expected = expected_by_flaw().find(name);
    REQUIRE_MESSAGE(expected != expected_by_flaw().end(), "no expectation for flaw " << name);
    CHECK(describe(not_passing(name)) == describe(expected->second));
  }
}

TEST_CASE("a failing finding names the certificate and the store folder to fix") {
  report::Finding finding;
  not_passing(std::string("missing-intermediate"), &finding);
  REQUIRE(finding.certificate);
  CHECK(finding.certificate->subject.find("bemsapppool.example.com") != std::string::npos);
  CHECK(finding.certificate->sha256.size() == 95);
  CHECK(finding.remedy.find("intermediate/") != std::string::npos);
}

TEST_CASE("a root missing from both stores is blamed once, with the fix for both stores") {
  report::Finding finding;
  not_passing(std::string("untrusted-root"), &finding, "bems.chain.trusted");
  REQUIRE(finding.id == "bems.chain.trusted");
  CHECK(finding.remedy.find("Rogue Root CA") != std::string::npos);
  CHECK(finding.remedy.find("pool's trusted-root/") != std::string::npos);
}

TEST_CASE("two separate PKIs are blamed once by trust.mutual, naming both stores and files") {
  report::Finding finding;
  not_passing(std::string("separate-untrusted-cas"), &finding, "trust.mutual");
  REQUIRE(finding.id == "trust.mutual");
  // BEMS's root for the pool's store, the pool's root and issuing CA for BEMS's.
  CHECK(finding.remedy.find("mtlsprobe Lab Root CA") != std::string::npos);
  CHECK(finding.remedy.find("Partner Root CA") != std::string::npos);
  CHECK(finding.remedy.find("lync/trusted-root/") != std::string::npos);
  CHECK(finding.remedy.find("Partner Issuing CA") != std::string::npos);
  CHECK(finding.remedy.find("BEMS's intermediate/") != std::string::npos);
  CHECK(finding.remedy.find("the Lync/Skype pool's trusted-root/") != std::string::npos);
}

// Issue 16 item 16: two CAs certifying each other with no root above them.
// The fix is the missing root, not a copy of a file already in intermediate/.
TEST_CASE("two CAs certifying each other are named as a loop, blamed once") {
  auto key_a = tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
  auto key_b = tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
  auto leaf_key = tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
  auto anchor_key = tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
  REQUIRE((key_a.ok() && key_b.ok() && leaf_key.ok() && anchor_key.ok()));
  tls::CertificateSpec ca;
  ca.is_ca = true;
  ca.common_name = "Loop CA A";
  auto a_alone = tls::issue_certificate(ca, *key_a, nullptr, *key_a);  // only to sign B
  REQUIRE(a_alone.ok());
  ca.common_name = "Loop CA B";
  auto b = tls::issue_certificate(ca, *key_b, &*a_alone, *key_a);
  REQUIRE(b.ok());
  ca.common_name = "Loop CA A";
  auto a = tls::issue_certificate(ca, *key_a, &*b, *key_b);
  REQUIRE(a.ok());
  ca.common_name = "Unrelated Root CA";
  auto unrelated = tls::issue_certificate(ca, *anchor_key, nullptr, *anchor_key);
  REQUIRE(unrelated.ok());
  tls::CertificateSpec leaf_spec;
  leaf_spec.common_name = "bemsapppool.example.com";
  leaf_spec.dns_names = {"bemsapppool.example.com"};
  leaf_spec.eku = {"serverAuth", "clientAuth"};
  leaf_spec.crl_urls = {"http://pki.example.com/loop.crl"};
  auto leaf = tls::issue_certificate(leaf_spec, *leaf_key, &*a, *key_a);
  REQUIRE(leaf.ok());

  tls::Store bems;
  bems.leaf = tls::StoredCertificate{*leaf, "bems/personal/bems.crt"};
  bems.key = *leaf_key;
  bems.intermediates = {{*a, "bems/intermediate/loop-a.crt"}, {*b, "bems/intermediate/loop-b.crt"}};
  bems.trusted_roots = {{*unrelated, "bems/trusted-root/unrelated.crt"}};
  probe::OfflineInputs inputs;
  inputs.bems = &bems;
  std::map<std::string, report::Finding> by_id;
  for (auto& finding : probe::evaluate_offline(inputs)) by_id[finding.id] = finding;

  const report::Finding& trusted = by_id["bems.chain.trusted"];
  CHECK(trusted.status == fail);
  CHECK_MESSAGE(trusted.detail.find("certify each other") != std::string::npos, trusted.detail);
  CHECK(trusted.detail.find("Loop CA A") != std::string::npos);
  CHECK(trusted.detail.find("Loop CA B") != std::string::npos);
  CHECK_MESSAGE(trusted.remedy.find("real root") != std::string::npos, trusted.remedy);
  CHECK(by_id["bems.chain.intermediates"].status == report::Status::pass);
  for (const auto& [id, finding] : by_id) {
    CAPTURE(id);
    CHECK(finding.remedy.find("Copy bems/intermediate/") == std::string::npos);
    if (id != "bems.chain.trusted") CHECK(finding.status != fail);
  }
}

// Store loading leaves intermediates' keys undecoded until a rule needs them
// (issue 17); the self-signature that makes a CA a root is still checked, in
// both folders, from the files as `check` reads them.
TEST_CASE("a self-issued CA whose signature does not verify is no root, in either store folder") {
  testing::LabFolder lab;
  auto key = tls::generate_key({tls::KeySpec::ec, 0, "P-256"});
  REQUIRE(key.ok());
  tls::CertificateSpec ca;
  ca.is_ca = true;
  ca.common_name = "Tampered Root CA";
  auto tampered = tls::issue_certificate(ca, *key, nullptr, *key);
  ca.common_name = "Second Root CA";
  auto second = tls::issue_certificate(ca, *key, nullptr, *key);
  REQUIRE((tampered.ok() && second.ok()));
  std::vector<std::uint8_t> der = tampered->der();
  der.back() ^= 0x01;  // the last byte of the signature: still parses, no longer verifies
  const std::string bytes(der.begin(), der.end());

  SUBCASE("in trusted-root/ it is reported as no root") {
    testing::write_file(lab.path("bems/trusted-root/tampered-root.cer"), bytes);
    tls::Store bems = lab.load("bems");
    auto placement = probe::rules::store_placement(probe::Side::bems, &bems);
    CHECK(placement.status == fail);
    CHECK_MESSAGE(
        placement.detail.find("'CN=Tampered Root CA' in trusted-root/") != std::string::npos,
        placement.detail);
    CHECK(placement.detail.find("tampered-root.cer) is not self-signed") != std::string::npos);
  }
  SUBCASE("in intermediate/ it is not taken for a root, and a real root there still is") {
    testing::write_file(lab.path("bems/intermediate/tampered-root.cer"), bytes);
    tls::Store alone = lab.load("bems");
    CHECK(probe::rules::store_placement(probe::Side::bems, &alone).status == report::Status::pass);
    testing::write_file(lab.path("bems/intermediate/second-root.pem"), second->pem());
    tls::Store both = lab.load("bems");
    auto placement = probe::rules::store_placement(probe::Side::bems, &both);
    CHECK(placement.status == warn);
    CHECK_MESSAGE(placement.detail.find("Root 'CN=Second Root CA' sits in intermediate/") !=
                      std::string::npos,
                  placement.detail);
  }
}
