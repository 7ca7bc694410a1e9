#include <doctest/doctest.h>

#include <sys/stat.h>
#include "tests/support/keys.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/chain.hpp"
#include "tls/issuer.hpp"

namespace {

using namespace std::chrono_literals;

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

tls::PrivateKey rsa_key() { return tls::generate_key({tls::KeySpec::rsa, 2048, ""}).value(); }
tls::CertificateSpec ca_spec(const std::string& name) {
  tls::CertificateSpec spec;
  spec.common_name = name;
  spec.organization = "mtlsprobe tests";
  spec.is_ca = true;
  return spec;
}

tls::CertificateSpec leaf_spec() {
  tls::CertificateSpec spec;
  spec.common_name = "pool.example.com";
  spec.dns_names = {"pool.example.com", "node1.example.com"};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.eku = {"serverAuth", "clientAuth"};
  spec.crl_urls = {"http://pki.example.com/crl/issuing.crl"};
  spec.ocsp_urls = {"http://pki.example.com/ocsp"};
  spec.ca_issuer_urls = {"http://pki.example.com/issuing.crt"};
  return spec;
}

// Key generation dominates the run time, so the fixture keys are made once;
// each case still issues its own certificates.
const tls::PrivateKey& shared_root_key() {
  static const tls::PrivateKey key = rsa_key();
  return key;
}
const tls::PrivateKey& shared_leaf_key() {
  static const tls::PrivateKey key = rsa_key();
  return key;
}

// Root (RSA), intermediate (EC) and leaf (RSA), shared by the cases.
struct Chain {
  tls::PrivateKey root_key = shared_root_key();
  tls::Certificate root =
      tls::issue_certificate(ca_spec("Test Root"), root_key, nullptr, root_key).value();
  tls::PrivateKey issuing_key = testing::ec_key();
  tls::Certificate issuing =
      tls::issue_certificate(ca_spec("Test Issuing"), issuing_key, &root, root_key).value();
  tls::PrivateKey leaf_key = shared_leaf_key();
  tls::Certificate leaf =
      tls::issue_certificate(leaf_spec(), leaf_key, &issuing, issuing_key).value();
};

int file_mode(const std::filesystem::path& file) {
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  return static_cast<int>(info.st_mode & 0777);
}

}  // namespace

TEST_CASE("generated keys have the requested type and size") {
  auto rsa = tls::generate_key({tls::KeySpec::rsa, 1024, ""});
  REQUIRE(rsa.ok());
  CHECK(rsa->type() == "RSA");
  CHECK(rsa->bits() == 1024);
  auto ec = tls::generate_key({tls::KeySpec::ec, 0, "P-384"});
  REQUIRE(ec.ok());
  CHECK(ec->type() == "EC");
  CHECK(ec->bits() == 384);
  auto bad = tls::generate_key({tls::KeySpec::ec, 0, "no-such-curve"});
  CHECK_FALSE(bad.ok());
}

TEST_CASE("an issued leaf carries exactly the requested names, usages, URLs and validity") {
  Chain chain;
  const auto& info = chain.leaf.info();
  CHECK(info.common_name == "pool.example.com");
  CHECK(info.issuer.find("CN=Test Issuing") != std::string::npos);
  CHECK(info.san_dns == std::vector<std::string>{"pool.example.com", "node1.example.com"});
  CHECK(info.san_ip == std::vector<std::string>{"127.0.0.1", "0:0:0:0:0:0:0:1"});
  CHECK(info.eku == std::vector<std::string>{"serverAuth", "clientAuth"});
  CHECK(contains(info.key_usage, "digitalSignature"));
  CHECK(contains(info.key_usage, "keyEncipherment"));
  CHECK_FALSE(info.is_ca);
  CHECK(info.crl_urls == std::vector<std::string>{"http://pki.example.com/crl/issuing.crl"});
  CHECK(info.ocsp_urls == std::vector<std::string>{"http://pki.example.com/ocsp"});
  CHECK(info.ca_issuer_urls == std::vector<std::string>{"http://pki.example.com/issuing.crt"});
  CHECK(info.key_type == "RSA");
  CHECK(info.key_bits == 2048);
  CHECK(info.signature_digest == "SHA256");
  CHECK(info.not_before < tls::Clock::now());
  CHECK(info.not_after > tls::Clock::now() + 364 * 24h);
  CHECK(info.serial_hex.size() == 32);  // 16 random bytes, top bit clear
  CHECK(chain.leaf.issued_by(chain.issuing));
}

