#include "tests/support/test_pki.hpp"

#include <doctest/doctest.h>

#include "tests/support/keys.hpp"

namespace testing {

void TestPki::root(const std::string& name, const std::string& common_name) {
  tls::CertificateSpec spec;
  spec.common_name = common_name;
  spec.is_ca = true;
  add(name, spec, "", false);
}

void TestPki::intermediate(const std::string& name, const std::string& common_name,
                           const std::string& issuer) {
  tls::CertificateSpec spec;
  spec.common_name = common_name;
  spec.is_ca = true;
  add(name, spec, issuer, false);
}

void TestPki::leaf(const std::string& name, const std::string& common_name,
                   const std::string& issuer) {
  tls::CertificateSpec spec;
  spec.common_name = common_name;
  spec.dns_names = {common_name};
  if (common_name != "localhost") spec.dns_names.push_back("localhost");
  spec.ip_addresses = {"127.0.0.1"};
  spec.eku = {"serverAuth", "clientAuth"};
  add(name, spec, issuer, false);
}

void TestPki::issue(const std::string& name, const tls::CertificateSpec& spec,
                    const std::string& issuer, bool reuse_issuer_key) {
  add(name, spec, issuer, reuse_issuer_key);
}

void TestPki::add(const std::string& name, const tls::CertificateSpec& spec,
                  const std::string& issuer, bool reuse_issuer_key) {
  REQUIRE_MESSAGE(!entries_.count(name), name << " issued twice");
  const Entry* by = issuer.empty() ? nullptr : &entry(issuer);
  tls::PrivateKey key = reuse_issuer_key && by ? by->key : ec_key();
  auto made =
      tls::issue_certificate(spec, key, by ? &by->certificate : nullptr, by ? by->key : key);
  REQUIRE_MESSAGE(made.ok(), name << ": " << (made.ok() ? "" : made.error().message));
  REQUIRE(tls::write_pem(pem(name), *made).ok());
  REQUIRE(tls::write_private_key_pem(this->key(name), key).ok());
  entries_.emplace(name, Entry{*made, key});
}

const TestPki::Entry& TestPki::entry(const std::string& name) const {
  auto it = entries_.find(name);
  REQUIRE_MESSAGE(it != entries_.end(), "no certificate named " << name);
  return it->second;
}

const tls::Certificate& TestPki::certificate(const std::string& name) const {
  return entry(name).certificate;
}

const tls::PrivateKey& TestPki::private_key(const std::string& name) const {
  return entry(name).key;
}

std::filesystem::path TestPki::pem(const std::string& name) const { return dir_ / (name + ".pem"); }
std::filesystem::path TestPki::key(const std::string& name) const { return dir_ / (name + ".key"); }

tls::Credentials TestPki::credentials(const std::string& name,
                                      const std::vector<std::string>& chain) const {
  tls::Credentials credentials{certificate(name), private_key(name), {}};
  for (const auto& extra : chain) credentials.chain.push_back(certificate(extra));
  return credentials;
}

tls::PeerTrust TestPki::trust(const std::vector<std::string>& roots,
                              const std::vector<std::string>& intermediates) const {
  tls::PeerTrust trust;
  for (const auto& name : roots) trust.roots.push_back(certificate(name));
  for (const auto& name : intermediates) trust.intermediates.push_back(certificate(name));
  return trust;
}

tls::Store TestPki::store(const std::string& name, const std::vector<std::string>& roots,
                          const std::vector<std::string>& intermediates) const {
  tls::Store store;
  store.leaf = tls::StoredCertificate{certificate(name), pem(name)};
  store.key = private_key(name);
  store.key_file = key(name);
  for (const auto& root : roots) store.trusted_roots.push_back({certificate(root), pem(root)});
  for (const auto& ca : intermediates) store.intermediates.push_back({certificate(ca), pem(ca)});
  return store;
}

void make_lab(TestPki& pki) {
  pki.root("root", "Lab Root");
  pki.intermediate("intermediate", "Lab Intermediate", "root");
  pki.leaf("server", "localhost", "intermediate");
  pki.leaf("client", "client.lab.example", "intermediate");
  pki.root("other-root", "Other Root");
  pki.leaf("stranger", "stranger.example", "other-root");
}

const TestPki& shared_lab() {
  return made_once([](TestPki& pki) { make_lab(pki); });
}

}  // namespace testing
