#include "tests/support/openssl_pki.hpp"

#include <doctest/doctest.h>

#include <random>

#include "tests/support/process.hpp"
#include "tls/credentials.hpp"

namespace testing {
namespace fs = std::filesystem;
namespace {

std::string random_serial() {
  static std::mt19937_64 generator(std::random_device{}());
  char text[32];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(generator() >> 1));
  return text;
}

std::vector<std::string> newkey(const std::string& key_spec) {
  if (key_spec.starts_with("ec:"))
    return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + key_spec.substr(3)};
  return {"-newkey", key_spec};
}

}  // namespace

void openssl_issue(const OpensslIssue& what) {
  const fs::path config = what.cert.string() + ".cnf";
  write_file(config, "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n" + what.extensions);
  std::vector<std::string> argv = {"openssl",
                                   "req",
                                   "-x509",
                                   "-config",
                                   config.string(),
                                   "-extensions",
                                   "ext",
                                   "-subj",
                                   what.subject,
                                   "-days",
                                   std::to_string(what.days),
                                   "-set_serial",
                                   random_serial(),
                                   "-sha256",
                                   "-nodes",
                                   "-keyout",
                                   what.key.string(),
                                   "-out",
                                   what.cert.string()};
  for (const auto& arg : newkey(what.key_spec)) argv.push_back(arg);
  if (!what.issuer_cert.empty()) {
    for (const std::string& arg : {std::string("-CA"), what.issuer_cert.string(),
                                   std::string("-CAkey"), what.issuer_key.string()})
      argv.push_back(arg);
  }
  ProcessResult made = run_process(argv, std::chrono::seconds(60));
  REQUIRE_MESSAGE(made.exit_code == 0, "openssl req for " << what.cert << ": " << made.err);
  fs::permissions(what.key, fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(config);
}

void CliPki::root(const std::string& name, const std::string& common_name) {
  openssl_issue({pem(name), key(name), "/CN=" + common_name, kCaExtensions, {}, {}});
}

void CliPki::issue(const std::string& name, const std::string& common_name,
                   const std::string& issuer, const std::string& extensions) {
  openssl_issue({pem(name), key(name), "/CN=" + common_name, extensions, pem(issuer), key(issuer)});
}

tls::Certificate CliPki::certificate(const std::string& name) const {
  auto loaded = tls::load_credential_file(pem(name), std::nullopt);
  REQUIRE_MESSAGE(loaded.ok(), name);
  REQUIRE(!loaded->certificates.empty());
  return loaded->certificates.front();
}

tls::Credentials CliPki::credentials(const std::string& name,
                                     const std::vector<std::string>& chain) const {
  auto key_file = tls::load_credential_file(key(name), std::nullopt);
  REQUIRE_MESSAGE(key_file.ok(), name);
  REQUIRE(key_file->key.has_value());
  tls::Credentials credentials{certificate(name), *key_file->key, {}};
  for (const std::string& extra : chain) credentials.chain.push_back(certificate(extra));
  return credentials;
}

tls::PeerTrust CliPki::trust(const std::vector<std::string>& roots,
                             const std::vector<std::string>& intermediates) const {
  tls::PeerTrust trust;
  for (const auto& name : roots) trust.roots.push_back(certificate(name));
  for (const auto& name : intermediates) trust.intermediates.push_back(certificate(name));
  return trust;
}

CliPki& shared_cli_lab() {
  static CliPki pki;
  static const bool made = [] {
    pki.root("root", "Lab Root");
    pki.issue("intermediate", "Lab Intermediate", "root", kCaExtensions);
    pki.issue("server", "localhost", "intermediate", kLeafExtensions);
    pki.issue("client", "client.lab.example", "intermediate", kLeafExtensions);
    pki.root("other-root", "Other Root");
    pki.issue("stranger", "stranger.example", "other-root", kLeafExtensions);
    return true;
  }();
  (void)made;
  return pki;
}

void openssl_issue_leaf(const OpensslPki& pki, const fs::path& cert, const fs::path& key,
                        const OpensslLeafSpec& leaf) {
  std::string san;
  for (const auto& name : leaf.dns) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  std::string extensions =
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
      "crlDistributionPoints=URI:http://pki.example.com/crl/issuing.crl\n";
  if (!san.empty()) extensions += "subjectAltName=" + san + "\n";
  if (!leaf.eku.empty()) extensions += "extendedKeyUsage=" + leaf.eku + "\n";
  openssl_issue({cert, key, "/CN=" + leaf.cn, extensions, pki.intermediate_cert,
                 pki.intermediate_key, leaf.key, leaf.days});
}

OpensslPki make_openssl_pki(const fs::path& folder, const OpensslLeafSpec& leaf) {
  fs::create_directories(folder);
  OpensslPki pki{folder / "root.crt",    folder / "root.key", folder / "issuing.crt",
                 folder / "issuing.key", folder / "leaf.crt", folder / "leaf.key"};
  openssl_issue({pki.root_cert,
                 pki.root_key,
                 "/O=Other Tool/CN=OpenSSL CLI Root",
                 "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
                 {},
                 {},
                 "rsa:2048",
                 400});
  openssl_issue({pki.intermediate_cert, pki.intermediate_key,
                 "/O=Other Tool/CN=OpenSSL CLI Issuing CA",
                 "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                 "keyUsage=critical,keyCertSign,cRLSign\n"
                 "crlDistributionPoints=URI:http://pki.example.com/crl/root.crl\n",
                 pki.root_cert, pki.root_key, "rsa:2048", 300});
  openssl_issue_leaf(pki, pki.leaf_cert, pki.leaf_key, leaf);
  return pki;
}

fs::path make_store(const fs::path& store, const OpensslPki& pki) {
  fs::create_directories(store / "personal");
  fs::create_directories(store / "trusted-root");
  fs::create_directories(store / "intermediate");
  fs::copy_file(pki.leaf_cert, store / "personal" / "cert.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki.leaf_key, store / "personal" / "key.pem", fs::copy_options::overwrite_existing);
  fs::permissions(store / "personal" / "key.pem", fs::perms::owner_read | fs::perms::owner_write);
  fs::copy_file(pki.root_cert, store / "trusted-root" / "root.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki.intermediate_cert, store / "intermediate" / "issuing.pem",
                fs::copy_options::overwrite_existing);
  return store;
}

}  // namespace testing