TEST_CASE("CA certificates get CA usages, a path length and are self-signed at the root") {
  Chain chain;
  CHECK(chain.root.info().self_signed);
  CHECK(chain.root.info().is_ca);
  CHECK(contains(chain.root.info().key_usage, "keyCertSign"));
  CHECK(contains(chain.root.info().key_usage, "cRLSign"));
  auto spec = ca_spec("Limited");
  spec.path_length = 0;
  auto limited = tls::issue_certificate(spec, chain.issuing_key, &chain.root, chain.root_key);
  REQUIRE(limited.ok());
  CHECK(limited->info().path_length == 0);
  CHECK_FALSE(limited->info().self_signed);
}

TEST_CASE("an EC leaf gets digitalSignature only and a SHA-1 request is honoured") {
  Chain chain;
  auto spec = leaf_spec();
  spec.digest = "SHA1";
  auto key = testing::ec_key();
  auto leaf = tls::issue_certificate(spec, key, &chain.issuing, chain.issuing_key);
  REQUIRE(leaf.ok());
  CHECK(leaf->info().key_usage == std::vector<std::string>{"digitalSignature"});
  CHECK(leaf->info().key_type == "EC");
  CHECK(leaf->info().signature_digest == "SHA1");
}

TEST_CASE("the validity period is set to the second") {
  Chain chain;
  auto spec = leaf_spec();
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(tls::Clock::now());
  spec.not_before = now - 400 * 24h;
  spec.not_after = now - 24h;
  auto leaf = tls::issue_certificate(spec, chain.leaf_key, &chain.issuing, chain.issuing_key);
  REQUIRE(leaf.ok());
  CHECK(leaf->info().not_before == now - 400 * 24h);
  CHECK(leaf->info().not_after == now - 24h);
}

TEST_CASE("a chain of issued certificates verifies against its root, not against another") {
  Chain chain;
  tls::VerifyPolicy policy;
  policy.purpose = tls::Purpose::server_auth;
  policy.peer_name = "node1.example.com";
  auto result = tls::verify_chain(chain.leaf, {chain.issuing}, {chain.root}, policy);
  CHECK_MESSAGE(result.trusted, result.error);
  CHECK(result.chain.size() == 3);

  auto other_key = testing::ec_key();
  auto other_root =
      tls::issue_certificate(ca_spec("Other Root"), other_key, nullptr, other_key).value();
  auto untrusted = tls::verify_chain(chain.leaf, {chain.issuing}, {other_root}, policy);
  CHECK_FALSE(untrusted.trusted);
}

