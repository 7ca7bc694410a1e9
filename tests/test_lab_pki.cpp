#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "probe/lab/pki.hpp"
#include "tests/support/lab_folder.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/chain.hpp"
#include "tls/store.hpp"
#include "tls/text.hpp"

namespace {

namespace fs = std::filesystem;
using Facts = std::map<std::string, std::string>;

struct Lab : testing::LabFolder {
  tls::Store bems;
  tls::Store lync;

  explicit Lab(std::optional<std::string> flaw,
               probe::LabKeyType key_type = probe::LabKeyType::ecdsa_p256)
      : LabFolder(with_key_type(testing::quick_lab(std::move(flaw)), key_type)),
        bems(load("bems")),
        lync(load("lync")) {}

  static probe::LabOptions with_key_type(probe::LabOptions options, probe::LabKeyType key_type) {
    options.key_type = key_type;
    return options;
  }

  tls::Certificate file_certificate(const std::string& relative) const {
    auto loaded = tls::load_credential_file(dir / relative, std::nullopt);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    REQUIRE(loaded->certificates.size() == 1);
    return loaded->certificates.front();
  }
};

// Path validation without dates or our stricter policy: trust only.
bool trusted(const tls::Store& own, const tls::Store& trusting) {
  tls::VerifyPolicy policy;
  policy.check_time = false;
  policy.strict = false;
  auto result = tls::verify_chain(own.leaf->certificate, own.intermediate_certificates(),
                                  trusting.root_certificates(), policy);
  return result.trusted;
}

std::string joined(std::vector<std::string> parts, bool sort = false) {
  if (sort) std::sort(parts.begin(), parts.end());
  return tls::joined(parts, " ");
}

std::string names(const std::vector<tls::StoredCertificate>& certificates) {
  std::vector<std::string> parts;
  for (const auto& stored : certificates) parts.push_back(stored.certificate.info().common_name);
  return joined(parts, true);
}

std::string validity(const tls::CertificateInfo& info) {
  auto now = tls::Clock::now();
  if (info.not_after < now) return "expired";
  if (info.not_before > now) return "not-yet-valid";
  return "valid";
}

// What the requirement rules look at, per side, as comparable text.
void side_facts(Facts& facts, const std::string& side, const tls::Store& own,
                const tls::Store& peer) {
  const auto& info = own.leaf->certificate.info();
  facts[side + ".key"] = !own.key                                  ? "absent"
                         : own.key->matches(own.leaf->certificate) ? "matches"
                                                                   : "mismatch";
  facts[side + ".issuer"] = info.issuer.substr(0, info.issuer.find(','));
  facts[side + ".cn"] = info.common_name;
  facts[side + ".san"] = joined(info.san_dns);
  facts[side + ".eku"] = joined(info.eku);
  facts[side + ".key-usage"] = joined(info.key_usage);
  facts[side + ".validity"] = validity(info);
  facts[side + ".key-type"] = info.key_type + " " + std::to_string(info.key_bits);
  facts[side + ".digest"] = info.signature_digest;
  facts[side + ".revocation"] = "crl " + std::to_string(info.crl_urls.size()) + " ocsp " +
                                std::to_string(info.ocsp_urls.size());
  facts[side + ".roots"] = names(own.trusted_roots);
  facts[side + ".intermediates"] = names(own.intermediates);
  facts[side + ".trusted-by-self"] = trusted(own, own) ? "yes" : "no";
  facts[side + ".trusted-by-peer"] = trusted(own, peer) ? "yes" : "no";
}

Facts lab_facts(const Lab& lab) {
  Facts facts;
  side_facts(facts, "bems", lab.bems, lab.lync);
  side_facts(facts, "lync", lab.lync, lab.bems);
  auto pfx = tls::load_credential_file(lab.dir / "bems.pfx", std::nullopt);
  REQUIRE_MESSAGE(pfx.ok(), pfx.error().message);
  facts["bems.pfx"] = std::to_string(pfx->certificates.size()) + " certificates";
  return facts;
}

const Facts kCleanFacts = {
    {"bems.key", "matches"},
    {"bems.issuer", "CN=mtlsprobe Lab Issuing CA"},
    {"bems.cn", "bemsapppool.example.com"},
    {"bems.san", "bemsapppool.example.com bemsserver01.example.com bemsserver02.example.com"},
    {"bems.eku", "serverAuth clientAuth"},
    {"bems.key-usage", "digitalSignature"},
    {"bems.validity", "valid"},
    {"bems.key-type", "EC 256"},
    {"bems.digest", "SHA256"},
    {"bems.revocation", "crl 1 ocsp 1"},
    {"bems.roots", "mtlsprobe Lab Root CA"},
    {"bems.intermediates", "mtlsprobe Lab Issuing CA"},
    {"bems.trusted-by-self", "yes"},
    {"bems.trusted-by-peer", "yes"},
    {"bems.pfx", "2 certificates"},
    {"lync.key", "matches"},
    {"lync.issuer", "CN=mtlsprobe Lab Issuing CA"},
    {"lync.cn", "lyncpool.example.com"},
    {"lync.san", "lyncpool.example.com"},
    {"lync.eku", "serverAuth clientAuth"},
    {"lync.key-usage", "digitalSignature"},
    {"lync.validity", "valid"},
    {"lync.key-type", "EC 256"},
    {"lync.digest", "SHA256"},
    {"lync.revocation", "crl 1 ocsp 1"},
    {"lync.roots", "mtlsprobe Lab Root CA"},
    {"lync.intermediates", "mtlsprobe Lab Issuing CA"},
    {"lync.trusted-by-self", "yes"},
    {"lync.trusted-by-peer", "yes"},
};

// For each flaw, every fact that differs from the clean lab, with its value.
const std::map<std::string, Facts> kFlawFacts = {
    {"missing-key", {{"bems.key", "absent"}}},
    {"key-mismatch", {{"bems.key", "mismatch"}}},
    {"untrusted-root",
     {{"bems.issuer", "CN=Rogue Issuing CA"},
      {"bems.intermediates", "Rogue Issuing CA mtlsprobe Lab Issuing CA"},
      {"bems.trusted-by-self", "no"},
      {"bems.trusted-by-peer", "no"}}},
    {"missing-intermediate",
     {{"bems.intermediates", ""},
      {"bems.trusted-by-self", "no"},
      {"bems.trusted-by-peer", "no"},
      {"bems.pfx", "1 certificates"}}},
    {"root-in-intermediate-store",
     {{"bems.intermediates", "mtlsprobe Lab Issuing CA mtlsprobe Lab Root CA"}}},
    {"cn-not-fqdn", {{"bems.cn", "bemsapppool"}}},
    {"san-missing-pool", {{"bems.san", "bemsserver01.example.com bemsserver02.example.com"}}},
    {"san-missing-instance", {{"bems.san", "bemsapppool.example.com bemsserver02.example.com"}}},
    {"expired", {{"bems.validity", "expired"}}},
    {"not-yet-valid", {{"bems.validity", "not-yet-valid"}}},
    {"no-client-auth-eku", {{"bems.eku", "serverAuth"}}},
    {"no-digital-signature", {{"bems.key-usage", "keyEncipherment"}}},
    // An RSA key also gets keyEncipherment (RSA key exchange).
    {"weak-key",
     {{"bems.key-type", "RSA 1024"}, {"bems.key-usage", "digitalSignature keyEncipherment"}}},
    {"sha1-signature", {{"bems.digest", "SHA1"}}},
    {"separate-untrusted-cas",
     {{"lync.issuer", "CN=Partner Issuing CA"},
      {"lync.roots", "Partner Root CA"},
      {"lync.intermediates", "Partner Issuing CA"},
      {"lync.trusted-by-peer", "no"},
      {"bems.trusted-by-peer", "no"}}},
    {"intermediate-in-root-store",
     {{"bems.roots", "mtlsprobe Lab Issuing CA mtlsprobe Lab Root CA"}}},
    {"no-revocation-info", {{"bems.revocation", "crl 0 ocsp 0"}}},
};

// One "fact = value" line each, so a failing comparison shows the difference.
std::string render(const Facts& facts) {
  std::string text;
  for (const auto& [fact, value] : facts) text += "\n" + fact + " = " + value;
  return text;
}

int file_mode(const fs::path& file) {
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  return static_cast<int>(info.st_mode & 0777);
}

}  // namespace

