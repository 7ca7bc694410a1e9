#pragma once
// Chain building and verification against explicit trust anchors. The
// system store is consulted only when the policy asks for it, so a missing
// intermediate or an untrusted root is detected, not papered over.
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"

namespace tls {

enum class Purpose { any, server_auth, client_auth };

struct VerifyPolicy {
  Purpose purpose = Purpose::any;
  std::optional<Clock::time_point> at;   // validation time; now when empty
  std::optional<std::string> peer_name;  // DNS name or IP literal that the leaf must cover
  bool check_time = true;                // false: validity dates are judged elsewhere
  bool system_roots = false;             // also trust the system's default roots
  int max_depth = -1;                    // -1: OpenSSL's default
  // Our stricter policy on top of RFC 5280 path validation (see README):
  // the leaf must name its purpose in an EKU, names come from the SAN only,
  // RSA < 2048 / EC < 256 bit keys and SHA-1 / MD5 signatures are refused.
  bool strict = true;
  std::vector<std::vector<std::uint8_t>> crls_der;  // CRLs to check (all levels) when non-empty
};

struct ChainVerification {
  bool trusted = false;
  int error_code = 0;    // X509_V_ERR_* value, 0 when trusted
  std::string error;     // readable reason
  int error_depth = -1;  // 0 = leaf
  std::optional<CertificateInfo> error_certificate;
  std::vector<Certificate> chain;  // leaf first, as far as it was built
  bool policy_violation = false;   // failed one of our stricter rules, not OpenSSL's
};

ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const std::vector<Certificate>& roots, const VerifyPolicy& policy);

// True when `name` is covered by the certificate's SAN (DNS with a single
// left-most wildcard label, or IP address). The CN is never consulted.
bool certificate_covers_name(const Certificate& certificate, const std::string& name);

// Reads one PEM CRL into the DER form VerifyPolicy::crls_der holds.
Result<std::vector<std::uint8_t>> crl_der_from_pem(const std::string& pem);

// OpenSSL's verify error codes that mean "the issuer was not found".
bool is_missing_issuer_error(int error_code);

}  // namespace tls
