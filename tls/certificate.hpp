#pragma once
// A shared, immutable X.509 certificate and the plain facts read from it.
// Everything outside tls/ works with CertificateInfo, never with X509*.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/result.hpp"

typedef struct x509_st X509;

namespace tls {

using Clock = std::chrono::system_clock;

struct CertificateInfo {
  std::string subject;      // one line, RFC 2253 order: "CN=a.example.com,O=Example"
  std::string issuer;       // same form
  std::string common_name;  // the last CN of the subject, empty when there is none
  std::string serial_hex;   // upper-case hex, no separators
  std::string sha256;       // upper-case hex pairs joined by ':'
  Clock::time_point not_before;
  Clock::time_point not_after;
  int version = 3;

  bool has_san = false;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_ip;     // textual IPv4 / IPv6
  std::vector<std::string> san_other;  // "email:..", "URI:..", ...

  bool has_eku = false;
  std::vector<std::string> eku;  // "serverAuth", "clientAuth", "anyExtendedKeyUsage" or the OID
  bool has_key_usage = false;
  std::vector<std::string> key_usage;  // "digitalSignature", "keyCertSign", ...
  // Microsoft Application Policies (1.3.6.1.4.1.311.21.10), which AD CS adds
  // beside the EKU and schannel enforces as one when present: the purposes
  // named as in `eku` ("clientAuth", or the OID).
  bool has_application_policies = false;
  std::vector<std::string> application_policies;

  bool is_ca = false;        // basicConstraints CA:TRUE
  int path_length = -1;      // -1 when unlimited or absent
  bool self_issued = false;  // subject == issuer
  bool self_signed = false;  // self-issued and its signature verifies with its own key

  std::string key_type;  // "RSA", "EC", "RSA-PSS", "Ed25519", "Ed448", "DSA", ...
  int key_bits = 0;
  std::string curve;  // for EC keys, e.g. "prime256v1"

  std::string signature_algorithm;  // e.g. "sha256WithRSAEncryption", "RSASSA-PSS"
  std::string signature_digest;     // "SHA256", "SHA1", "MD5", or "" for intrinsic (Ed25519)
  bool signature_is_pss = false;

  std::vector<std::string> crl_urls;        // every CRL distribution point URI
  std::vector<std::string> ocsp_urls;       // AIA OCSP
  std::vector<std::string> ca_issuer_urls;  // AIA caIssuers

  std::vector<std::string> policies;  // certificatePolicies OIDs ("anyPolicy" by name)
  // The AD CS certificate template the CA issued it from: the v2 extension's
  // template OID (with its version), or the v1 extension's template name.
  // Empty when the certificate carries neither (public and non-Windows CAs).
  std::string template_id;
  int template_major = -1;  // v2 only; -1 when absent
  int template_minor = -1;

  std::size_t subject_der_size = 0;  // DER size of the subject name (acceptable-CA lists)
  std::vector<std::uint8_t> subject_der;
  std::vector<std::uint8_t> issuer_der;
};

class Certificate {
 public:
  // Takes ownership of `x509` (must not be null).
  explicit Certificate(X509* x509);

  // Parses one certificate from DER or PEM text.
  static Result<Certificate> from_der(const std::vector<std::uint8_t>& der);
  static Result<Certificate> from_pem(const std::string& pem);

  // For code inside tls/ only: parses the DER certificate at `cursor` (moved
  // past it, as d2i_X509 does) without decoding its public key, which is
  // decoded on first need (native(), the key and self-signature facts).
  // OpenSSL 3 decodes every key as it parses (~70 us of provider decoders a
  // certificate), and of a Windows store's 1,000 intermediates a path uses
  // one or two. nullopt when it is no certificate, OpenSSL's errors queued.
  static std::optional<Certificate> parse_deferring_key(const unsigned char*& cursor, long length);

  // Every fact, read on first use (decoding the key) and shared by copies.
  const CertificateInfo& info() const;
  // The facts a whole store's listing and the store-wide rules read, equal
  // to info()'s: read on first use without the key, so a store of 1,400
  // certificates does not pay for every one's key, extensions and signature.
  const std::string& subject() const;
  const std::string& sha256() const;
  const std::vector<std::uint8_t>& subject_der() const;
  const std::vector<std::uint8_t>& issuer_der() const;
  bool self_issued() const;
  // Self-issued and its signature verifies with its own key: verified on
  // first use, and only for a self-issued certificate.
  bool self_signed() const;

  std::string pem() const;
  std::vector<std::uint8_t> der() const;

  // True when both are the same certificate (same DER).
  bool same_as(const Certificate& other) const;
  // True when `issuer`'s subject is this certificate's issuer and its key signed this one.
  bool issued_by(const Certificate& issuer) const;

  // For code inside tls/ only: the handle (its key decoded) stays owned by
  // this object, and is the same handle on every call.
  X509* native() const;
  // For code inside tls/ only: OpenSSL's hashes of the canonical subject and
  // issuer names (X509_subject_name_hash), read once: equal names, equal hashes.
  unsigned long subject_hash() const;
  unsigned long issuer_hash() const;

 private:
  struct State;
  explicit Certificate(std::shared_ptr<const State> state);
  const State& names() const;  // the facts read without the key, read once

  std::shared_ptr<const State> state_;
};

// Short text for messages: "CN=x (serial 0A1B, SHA-256 AB:CD:..)".
std::string describe(const CertificateInfo& info);

}  // namespace tls