TEST_CASE("the clean lab has every fact the requirements ask for") {
  Lab lab(std::nullopt);
  CHECK(render(lab_facts(lab)) == render(kCleanFacts));
}

TEST_CASE("each flaw changes exactly the facts of its one defect") {
  REQUIRE(probe::lab_flaws().size() == kFlawFacts.size());
  for (const auto& flaw : probe::lab_flaws()) {
    std::string name(flaw.name);
    INFO("flaw: " << name);
    REQUIRE(kFlawFacts.count(name) == 1);
    Facts expected = kCleanFacts;
    for (const auto& [fact, value] : kFlawFacts.at(name)) {
      REQUIRE(expected.count(fact) == 1);
      REQUIRE(expected[fact] != value);
      expected[fact] = value;
    }
    Lab lab(name);
    CHECK(render(lab_facts(lab)) == render(expected));
  }
}

TEST_CASE("an RSA lab uses RSA 2048 throughout and chains verify under the strict policy") {
  Lab lab(std::nullopt, probe::LabKeyType::rsa2048);
  for (const auto* store : {&lab.bems, &lab.lync}) {
    CHECK(store->leaf->certificate.info().key_type == "RSA");
    CHECK(store->leaf->certificate.info().key_bits == 2048);
    for (const auto purpose : {tls::Purpose::server_auth, tls::Purpose::client_auth}) {
      tls::VerifyPolicy policy;
      policy.purpose = purpose;
      auto result = tls::verify_chain(store->leaf->certificate, store->intermediate_certificates(),
                                      store->root_certificates(), policy);
      CHECK_MESSAGE(result.trusted, result.error);
    }
  }
  CHECK(lab.file_certificate("ca/lab-root.crt").info().key_bits == 2048);
}