TEST_CASE("one set of trust anchors verifies on many threads at once as it does on one") {
  Chain chain;
  auto other_key = testing::ec_key();
  auto other_root =
      tls::issue_certificate(ca_spec("Other Root"), other_key, nullptr, other_key).value();
  const tls::TrustAnchors anchors({other_root, chain.root});
  tls::VerifyPolicy policy;
  policy.purpose = tls::Purpose::server_auth;
  auto alone = tls::verify_chain(chain.leaf, {chain.issuing}, anchors, policy);
  REQUIRE_MESSAGE(alone.trusted, alone.error);

  std::atomic<int> same{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto result = tls::verify_chain(chain.leaf, {chain.issuing}, anchors, policy);
        auto refused = tls::verify_chain(chain.leaf, {}, anchors, policy);
        if (result.trusted && result.chain.size() == 3 && result.chain[2].same_as(chain.root) &&
            !refused.trusted && refused.reason == tls::ChainError::issuer_not_found)
          ++same;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(same == 40);
}

TEST_CASE(
    "unrelated CAs among the untrusted certificates change neither the verdict nor the path") {
  Chain chain;
  std::vector<tls::Certificate> crowd;
  auto crowd_key = testing::ec_key();
  for (int i = 0; i < 40; ++i)
    crowd.push_back(tls::issue_certificate(ca_spec("Unrelated CA " + std::to_string(i)), crowd_key,
                                           &chain.root, chain.root_key)
                        .value());
  std::vector<tls::Certificate> untrusted = crowd;
  untrusted.insert(untrusted.begin() + 20, chain.issuing);
  tls::VerifyPolicy policy;
  auto found = tls::verify_chain(chain.leaf, untrusted, {chain.root}, policy);
  CHECK_MESSAGE(found.trusted, found.error);
  REQUIRE(found.chain.size() == 3);
  CHECK(found.chain[1].same_as(chain.issuing));

  auto missing = tls::verify_chain(chain.leaf, crowd, {chain.root}, policy);
  CHECK_FALSE(missing.trusted);
  CHECK(missing.reason == tls::ChainError::issuer_not_found);
  CHECK(missing.error_depth == 0);
}

TEST_CASE("bad specs are refused with a reason") {
  Chain chain;
  auto spec = leaf_spec();
  spec.dns_names.push_back("a.example.com,DNS:evil.example.com");
  auto comma = tls::issue_certificate(spec, chain.leaf_key, &chain.issuing, chain.issuing_key);
  REQUIRE_FALSE(comma.ok());
  CHECK(comma.error().message.find("comma") != std::string::npos);

  auto wrong_issuer_key =
      tls::issue_certificate(leaf_spec(), chain.leaf_key, &chain.issuing, chain.root_key);
  CHECK_FALSE(wrong_issuer_key.ok());

  auto self_signed_with_other_key =
      tls::issue_certificate(ca_spec("Odd Root"), chain.issuing_key, nullptr, chain.root_key);
  CHECK_FALSE(self_signed_with_other_key.ok());

  spec = leaf_spec();
  spec.digest = "NOPE";
  CHECK_FALSE(tls::issue_certificate(spec, chain.leaf_key, &chain.issuing, chain.issuing_key).ok());
}

TEST_CASE("PEM certificate and key files load back; the key file is private") {
  Chain chain;
  testing::TempDir dir;
  REQUIRE(tls::write_pem(dir / "leaf.crt", chain.leaf).ok());
  REQUIRE(tls::write_pem(dir / "chain.crt", std::vector{chain.issuing, chain.root}).ok());
  REQUIRE(tls::write_private_key_pem(dir / "leaf.key", chain.leaf_key).ok());
  CHECK(file_mode(dir / "leaf.key") == 0600);

  auto cert = tls::load_credential_file(dir / "leaf.crt", std::nullopt);
  REQUIRE(cert.ok());
  REQUIRE(cert->certificates.size() == 1);
  CHECK(cert->certificates[0].same_as(chain.leaf));
  auto bundle = tls::load_credential_file(dir / "chain.crt", std::nullopt);
  REQUIRE(bundle.ok());
  CHECK(bundle->certificates.size() == 2);
  auto key = tls::load_credential_file(dir / "leaf.key", std::nullopt);
  REQUIRE(key.ok());
  REQUIRE(key->key);
  CHECK(key->key->matches(chain.leaf));
}

TEST_CASE("a key file that already exists with a loose mode is tightened") {
  Chain chain;
  testing::TempDir dir;
  testing::write_file(dir / "leaf.key", "old");
  REQUIRE(::chmod((dir / "leaf.key").c_str(), 0644) == 0);
  REQUIRE(tls::write_private_key_pem(dir / "leaf.key", chain.leaf_key).ok());
  CHECK(file_mode(dir / "leaf.key") == 0600);
}

TEST_CASE("a PKCS#12 file round-trips with a password and refuses the wrong one") {
  Chain chain;
  testing::TempDir dir;
  tls::Secret password("correct horse");
  REQUIRE(tls::write_pkcs12(dir / "leaf.pfx", chain.leaf_key, chain.leaf, {chain.issuing}, password)
              .ok());
  CHECK(file_mode(dir / "leaf.pfx") == 0600);

  auto loaded = tls::load_credential_file(dir / "leaf.pfx", password);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  CHECK(loaded->format == "PKCS#12");
  REQUIRE(loaded->key);
  CHECK(loaded->key->matches(chain.leaf));
  REQUIRE(loaded->certificates.size() == 2);
  CHECK(loaded->certificates[0].same_as(chain.leaf));
  CHECK(loaded->certificates[1].same_as(chain.issuing));

  auto wrong = tls::load_credential_file(dir / "leaf.pfx", tls::Secret("wrong"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("wrong password") != std::string::npos);
  auto none = tls::load_credential_file(dir / "leaf.pfx", std::nullopt);
  CHECK_FALSE(none.ok());
}

TEST_CASE("a PKCS#12 file without a password loads without one") {
  Chain chain;
  testing::TempDir dir;
  REQUIRE(tls::write_pkcs12(dir / "leaf.pfx", chain.leaf_key, chain.leaf, {}, std::nullopt).ok());
  auto loaded = tls::load_credential_file(dir / "leaf.pfx", std::nullopt);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  REQUIRE(loaded->key);
  CHECK(loaded->key->matches(chain.leaf));
  REQUIRE(loaded->certificates.size() == 1);
  CHECK(loaded->certificates[0].same_as(chain.leaf));
}

TEST_CASE("writing into a missing folder fails naming the file") {
  Chain chain;
  testing::TempDir dir;
  auto status = tls::write_pem(dir / "missing" / "leaf.crt", chain.leaf);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message.find("leaf.crt") != std::string::npos);
}

TEST_CASE("certificate policies and the AD CS template extension round-trip") {
  Chain chain;
  auto spec = leaf_spec();
  spec.policies = {"1.3.6.1.4.1.311.21.8.1.2.3", "2.5.29.32.0"};
  spec.certificate_template = tls::CertificateSpec::Template{"1.3.6.1.4.1.311.21.8.1.2.4", 100, 7};
  const auto& key = chain.leaf_key;
  auto leaf = tls::issue_certificate(spec, key, &chain.issuing, chain.issuing_key);
  REQUIRE(leaf.ok());
  CHECK(leaf->info().policies ==
        std::vector<std::string>{"1.3.6.1.4.1.311.21.8.1.2.3", "anyPolicy"});
  CHECK(leaf->info().template_id == "1.3.6.1.4.1.311.21.8.1.2.4");
  CHECK(leaf->info().template_major == 100);
  CHECK(leaf->info().template_minor == 7);
  // Without them: no extension, nothing read.
  CHECK(chain.leaf.info().policies.empty());
  CHECK(chain.leaf.info().template_id.empty());
  CHECK(chain.leaf.info().template_major == -1);
  spec.policies = {"1.2.3,4.5"};
  CHECK_FALSE(tls::issue_certificate(spec, key, &chain.issuing, chain.issuing_key).ok());
}

TEST_CASE("template extensions written by openssl: v1 name, v2 OID and version, malformed") {
  testing::TempDir dir;
  auto made_by_openssl = [&](const std::string& extension) {
    auto result = testing::run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", (dir / "k.pem").string(), "-out", (dir / "c.pem").string(), "-subj",
         "/CN=t.example.com", "-days", "2", "-addext", extension});
    REQUIRE_MESSAGE(result.exit_code == 0, result.err);
    auto loaded = tls::load_credential_file(dir / "c.pem", std::nullopt);
    REQUIRE(loaded.ok());
    REQUIRE(loaded->certificates.size() == 1);
    return loaded->certificates.front().info();
  };
  auto v1 = made_by_openssl("1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:WebServer");
  CHECK(v1.template_id == "WebServer");
  CHECK(v1.template_major == -1);
  // SEQUENCE { OID 1.2.3.4, INTEGER 100, INTEGER 5 }
  auto v2 = made_by_openssl("1.3.6.1.4.1.311.21.7=DER:300B06032A0304020164020105");
  CHECK(v2.template_id == "1.2.3.4");
  CHECK(v2.template_major == 100);
  CHECK(v2.template_minor == 5);
  // SEQUENCE { INTEGER 1 }: no OID first, so no template.
  auto malformed = made_by_openssl("1.3.6.1.4.1.311.21.7=DER:3003020101");
  CHECK(malformed.template_id.empty());
}

