#pragma once
// The certificates tests need, made at test time with tls/issuer: CAs and
// leaves by name, as objects (for records and stores built by hand) and as
// PEM files (for a peer that reads files). P-256 keys, so a PKI costs
// milliseconds. The `openssl` command line makes certificates only where
// the point is "made by another tool" (tests/support/openssl_pki.hpp).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tls/handshake.hpp"
#include "tls/issuer.hpp"
#include "tls/store.hpp"

namespace testing {

class TestPki {
 public:
  // A self-signed CA.
  void root(const std::string& name, const std::string& common_name);
  // A CA issued by `issuer`.
  void intermediate(const std::string& name, const std::string& common_name,
                    const std::string& issuer);
  // A leaf issued by `issuer`: SAN DNS:common_name (and DNS:localhost,
  // IP:127.0.0.1 for loopback tests), EKU serverAuth and clientAuth.
  void leaf(const std::string& name, const std::string& common_name, const std::string& issuer);
  // Anything else; `spec` as tls::issue_certificate takes it. With
  // `reuse_issuer_key` the certificate gets its issuer's key (long chains
  // without a key per link).
  void issue(const std::string& name, const tls::CertificateSpec& spec, const std::string& issuer,
             bool reuse_issuer_key = false);

  const tls::Certificate& certificate(const std::string& name) const;
  const tls::PrivateKey& private_key(const std::string& name) const;
  // NAME.pem and NAME.key in the PKI's folder.
  std::filesystem::path pem(const std::string& name) const;
  std::filesystem::path key(const std::string& name) const;
  const TempDir& dir() const { return dir_; }

  tls::Credentials credentials(const std::string& name,
                               const std::vector<std::string>& chain = {}) const;
  tls::PeerTrust trust(const std::vector<std::string>& roots,
                       const std::vector<std::string>& intermediates = {}) const;
  // An endpoint's store as `check` would load it: `name` and its key in
  // personal/, then trusted-root/ and intermediate/.
  tls::Store store(const std::string& name, const std::vector<std::string>& roots,
                   const std::vector<std::string>& intermediates = {}) const;

 private:
  struct Entry {
    tls::Certificate certificate;
    tls::PrivateKey key;
  };
  const Entry& entry(const std::string& name) const;
  void add(const std::string& name, const tls::CertificateSpec& spec, const std::string& issuer,
           bool reuse_issuer_key);

  TempDir dir_;
  std::map<std::string, Entry> entries_;
};

// root -> intermediate -> server ("localhost") and client leaves, and an
// unrelated root with its own leaf ("stranger").
void make_lab(TestPki& pki);

// One such lab per test program.
const TestPki& shared_lab();

// A PKI `make` fills once per test program (one per distinct `make`).
template <typename Make>
const TestPki& made_once(Make make) {
  static TestPki pki;
  static const bool made = (make(pki), true);
  (void)made;
  return pki;
}

}  // namespace testing