TEST_CASE("the leaf and issuing CA carry the default CRL and OCSP URLs") {
  Lab lab(std::nullopt);
  const auto& bems = lab.bems.leaf->certificate.info();
  CHECK(bems.crl_urls == std::vector<std::string>{"http://pki.example.com/crl/lab-issuing-ca.crl"});
  CHECK(bems.ocsp_urls == std::vector<std::string>{"http://pki.example.com/ocsp"});
  auto issuing = lab.file_certificate("ca/lab-issuing-ca.crt").info();
  CHECK(issuing.crl_urls == std::vector<std::string>{"http://pki.example.com/crl/lab-root.crl"});
  CHECK(issuing.path_length == 0);
  CHECK(lab.file_certificate("ca/lab-root.crt").info().crl_urls.empty());
}

TEST_CASE("the CA keys are kept, private, and belong to the CA certificates") {
  Lab lab("untrusted-root");
  for (const std::string ca : {"lab-root", "lab-issuing-ca", "rogue-root", "rogue-issuing-ca"}) {
    INFO(ca);
    auto key = tls::load_credential_file(lab.dir / ("ca/" + ca + ".key"), std::nullopt);
    REQUIRE(key.ok());
    REQUIRE(key->key);
    CHECK(key->key->matches(lab.file_certificate("ca/" + ca + ".crt")));
    CHECK(file_mode(lab.dir / ("ca/" + ca + ".key")) == 0600);
  }
  CHECK(file_mode(lab.dir / "bems/personal/bems.key") == 0600);
  CHECK(file_mode(lab.dir / "lync/personal/lync.key") == 0600);
}

TEST_CASE("the rogue chain of untrusted-root is complete; only the trust is missing") {
  Lab lab("untrusted-root");
  tls::VerifyPolicy policy;
  auto rogue_root = lab.file_certificate("ca/rogue-root.crt");
  auto result = tls::verify_chain(lab.bems.leaf->certificate, lab.bems.intermediate_certificates(),
                                  {rogue_root}, policy);
  CHECK_MESSAGE(result.trusted, result.error);
}

TEST_CASE("the validity flaws put the dates where they say") {
  using namespace std::chrono_literals;
  auto now = tls::Clock::now();
  Lab expired("expired");
  const auto& old = expired.bems.leaf->certificate.info();
  CHECK(old.not_after < now);
  CHECK(old.not_before < now - 399 * 24h);
  Lab future("not-yet-valid");
  CHECK(future.bems.leaf->certificate.info().not_before > now + 9 * 24h);
}

