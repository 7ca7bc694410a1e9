// Loading certificates, keys and stores from files made by the openssl CLI,
// and every kind of bad input the brief names.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/support/openssl_pki.hpp"
#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/store.hpp"

namespace fs = std::filesystem;
using testing::TempDir;

using testing::mentions;

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = testing::run_process(argv);
  REQUIRE_MESSAGE(result.exit_code == 0, result.err);
}

}  // namespace

TEST_CASE("a PEM file with several certificates loads all of them in order") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  testing::write_file(dir / "bundle.pem", testing::read_file(pki.intermediate_cert) +
                                              testing::read_file(pki.root_cert));
  auto loaded = tls::load_credential_file(dir / "bundle.pem", std::nullopt);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->certificates.size() == 2);
  CHECK(loaded->certificates[0].info().common_name == "OpenSSL CLI Issuing CA");
  CHECK(loaded->certificates[1].info().self_signed);
  CHECK_FALSE(loaded->key);
}

TEST_CASE("a DER certificate and a DER key load") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"x509", "-in", pki.leaf_cert.string(), "-outform", "DER", "-out",
           (dir / "leaf.cer").string()});
  openssl({"pkey", "-in", pki.leaf_key.string(), "-outform", "DER", "-out",
           (dir / "leaf.der.key").string()});
  auto cert = tls::load_credential_file(dir / "leaf.cer", std::nullopt);
  REQUIRE(cert.ok());
  CHECK(cert->format == "DER");
  CHECK(cert->certificates.at(0).info().san_dns.size() == 2);
  auto key = tls::load_credential_file(dir / "leaf.der.key", std::nullopt);
  REQUIRE(key.ok());
  REQUIRE(key->key);
  CHECK(key->key->matches(cert->certificates.at(0)));
}

TEST_CASE("an encrypted PKCS#8 key needs its password and refuses a wrong one") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"pkcs8", "-topk8", "-in", pki.leaf_key.string(), "-out", (dir / "enc.key").string(),
           "-passout", "pass:s3cret-pass"});
  auto none = tls::load_credential_file(dir / "enc.key", std::nullopt);
  REQUIRE_FALSE(none.ok());
  CHECK(mentions(none.error().message, "encrypted"));
  auto wrong = tls::load_credential_file(dir / "enc.key", tls::Secret("nope"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(mentions(wrong.error().message, "wrong password"));
  CHECK_FALSE(mentions(wrong.error().message, "nope"));
  auto right = tls::load_credential_file(dir / "enc.key", tls::Secret("s3cret-pass"));
  REQUIRE(right.ok());
  CHECK(right->key);
}

TEST_CASE("a PKCS#12 file loads with its password and is refused with a wrong or missing one") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"pkcs12", "-export", "-in", pki.leaf_cert.string(), "-inkey", pki.leaf_key.string(),
           "-certfile", pki.intermediate_cert.string(), "-out", (dir / "bems.pfx").string(),
           "-passout", "pass:pfx-pass"});
  auto right = tls::load_credential_file(dir / "bems.pfx", tls::Secret("pfx-pass"));
  REQUIRE(right.ok());
  CHECK(right->format == "PKCS#12");
  REQUIRE(right->key);
  REQUIRE(right->certificates.size() == 2);
  CHECK(right->key->matches(right->certificates[0]));
  auto wrong = tls::load_credential_file(dir / "bems.pfx", tls::Secret("wrong"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(mentions(wrong.error().message, "bems.pfx"));
  CHECK(mentions(wrong.error().message, "wrong password"));
  auto missing = tls::load_credential_file(dir / "bems.pfx", std::nullopt);
  REQUIRE_FALSE(missing.ok());
  CHECK(mentions(missing.error().message, "--password-env"));
}

TEST_CASE("a PKCS#12 whose MAC asks for more iterations than the limit is refused unread") {
  // Issue 16 item 11: 2^31-1 MAC iterations in a 1 KB file ran for hours.
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"pkcs12", "-export", "-in", pki.leaf_cert.string(), "-inkey", pki.leaf_key.string(),
           "-out", (dir / "slow.pfx").string(), "-passout", "pass:p", "-iter", "20000"});
  auto refused = tls::load_credential_file(dir / "slow.pfx", tls::Secret("p"), 10000);
  REQUIRE_FALSE(refused.ok());
  CHECK(mentions(refused.error().message, "slow.pfx"));
  CHECK(mentions(refused.error().message, "20000 key-derivation iterations"));
  CHECK(mentions(refused.error().message, "--pfx-max-iterations"));
  CHECK(tls::load_credential_file(dir / "slow.pfx", tls::Secret("p")).ok());
}

