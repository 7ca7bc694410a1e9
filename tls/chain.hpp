#pragma once
// Chain building and verification against explicit trust anchors. The
// system store is consulted only when the policy asks for it, so a missing
// intermediate or an untrusted root is detected, not papered over.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/trust_anchors.hpp"

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

// Why a chain failed, mapped once from OpenSSL's X509_V_ERR codes in
// tls/chain.cpp. Branch on this, never on ChainVerification::error's text.
enum class ChainError {
  none,
  issuer_not_found,       // an issuer is in none of the certificates given
  untrusted_self_signed,  // the chain ends at a self-signed certificate that is no anchor
  not_yet_valid,
  expired,
  revoked,
  no_crl,              // CRL checking was asked for and a certificate has no usable CRL
  bad_crl,             // a CRL is expired, not yet valid or badly signed
  bad_signature,       // a certificate's signature does not verify
  not_a_ca,            // an issuer lacks CA basic constraints or keyCertSign
  path_too_long,       // pathLenConstraint or the depth limit
  wrong_purpose,       // the leaf's EKU does not allow the purpose
  name_mismatch,       // the leaf does not cover the peer's name
  name_constraints,    // a name breaks an issuer's name constraints
  critical_extension,  // a certificate has a critical extension no stack handles
  strict_policy,       // one of our stricter rules (tls/detail/chain_policy.hpp), not OpenSSL's
  other,               // anything else OpenSSL refused (see `error` and `openssl_code`)
};

struct ChainVerification {
  bool trusted = false;
  ChainError reason = ChainError::none;
  // OpenSSL's X509_V_ERR_* value (0 when trusted or for strict_policy): a fact
  // for tls/ to hand back to OpenSSL, not something to branch on outside tls/.
  int openssl_code = 0;
  std::string error;     // readable reason
  int error_depth = -1;  // 0 = leaf
  std::optional<CertificateInfo> error_certificate;
  std::vector<Certificate> chain;  // leaf first, as far as it was built
};

// `untrusted`: what the peer sent and the intermediates we hold, in any
// order. Every certificate of `anchors` is trusted; with policy.system_roots
// the system's roots too.
ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const TrustAnchors& anchors, const VerifyPolicy& policy);
// The same with a plain list of roots, whose store is shared with earlier
// calls for the same certificates (TrustAnchors::shared).
ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const std::vector<Certificate>& roots, const VerifyPolicy& policy);

// The certificates of `lists`, in order, that verify_chain would keep of
// them as its untrusted certificates for `leaf` (those that can be in a path
// from it, by name): what the peer sent and a Windows-sized intermediate
// store (1,000 certificates) joined without copying the store for each
// verification. The same answer as verify_chain on the joined lists.
std::vector<Certificate> path_candidates(
    const Certificate& leaf, std::initializer_list<const std::vector<Certificate>*> lists);

// Whether `verified`, a trusted answer of verify_chain, is also the answer
// for its leaf with untrusted certificates from `certificates` and
// `anchors` (no system roots) under any policy that checks no more than the
// one that made it: its anchor is one of `anchors`, no certificate below the
// anchor is, and at each step the next certificate of `verified` is the only
// one of all those given (by subject name, copies of one certificate counted
// once) that could issue the one before, so path building has no other way
// to go. A handshake's verification then answers the diagnosis's structural
// questions about the same chain, and the chain is verified once.
bool is_only_path(const ChainVerification& verified,
                  std::initializer_list<const std::vector<Certificate>*> certificates,
                  const TrustAnchors& anchors);

// True when `name` is covered by the certificate's SAN (DNS with a single
// left-most wildcard label, or IP address). The CN is never consulted.
bool certificate_covers_name(const Certificate& certificate, const std::string& name);

// Reads one PEM CRL into the DER form VerifyPolicy::crls_der holds.
Result<std::vector<std::uint8_t>> crl_der_from_pem(const std::string& pem);

}  // namespace tls