TEST_CASE("the lab manifest describes the lab") {
  Lab lab("missing-key");
  auto text = testing::read_file(lab.dir / "lab.json");
  auto manifest = boost::json::parse(text).as_object();
  CHECK(manifest.at("pool").as_string() == "bemsapppool.example.com");
  CHECK(manifest.at("instances").as_array().size() == 2);
  CHECK(manifest.at("lync_pool").as_string() == "lyncpool.example.com");
  CHECK(manifest.at("flaw").as_string() == "missing-key");
  const auto& files = manifest.at("files").as_object();
  CHECK(files.at("bems_key").is_null());
  CHECK(fs::exists(lab.dir / std::string(files.at("bems_cert").as_string())));
  CHECK(fs::exists(lab.dir /
                   std::string(files.at("ca").at("lab-root").at("key").as_string().c_str())));
}

TEST_CASE("lab options are validated with a message naming the option") {
  probe::LabOptions options;
  CHECK(probe::validate_lab_options(options).ok());
  options.instances = {"bemsserver01"};
  auto single_label = probe::validate_lab_options(options);
  REQUIRE_FALSE(single_label.ok());
  CHECK(single_label.error().message.find("--instance") != std::string::npos);
  options = {};
  options.revocation_url = "ftp://pki.example.com";
  CHECK_FALSE(probe::validate_lab_options(options).ok());
  options = {};
  options.days = 0;
  CHECK_FALSE(probe::validate_lab_options(options).ok());
  CHECK(tls::is_valid_fqdn("bemsapppool.example.com"));
  CHECK_FALSE(tls::is_valid_fqdn("bemsapppool"));
  CHECK_FALSE(tls::is_valid_fqdn("-bad.example.com"));
  CHECK_FALSE(tls::is_valid_fqdn("a..example.com"));
  CHECK_FALSE(tls::is_valid_fqdn("example.com."));
  CHECK_FALSE(tls::is_valid_fqdn("10.0.0.1"));
  CHECK_FALSE(tls::is_valid_fqdn("under_score.example.com"));
}

TEST_CASE("pki init writes a lab and says what to run next") {
  testing::TempDir dir;
  auto result = testing::run_mtlsprobe(
      {"pki", "init", (dir / "lab").string(), "--key-type", "ecdsa-p256", "--pool",
       "pool.corp.example", "--instance", "node1.corp.example", "--lync-pool", "sfb.corp.example",
       "--revocation-url", "http://127.0.0.1:8080", "--days", "30"});
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  CHECK(result.out.find("mtlsprobe check --store " + (dir / "lab" / "bems").string()) !=
        std::string::npos);
  CHECK(result.out.find("--instance node1.corp.example") != std::string::npos);
  auto loaded = tls::load_credential_file(dir / "lab/bems/personal/bems.crt", std::nullopt);
  REQUIRE(loaded.ok());
  const auto& info = loaded->certificates.at(0).info();
  CHECK(info.san_dns == std::vector<std::string>{"pool.corp.example", "node1.corp.example"});
  CHECK(info.key_type == "EC");
  CHECK(info.crl_urls == std::vector<std::string>{"http://127.0.0.1:8080/crl/lab-issuing-ca.crl"});
  CHECK(info.ocsp_urls == std::vector<std::string>{"http://127.0.0.1:8080/ocsp"});
  CHECK(info.not_after < tls::Clock::now() + std::chrono::hours(24 * 31));
  auto lync = tls::load_credential_file(dir / "lab/lync/personal/lync.crt", std::nullopt);
  REQUIRE(lync.ok());
  CHECK(lync->certificates.at(0).info().common_name == "sfb.corp.example");
}

TEST_CASE("pki init refuses a folder that is not empty unless --force, which removes the old lab") {
  testing::TempDir dir;
  auto lab = (dir / "lab").string();
  auto first = testing::run_mtlsprobe(
      {"pki", "init", lab, "--key-type", "ecdsa-p256", "--flaw", "root-in-intermediate-store"});
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  CHECK(fs::exists(dir / "lab/bems/intermediate/lab-root.crt"));

  auto refused = testing::run_mtlsprobe({"pki", "init", lab, "--key-type", "ecdsa-p256"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("not empty") != std::string::npos);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);

  auto forced = testing::run_mtlsprobe({"pki", "init", lab, "--key-type", "ecdsa-p256", "--force"});
  REQUIRE_MESSAGE(forced.exit_code == 0, forced.err);
  CHECK_FALSE(fs::exists(dir / "lab/bems/intermediate/lab-root.crt"));
}