TEST_CASE("a DER certificate holding the bytes '-----BEGIN ' loads as DER") {
  // Issue 16 item 18: it was refused as "no PEM block found".
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"req", "-x509", "-new", "-key", pki.leaf_key.string(), "-subj",
           "/CN=-----BEGIN CERTIFICATE-----", "-days", "2", "-outform", "DER", "-out",
           (dir / "odd.der").string()});
  auto loaded = tls::load_credential_file(dir / "odd.der", std::nullopt);
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
  CHECK(loaded->format == "DER");
  CHECK(loaded->certificates.size() == 1);
}

TEST_CASE("a legacy (RC2/3DES) PKCS#12 as old Windows exports it loads") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"pkcs12", "-export", "-legacy", "-in", pki.leaf_cert.string(), "-inkey",
           pki.leaf_key.string(), "-out", (dir / "legacy.pfx").string(), "-passout",
           "pass:legacy"});
  auto loaded = tls::load_credential_file(dir / "legacy.pfx", tls::Secret("legacy"));
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
  CHECK(loaded->key);
}

// Windows' certificate export wizard writes a chain as PKCS#7 (.p7b), in DER
// or Base64; a store folder takes it like a PEM bundle.
TEST_CASE("a PKCS#7 certificate bundle (.p7b) loads in DER and PEM, in a store folder too") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  for (const std::string form : {"DER", "PEM"}) {
    CAPTURE(form);
    const fs::path bundle = dir / ("chain-" + form + ".p7b");
    openssl({"crl2pkcs7", "-nocrl", "-certfile", pki.intermediate_cert.string(), "-certfile",
             pki.root_cert.string(), "-outform", form, "-out", bundle.string()});
    auto loaded = tls::load_credential_file(bundle, std::nullopt);
    REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded->certificates.size() == 2);
    CHECK(loaded->certificates[0].info().common_name == "OpenSSL CLI Issuing CA");
    CHECK(loaded->certificates[1].info().self_signed);
    CHECK_FALSE(loaded->key);
  }
  // Enveloped data is PKCS#7 too, but no certificate bundle.
  openssl({"cms", "-encrypt", "-in", pki.root_cert.string(), "-outform", "DER", "-out",
           (dir / "enveloped.p7m").string(), pki.leaf_cert.string()});
  auto enveloped = tls::load_credential_file(dir / "enveloped.p7m", std::nullopt);
  REQUIRE_FALSE(enveloped.ok());
  CHECK(mentions(enveloped.error().message, "not a certificate bundle"));
}

TEST_CASE("bad files each give one message naming the file") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  std::string leaf = testing::read_file(pki.leaf_cert);

  testing::write_file(dir / "garbage.crt", std::string("\x30\x82\x01garbage bytes\x00\xff", 18));
  testing::write_file(dir / "truncated.pem", leaf.substr(0, leaf.size() / 2));
  testing::write_file(dir / "empty.pem", "");
  // The PEM as Windows PowerShell's Set-Content writes it: UTF-16LE with a BOM.
  std::string utf16 = "\xff\xfe";
  for (char c : leaf) utf16 += std::string{c, '\0'};
  testing::write_file(dir / "powershell.pem", utf16);
  fs::create_directories(dir / "a-folder.pem");
  {
    std::ofstream big(dir / "huge.pem", std::ios::binary);
    big.seekp(50 * 1024 * 1024);
    big.put('\n');
  }
  struct Case {
    const char* file;
    const char* reason;
  } cases[] = {{"garbage.crt", "not a certificate or key"},
               {"truncated.pem", "truncated or corrupt"},
               {"empty.pem", "empty"},
               {"powershell.pem", "UTF-16"},
               {"a-folder.pem", "is a directory"},
               {"huge.pem", "too large"},
               {"absent.pem", "no such file"}};
  for (const auto& c : cases) {
    CAPTURE(c.file);
    auto loaded = tls::load_credential_file(dir / c.file, std::nullopt);
    REQUIRE_FALSE(loaded.ok());
    CHECK(mentions(loaded.error().message, c.file));
    CHECK(mentions(loaded.error().message, c.reason));
    CHECK(loaded.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("a store reads every file of its folders and names each one it cannot use") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  auto store_dir = testing::make_store(dir / "store", pki);
  openssl({"pkey", "-in", pki.leaf_key.string(), "-outform", "DER", "-out",
           (store_dir / "trusted-root" / "oops.der").string()});
  testing::write_file(store_dir / "intermediate" / "notes.txt", "not a cert");
  tls::StoreOptions options;
  options.folder = store_dir;
  auto store = tls::load_store(options);
  REQUIRE(store.leaf);
  CHECK(store.key);
  CHECK(store.trusted_roots.size() == 1);
  CHECK(store.intermediates.size() == 1);
  REQUIRE(store.problems.size() == 2);
  CHECK(mentions(store.problems[0].reason + store.problems[1].reason, "oops.der"));
  CHECK(mentions(store.problems[0].reason + store.problems[1].reason, "private key"));
  CHECK(mentions(store.problems[0].reason + store.problems[1].reason, "notes.txt"));
}

TEST_CASE("an empty folder is not a store") {
  TempDir dir;
  fs::create_directories(dir / "empty");
  tls::StoreOptions options;
  options.folder = dir / "empty";
  auto store = tls::load_store(options);
  REQUIRE(store.problems.size() == 1);
  CHECK(mentions(store.problems[0].reason, "not a store folder"));
}

TEST_CASE("individual flags override the store's folders") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  auto other = testing::make_openssl_pki(dir / "other");
  auto store_dir = testing::make_store(dir / "store", pki);
  tls::StoreOptions options;
  options.folder = store_dir;
  options.cert = other.leaf_cert;
  options.key = other.leaf_key;
  options.trusted_roots = {other.root_cert};
  auto store = tls::load_store(options);
  REQUIRE(store.problems.empty());
  REQUIRE(store.leaf);
  CHECK(store.leaf->file == other.leaf_cert);
  CHECK(store.key->matches(store.leaf->certificate));
  REQUIRE(store.trusted_roots.size() == 1);
  CHECK(store.trusted_roots[0].file == other.root_cert);
  CHECK(store.intermediates.size() == 1);  // still from the folder
}

