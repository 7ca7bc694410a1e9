#pragma once
// Certificate issuing for the lab PKI and the tests: keys, X.509 v3
// certificates with the extensions a Windows/Lync deployment looks at, and
// the files (PEM, private key, PKCS#12) that a store folder holds.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/credentials.hpp"
#include "tls/result.hpp"

namespace tls {

struct KeySpec {
  enum Type { rsa, ec };
  Type type = rsa;
  int bits = 2048;              // RSA only
  std::string curve = "P-256";  // EC only: "P-256", "P-384", "P-521"
};

Result<PrivateKey> generate_key(const KeySpec& spec);

struct CertificateSpec {
  std::string common_name;
  std::string organization;         // O, omitted when empty
  std::string organizational_unit;  // OU, omitted when empty
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  int path_length = -1;          // CA only; -1 = no pathLenConstraint
  std::vector<std::string> eku;  // "serverAuth", "clientAuth", ... or dotted OIDs; empty = none
  // Empty = the usual defaults: CA keyCertSign+cRLSign; leaf digitalSignature,
  // plus keyEncipherment for RSA keys. Names as in OpenSSL's config syntax.
  std::vector<std::string> key_usage;
  Clock::time_point not_before = Clock::now() - std::chrono::hours(1);
  Clock::time_point not_after = Clock::now() + std::chrono::hours(24 * 365);
  std::string digest = "SHA256";  // "SHA256", "SHA384", "SHA1", ...
  std::vector<std::string> crl_urls;
  std::vector<std::string> ocsp_urls;
  std::vector<std::string> ca_issuer_urls;
  std::vector<std::string> policies;  // certificatePolicies OIDs; empty = no extension
  // Microsoft Application Policies, as AD CS adds them beside the EKU:
  // "clientAuth", "serverAuth" or dotted OIDs; empty = no extension.
  std::vector<std::string> application_policies;
  // An AD CS v2 certificate template extension, as an enterprise CA adds it.
  struct Template {
    std::string oid;
    int major_version = 100;
    int minor_version = 0;
  };
  std::optional<Template> certificate_template;
  std::optional<std::vector<std::uint8_t>> serial;  // big-endian; random 16 bytes when empty
};

// Issues a certificate for `subject_key`. With `issuer_cert` null the
// certificate is self-signed and `issuer_key` must be `subject_key`'s pair.
Result<Certificate> issue_certificate(const CertificateSpec& spec, const PrivateKey& subject_key,
                                      const Certificate* issuer_cert, const PrivateKey& issuer_key);

// Writers. Each replaces the file; errors name the file.
Status write_pem(const std::filesystem::path& file, const Certificate& certificate);
Status write_pem(const std::filesystem::path& file, const std::vector<Certificate>& certificates);
// Unencrypted PKCS#8 PEM, created with mode 0600 (never world-readable, not even briefly).
Status write_private_key_pem(const std::filesystem::path& file, const PrivateKey& key);
// Key + certificate + chain. With a password: AES-256-CBC with PBKDF2 and a
// SHA-256 MAC. Without: no encryption and no MAC password (the file is still
// created with mode 0600 because it holds the key).
Status write_pkcs12(const std::filesystem::path& file, const PrivateKey& key,
                    const Certificate& certificate, const std::vector<Certificate>& chain,
                    const std::optional<Secret>& password);

}  // namespace tls
