#pragma once
// Certificates made with the `openssl` command line, for the tests whose
// point is "made by another tool": credential files and stores `check`
// must read (OpensslPki), and peers on another stack (CliPki). Every other
// test takes its certificates from tls/issuer (tests/support/test_pki.hpp).
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tls/handshake.hpp"

namespace testing {

// One `openssl req -x509` run: a new key (`key_spec` "rsa:2048" or
// "ec:P-256") and its certificate, self-signed when `issuer_cert` is empty.
// `subject` as -subj takes it ("/O=Other Tool/CN=..."); `extensions` as an
// openssl extfile section. The key file is made 0600. REQUIREs success.
struct OpensslIssue {
  std::filesystem::path cert, key;
  std::string subject;
  std::string extensions;
  std::filesystem::path issuer_cert, issuer_key;
  std::string key_spec = "ec:P-256";
  int days = 30;
};
void openssl_issue(const OpensslIssue& what);

inline const char* kCaExtensions =
    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n";
inline const char* kLeafExtensions =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n";

// Certificates by name in a temp folder: NAME.pem and NAME.key.
class CliPki {
 public:
  // A self-signed CA.
  void root(const std::string& name, const std::string& common_name);
  // Issued by `issuer`; `extensions` as in an openssl extfile.
  void issue(const std::string& name, const std::string& common_name, const std::string& issuer,
             const std::string& extensions);

  std::filesystem::path pem(const std::string& name) const { return dir_ / (name + ".pem"); }
  std::filesystem::path key(const std::string& name) const { return dir_ / (name + ".key"); }
  const TempDir& dir() const { return dir_; }

  tls::Certificate certificate(const std::string& name) const;
  tls::Credentials credentials(const std::string& name,
                               const std::vector<std::string>& chain = {}) const;
  tls::PeerTrust trust(const std::vector<std::string>& roots,
                       const std::vector<std::string>& intermediates = {}) const;

 private:
  TempDir dir_;
};

// root -> intermediate -> server ("localhost") and client leaves, and an
// unrelated root with its own client leaf ("stranger"); one per test program.
CliPki& shared_cli_lab();

struct OpensslLeafSpec {
  std::string cn = "bemsapppool.example.com";
  std::vector<std::string> dns = {"bemsapppool.example.com", "bemsserver01.example.com"};
  std::string eku = "serverAuth,clientAuth";
  std::string key = "rsa:2048";  // or "ec:P-256"
  int days = 200;
};

// A BEMS-like PKI: root -> issuing CA -> leaf, RSA, files in `folder`.
struct OpensslPki {
  std::filesystem::path root_cert, root_key, intermediate_cert, intermediate_key, leaf_cert,
      leaf_key;
};
OpensslPki make_openssl_pki(const std::filesystem::path& folder, const OpensslLeafSpec& leaf = {});

// Issues one more leaf from an existing PKI's intermediate.
void openssl_issue_leaf(const OpensslPki& pki, const std::filesystem::path& cert,
                        const std::filesystem::path& key, const OpensslLeafSpec& leaf);

// Lays the PKI out as a store folder: personal/, trusted-root/, intermediate/.
std::filesystem::path make_store(const std::filesystem::path& store, const OpensslPki& pki);

}  // namespace testing