TEST_CASE("pki init protects the .pfx files with the password given") {
  testing::TempDir dir;
  auto result =
      testing::run_mtlsprobe({"pki", "init", (dir / "lab").string(), "--key-type", "ecdsa-p256",
                              "--password-env", "LAB_PFX_PASSWORD"},
                             std::chrono::seconds(60), {{"LAB_PFX_PASSWORD", "s3cret pass"}});
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
  CHECK(result.out.find("s3cret") == std::string::npos);
  auto with = tls::load_credential_file(dir / "lab/bems.pfx", tls::Secret("s3cret pass"));
  REQUIRE_MESSAGE(with.ok(), with.error().message);
  CHECK(with->key);
  CHECK_FALSE(tls::load_credential_file(dir / "lab/bems.pfx", tls::Secret("nope")).ok());
  CHECK_FALSE(tls::load_credential_file(dir / "lab/lync.pfx", std::nullopt).ok());

  auto unset = testing::run_mtlsprobe(
      {"pki", "init", (dir / "other").string(), "--password-env", "MTLSPROBE_UNSET_VARIABLE"});
  CHECK(unset.exit_code == 2);
  CHECK(unset.err.find("MTLSPROBE_UNSET_VARIABLE") != std::string::npos);
}

TEST_CASE("pki flaws lists every flaw with its description") {
  auto result = testing::run_mtlsprobe({"pki", "flaws"});
  REQUIRE(result.exit_code == 0);
  for (const auto& flaw : probe::lab_flaws()) {
    CHECK(result.out.find(std::string(flaw.name)) != std::string::npos);
    CHECK(result.out.find(std::string(flaw.description)) != std::string::npos);
  }
}

TEST_CASE("pki init refuses bad input with one line and exit 2") {
  testing::TempDir dir;
  auto lab = (dir / "lab").string();
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const Case cases[] = {
      {{"--flaw", "nope"}, "missing-key, key-mismatch"},
      {{"--pool", "bemsapppool"}, "--pool"},
      {{"--instance", "bad_name.example.com"}, "--instance"},
      {{"--lync-pool", "lync..example.com"}, "--lync-pool"},
      {{"--days", "0"}, "--days"},
      {{"--revocation-url", "ftp://pki.example.com"}, "--revocation-url"},
      {{"--key-type", "dsa"}, "--key-type"},
      {{"--password-file", (dir / "missing.txt").string()}, "missing.txt"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"pki", "init", lab};
    args.insert(args.end(), c.args.begin(), c.args.end());
    INFO(joined(c.args));
    auto result = testing::run_mtlsprobe(args);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(c.expected) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "lab"));
  }
  testing::write_file(dir / "file", "x");
  auto not_folder = testing::run_mtlsprobe({"pki", "init", (dir / "file").string()});
  CHECK(not_folder.exit_code == 2);
  CHECK(not_folder.err.find("not a folder") != std::string::npos);
}

TEST_CASE("openssl itself accepts the lab: chains verify and the .pfx opens with its password") {
  testing::TempDir dir;
  probe::LabOptions options;
  options.key_type = probe::LabKeyType::ecdsa_p256;
  options.pfx_password = tls::Secret("lab password");
  auto built = probe::build_lab(dir.path(), options);
  REQUIRE_MESSAGE(built.ok(), built.error().message);
  for (const std::string side : {"bems", "lync"}) {
    for (const std::string purpose : {"sslserver", "sslclient"}) {
      auto verify = testing::run_process(
          {"openssl", "verify", "-purpose", purpose, "-CAfile",
           (dir / (side + "/trusted-root/lab-root.crt")).string(), "-untrusted",
           (dir / (side + "/intermediate/lab-issuing-ca.crt")).string(),
           (dir / (side + "/personal/" + side + ".crt")).string()});
      CHECK_MESSAGE(verify.exit_code == 0,
                    side << " " << purpose << ": " << verify.out << verify.err);
    }
  }
  auto pkcs12 = testing::run_process({"openssl", "pkcs12", "-in", (dir / "bems.pfx").string(),
                                      "-passin", "pass:lab password", "-nokeys", "-info"});
  CHECK_MESSAGE(pkcs12.exit_code == 0, pkcs12.err);
  CHECK(pkcs12.err.find("AES-256-CBC") != std::string::npos);
  auto wrong = testing::run_process({"openssl", "pkcs12", "-in", (dir / "bems.pfx").string(),
                                     "-passin", "pass:wrong", "-nokeys"});
  CHECK(wrong.exit_code != 0);
}
