#pragma once
// Our stricter rules on top of OpenSSL's RFC 5280 path validation, applied
// to a chain OpenSSL has already accepted. Each returns the reason a rule is
// broken, or nothing. Inside tls/ only (raw OpenSSL types).
// tests/data/x509-limbo/POLICY.md states the policy these rules implement.
#include <optional>
#include <string>
#include <vector>

#include "tls/chain.hpp"
#include "tls/detail/openssl.hpp"

namespace tls::chain_policy {

// Why a certificate breaks one of our rules; nothing when it keeps them.
using Violation = std::optional<std::string>;

// Every certificate: key strength, signature digest, extensions that decode.
Violation certificate_violation(const Certificate& certificate, bool is_anchor);

// The leaf: EKU names the purpose, not a CA, SAN well formed and present for
// servers, the subject CN (when any) a copy of a SAN entry.
Violation leaf_violation(const Certificate& leaf, Purpose purpose);

// A self-issued anchor: an AKI, when present, is its own key id only.
Violation anchor_violation(const Certificate& anchor);

// Issuers: name constraints well formed, policy constraints critical.
Violation issuer_violation(const Certificate& issuer);

// The peer name we matched must itself satisfy every issuer's name
// constraints: a wildcard SAN must not smuggle in an excluded name.
Violation peer_name_constraint_violation(const std::vector<Certificate>& chain,
                                         const std::string& peer_name);

// RFC 5280 5.2.3: a CRL without a CRL number is not a conforming CRL.
bool crl_is_acceptable(X509_CRL* crl);

}  // namespace tls::chain_policy