// Issue 11 item 5: AD CS puts a critical Microsoft Application Policies
// extension (1.3.6.1.4.1.311.21.10) on certificates and schannel accepts
// it; OpenSSL alone refuses any critical extension it does not know. The
// certificates come from the openssl CLI, which can write any extension.
TEST_CASE("a critical Microsoft Application Policies extension verifies; another unknown one not") {
  testing::TempDir dir;
  auto openssl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto run = testing::run_process(argv, std::chrono::seconds(30));
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  };
  const std::string root_key = (dir / "root.key").string(), root = (dir / "root.crt").string();
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", root_key, "-out", root, "-days", "30", "-subj", "/CN=AD CS Root", "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
  // SEQUENCE { SEQUENCE { OID serverAuth } }: the policies name serverAuth.
  const std::string microsoft =
      "1.3.6.1.4.1.311.21.10=critical,DER:30:0c:30:0a:06:08:2b:06:01:05:05:07:03:01";
  auto leaf = [&](const std::string& name, const std::string& extension) {
    const std::string key = (dir / (name + ".key")).string(),
                      csr = (dir / (name + ".csr")).string(),
                      crt = (dir / (name + ".crt")).string(),
                      ext = (dir / (name + ".ext")).string();
    testing::write_file(ext,
                        "basicConstraints=critical,CA:FALSE\n"
                        "keyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth,clientAuth\n"
                        "subjectAltName=DNS:pool.example.com\n" +
                            extension + "\n");
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", "/CN=pool.example.com"});
    openssl({"x509", "-req", "-in", csr, "-CA", root, "-CAkey", root_key, "-CAcreateserial", "-out",
             crt, "-days", "10", "-extfile", ext});
    return tls::Certificate::from_pem(testing::read_file(crt)).value();
  };
  auto anchor = tls::Certificate::from_pem(testing::read_file(root)).value();
  tls::VerifyPolicy policy;
  policy.purpose = tls::Purpose::server_auth;
  policy.peer_name = "pool.example.com";

  auto accepted = tls::verify_chain(leaf("adcs", microsoft), {}, {anchor}, policy);
  CHECK_MESSAGE(accepted.trusted, accepted.error);

  auto refused =
      tls::verify_chain(leaf("other", "1.2.3.4.5=critical,DER:05:00"), {}, {anchor}, policy);
  CHECK_FALSE(refused.trusted);
  CHECK(refused.reason == tls::ChainError::critical_extension);
  CHECK(refused.error_depth == 0);
}