// intermediate/ is read with each key left for later (issue 17): every fact
// and use of such a certificate must be the one of the certificate read whole.
TEST_CASE("a certificate whose key is decoded when needed reads the same as one read whole") {
  TempDir dir;
  auto pki = testing::make_openssl_pki(dir / "pki");
  openssl({"x509", "-in", pki.root_cert.string(), "-outform", "DER", "-out",
           (dir / "root.cer").string()});
  for (const fs::path& file : {pki.intermediate_cert, dir / "root.cer"}) {
    CAPTURE(file);
    auto whole = tls::load_credential_file(file, std::nullopt);
    auto later = tls::load_credential_file(file, std::nullopt, tls::kDefaultMaxPkcs12Iterations,
                                           tls::CertificateKeys::when_needed);
    REQUIRE((whole.ok() && later.ok()));
    REQUIRE(later->certificates.size() == 1);
    const tls::Certificate& a = whole->certificates.at(0);
    const tls::Certificate& b = later->certificates.at(0);
    // The cheap facts first, before anything decodes b's key.
    CHECK(b.subject() == a.info().subject);
    CHECK(b.sha256() == a.info().sha256);
    CHECK(b.subject_der() == a.info().subject_der);
    CHECK(b.issuer_der() == a.info().issuer_der);
    CHECK(b.subject_hash() == a.subject_hash());
    CHECK(b.issuer_hash() == a.issuer_hash());
    CHECK(b.self_issued() == a.info().self_issued);
    CHECK(b.self_signed() == a.info().self_signed);
    CHECK(b.der() == a.der());
    CHECK(b.same_as(a));
    const tls::CertificateInfo& x = a.info();
    const tls::CertificateInfo& y = b.info();
    CHECK(y.key_type == x.key_type);
    CHECK(y.key_bits == x.key_bits);
    CHECK(y.key_bits > 0);
    CHECK(y.curve == x.curve);
    CHECK(y.is_ca == x.is_ca);
    CHECK(y.key_usage == x.key_usage);
    CHECK(y.signature_algorithm == x.signature_algorithm);
    CHECK(y.not_after == x.not_after);
    CHECK(y.self_signed == x.self_signed);
  }
  CHECK(tls::Certificate::from_pem(testing::read_file(pki.root_cert))->info().self_signed);
  // Its key works: the leaf verifies against the intermediate read either way.
  auto leaf = tls::load_credential_file(pki.leaf_cert, std::nullopt);
  auto issuer = tls::load_credential_file(pki.intermediate_cert, std::nullopt,
                                          tls::kDefaultMaxPkcs12Iterations,
                                          tls::CertificateKeys::when_needed);
  REQUIRE((leaf.ok() && issuer.ok()));
  CHECK(leaf->certificates.at(0).issued_by(issuer->certificates.at(0)));
}
