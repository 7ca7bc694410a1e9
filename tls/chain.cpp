#include "tls/chain.hpp"

#include <openssl/pem.h>

#include <algorithm>

#include "tls/detail/chain_policy.hpp"
#include "tls/detail/openssl.hpp"

namespace tls {
namespace {

bool is_ip_literal(const std::string& name) {
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
  clear_openssl_errors();
  if (!address) return false;
  ASN1_OCTET_STRING_free(address);
  return true;
}

}  // namespace

Result<std::vector<std::uint8_t>> crl_der_from_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) return Error{take_openssl_errors("not a PEM CRL")};
  int size = i2d_X509_CRL(crl.get(), nullptr);
  if (size <= 0) return Error{take_openssl_errors("cannot encode the CRL")};
  std::vector<std::uint8_t> der(static_cast<size_t>(size));
  unsigned char* cursor = der.data();
  i2d_X509_CRL(crl.get(), &cursor);
  return der;
}

bool certificate_covers_name(const Certificate& certificate, const std::string& name) {
  if (name.empty()) return false;
  int result = 0;
  if (is_ip_literal(name)) {
    result = X509_check_ip_asc(certificate.native(), name.c_str(), 0);
  } else {
    result = X509_check_host(
        certificate.native(), name.c_str(), name.size(),
        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr);
  }
  clear_openssl_errors();
  return result == 1;
}

namespace {

// The one place X509_V_ERR codes become ChainError.
ChainError chain_error_of(int openssl_code) {
  switch (openssl_code) {
    case X509_V_OK:
      return ChainError::none;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      return ChainError::issuer_not_found;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return ChainError::untrusted_self_signed;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return ChainError::not_yet_valid;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return ChainError::expired;
    case X509_V_ERR_CERT_REVOKED:
      return ChainError::revoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
      return ChainError::no_crl;
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
      return ChainError::bad_crl;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return ChainError::bad_signature;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
      return ChainError::not_a_ca;
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return ChainError::path_too_long;
    case X509_V_ERR_INVALID_PURPOSE:
      return ChainError::wrong_purpose;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return ChainError::name_mismatch;
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
      return ChainError::name_constraints;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return ChainError::critical_extension;
    default:
      return ChainError::other;
  }
}

// Whether every critical extension OpenSSL does not handle is Microsoft's
// Application Policies (which AD CS may mark critical; OpenSSL knows nothing
// of it): the stacks this certificate is made for accept it.
bool only_microsoft_critical_extensions(X509* certificate) {
  ASN1_OBJECT* policies = OBJ_txt2obj(kApplicationPoliciesOid, 1);
  bool only = policies != nullptr;
  for (int i = 0; only && i < X509_get_ext_count(certificate); ++i) {
    X509_EXTENSION* extension = X509_get_ext(certificate, i);
    if (!X509_EXTENSION_get_critical(extension) || X509_supported_extension(extension)) continue;
    only = OBJ_cmp(X509_EXTENSION_get_object(extension), policies) == 0;
  }
  ASN1_OBJECT_free(policies);
  clear_openssl_errors();
  return only;
}

// RFC 5280 4.1.2.5: the validity period includes notAfter itself, while
// OpenSSL calls a certificate expired at that very second. A critical
// Application Policies extension is accepted, as schannel does.
int accept_exact_not_after(int ok, X509_STORE_CTX* context) {
  if (!ok && X509_STORE_CTX_get_error(context) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION) {
    X509* certificate = X509_STORE_CTX_get_current_cert(context);
    if (certificate && only_microsoft_critical_extensions(certificate)) {
      X509_STORE_CTX_set_error(context, X509_V_OK);
      return 1;
    }
    return ok;
  }
  if (ok || X509_STORE_CTX_get_error(context) != X509_V_ERR_CERT_HAS_EXPIRED) return ok;
  X509* certificate = X509_STORE_CTX_get_current_cert(context);
  time_t at = X509_VERIFY_PARAM_get_time(X509_STORE_CTX_get0_param(context));
  if (certificate && ASN1_TIME_cmp_time_t(X509_get0_notAfter(certificate), at) == 0) {
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  return ok;
}

// Our rules on a chain OpenSSL accepted; fills `result` when one is broken.
bool breaks_strict_policy(const VerifyPolicy& policy, ChainVerification& result) {
  auto broken = [&](size_t depth, chain_policy::Violation violation) {
    if (!violation) return false;
    result.error = std::move(*violation);
    result.error_depth = static_cast<int>(depth);
    result.error_certificate = result.chain[depth].info();
    result.reason = ChainError::strict_policy;
    return true;
  };
  for (size_t depth = 0; depth < result.chain.size(); ++depth) {
    const Certificate& certificate = result.chain[depth];
    bool is_anchor = depth + 1 == result.chain.size();
    if (broken(depth, chain_policy::certificate_violation(certificate, is_anchor))) return true;
    if (depth == 0 && broken(depth, chain_policy::leaf_violation(certificate, policy.purpose)))
      return true;
    if (depth > 0 && broken(depth, chain_policy::issuer_violation(certificate))) return true;
    if (is_anchor && broken(depth, chain_policy::anchor_violation(certificate))) return true;
  }
  if (policy.peer_name && result.chain.size() > 1 &&
      broken(0, chain_policy::peer_name_constraint_violation(result.chain, *policy.peer_name)))
    return true;
  return false;
}

// A stack that lends OpenSSL the handles of certificates the caller keeps
// alive: no reference is taken, and freeing it leaves them alone.
struct BorrowedStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using BorrowedX509Stack = std::unique_ptr<STACK_OF(X509), BorrowedStackFree>;

struct CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * s) const { sk_X509_CRL_pop_free(s, X509_CRL_free); }
};
using CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), CrlStackFree>;

// The Certificate a handle OpenSSL hands back belongs to, so that its facts
// are not read again: the leaf, one of the untrusted, an anchor; a new one
// only for what came from elsewhere (the system's roots).
Certificate certificate_of(X509* x509, const Certificate& leaf,
                           const std::vector<Certificate>& untrusted, const TrustAnchors& anchors) {
  if (x509 == leaf.native()) return leaf;
  for (const Certificate& certificate : untrusted)
    if (certificate.native() == x509) return certificate;
  if (const Certificate* anchor = anchors.find(x509)) return *anchor;
  X509_up_ref(x509);
  return Certificate(x509);
}

// One run of OpenSSL's path building and validation with the untrusted
// certificates not excluded, then our own rules on the chain it built.
ChainVerification verify_once(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                              const std::vector<bool>& excluded, const TrustAnchors& anchors,
                              STACK_OF(X509_CRL) * crls, const VerifyPolicy& policy) {
  ChainVerification result;
  BorrowedX509Stack chain_in(sk_X509_new_reserve(nullptr, static_cast<int>(untrusted.size())));
  for (std::size_t i = 0; i < untrusted.size(); ++i)
    if (!excluded[i]) sk_X509_push(chain_in.get(), untrusted[i].native());

  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(context.get(), anchors.native(), leaf.native(), chain_in.get()) != 1) {
    result.reason = ChainError::other;
    result.error = take_openssl_errors("cannot initialise chain verification");
    return result;
  }
  // The CRLs go with this verification, not into the shared store.
  if (crls) X509_STORE_CTX_set0_crls(context.get(), crls);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  // OpenSSL lets an explicit time win over NO_CHECK_TIME, so set one only
  // when dates are judged here (the verify callback reads it back).
  if (policy.check_time)
    X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(policy.at.value_or(Clock::now())));
  if (policy.max_depth >= 0) X509_VERIFY_PARAM_set_depth(param, policy.max_depth);
  // X509_STRICT: OpenSSL's own RFC 5280 profile checks (critical basic
  // constraints on CAs, key usage on CAs, AKI/SKI, ...). PARTIAL_CHAIN: every
  // certificate the caller trusts is an anchor, self-signed or not, as in a
  // Windows root store and in RFC 5280's trust-anchor model.
  unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;
  if (!policy.crls_der.empty()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (!policy.check_time) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_STORE_CTX_set_verify_cb(context.get(), accept_exact_not_after);
  if (policy.purpose == Purpose::server_auth)
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
  if (policy.purpose == Purpose::client_auth)
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_CLIENT);
  if (policy.peer_name) {
    if (is_ip_literal(*policy.peer_name)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, policy.peer_name->c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, policy.peer_name->c_str(), policy.peer_name->size());
      X509_VERIFY_PARAM_set_hostflags(
          param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
  }

  int verified = X509_verify_cert(context.get());
  if (STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(context.get())) {
    for (int i = 0; i < sk_X509_num(built); ++i)
      result.chain.push_back(certificate_of(sk_X509_value(built, i), leaf, untrusted, anchors));
  }
  if (verified != 1) {
    result.openssl_code = X509_STORE_CTX_get_error(context.get());
    result.reason = chain_error_of(result.openssl_code);
    // OpenSSL can fail without setting an error (a callback's doing).
    if (result.reason == ChainError::none) result.reason = ChainError::other;
    result.error = X509_verify_cert_error_string(result.openssl_code);
    result.error_depth = X509_STORE_CTX_get_error_depth(context.get());
    if (X509* failing = X509_STORE_CTX_get_current_cert(context.get()))
      result.error_certificate = certificate_of(failing, leaf, untrusted, anchors).info();
    clear_openssl_errors();
    return result;
  }
  clear_openssl_errors();
  // OpenSSL's SSL-server purpose also accepts Netscape / Microsoft Server
  // Gated Crypto in a CA's EKU; an EKU on a CA constrains its leaves (as on
  // Windows and in browsers), and SGC alone does not allow serverAuth.
  if (policy.purpose == Purpose::server_auth) {
    for (size_t depth = 1; depth < result.chain.size(); ++depth) {
      const CertificateInfo& info = result.chain[depth].info();
      auto names = [&](const char* usage) {
        return std::find(info.eku.begin(), info.eku.end(), usage) != info.eku.end();
      };
      if (!info.has_eku || names("serverAuth") || names("anyExtendedKeyUsage")) continue;
      result.error = "the Extended Key Usage of this CA does not include serverAuth";
      result.error_depth = static_cast<int>(depth);
      result.error_certificate = info;
      result.reason = ChainError::wrong_purpose;
      result.openssl_code = X509_V_ERR_INVALID_PURPOSE;
      return result;
    }
  }
  if (policy.strict && breaks_strict_policy(policy, result)) return result;
  result.trusted = true;
  return result;
}

// Whether the failed path reached an anchor and was refused only for its
// purpose or by our stricter profile, which OpenSSL checks after building it.
bool path_complete(const ChainVerification& result) {
  return result.reason == ChainError::strict_policy || result.reason == ChainError::wrong_purpose;
}

// The untrusted certificates that can be in a path from `leaf`: those whose
// subject is the issuer of the leaf or of another such one (by name hash, so
// a collision keeps one more, never one fewer). OpenSSL compares every
// untrusted certificate with each certificate of the path it builds, so with
// a Windows-sized intermediate store (1,000) the unrelated ones cost more than
// the path. The order is kept: OpenSSL takes the first issuer that fits.
constexpr std::size_t kWorthFiltering = 32;

std::vector<Certificate> reachable_untrusted(
    const Certificate& leaf, std::initializer_list<const std::vector<Certificate>*> lists) {
  std::size_t total = 0;
  for (const auto* list : lists) total += list->size();
  std::vector<Certificate> reachable;
  if (total < kWorthFiltering) {
    reachable.reserve(total);
    for (const auto* list : lists) reachable.insert(reachable.end(), list->begin(), list->end());
    return reachable;
  }
  // `kept` is indexed by position in the lists read as one.
  std::vector<unsigned long> wanted{leaf.issuer_hash()};
  std::vector<bool> kept(total, false);
  for (std::size_t searched = 0; searched < wanted.size(); ++searched) {
    const unsigned long name = wanted[searched];
    std::size_t position = 0;
    for (const auto* list : lists) {
      for (const Certificate& certificate : *list) {
        const std::size_t i = position++;
        if (kept[i] || certificate.subject_hash() != name) continue;
        kept[i] = true;
        const unsigned long issuer = certificate.issuer_hash();
        if (std::find(wanted.begin(), wanted.end(), issuer) == wanted.end())
          wanted.push_back(issuer);
      }
    }
  }
  std::size_t position = 0;
  for (const auto* list : lists)
    for (const Certificate& certificate : *list)
      if (kept[position++]) reachable.push_back(certificate);
  return reachable;
}

// OpenSSL builds one path and does not backtrack when that path fails
// (e.g. on a name constraint), even when another issuer among the
// untrusted certificates would lead to a valid path. Retry without the
// untrusted certificates of each failed path, a bounded number of times.
constexpr int kMaxPathAttempts = 16;

// The answers of the last few verifications on this thread that depend on
// their inputs alone (no CRLs, no validation time read from the clock). The
// diagnosis of one handshake asks some twice: the peer's best chain is its
// trusted path whenever our intermediate/ holds no self-signed certificate.
// Keyed by the certificate objects, which the entry keeps alive.
struct RememberedVerification {
  Certificate leaf;
  std::vector<Certificate> untrusted;
  TrustAnchors anchors;
  VerifyPolicy policy;
  ChainVerification result;
};

bool remembered_for(const RememberedVerification& entry, const Certificate& leaf,
                    const std::vector<Certificate>& untrusted, const TrustAnchors& anchors,
                    const VerifyPolicy& policy) {
  auto same = [](const Certificate& a, const Certificate& b) { return a.native() == b.native(); };
  const VerifyPolicy& p = entry.policy;
  return same(entry.leaf, leaf) && entry.anchors.native() == anchors.native() &&
         p.purpose == policy.purpose && p.at == policy.at && p.peer_name == policy.peer_name &&
         p.check_time == policy.check_time && p.max_depth == policy.max_depth &&
         p.strict == policy.strict &&
         std::equal(entry.untrusted.begin(), entry.untrusted.end(), untrusted.begin(),
                    untrusted.end(), same);
}

bool rememberable(const VerifyPolicy& policy) {
  return policy.crls_der.empty() && (!policy.check_time || policy.at);
}

ChainVerification verify_paths(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const TrustAnchors& anchors, const VerifyPolicy& policy);

constexpr std::size_t kRemembered = 4;
thread_local std::vector<RememberedVerification> remembered;  // most recent last

}  // namespace

ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& offered,
                               const TrustAnchors& given, const VerifyPolicy& policy) {
  const std::vector<Certificate> untrusted = reachable_untrusted(leaf, {&offered});
  const TrustAnchors anchors = policy.system_roots && !given.system_roots()
                                   ? TrustAnchors::shared(given.certificates(), true)
                                   : given;
  const bool remember = rememberable(policy);
  if (remember) {
    for (const auto& entry : remembered)
      if (remembered_for(entry, leaf, untrusted, anchors, policy)) return entry.result;
  }
  ChainVerification result = verify_paths(leaf, untrusted, anchors, policy);
  if (remember) {
    if (remembered.size() == kRemembered) remembered.erase(remembered.begin());
    remembered.push_back({leaf, untrusted, anchors, policy, result});
  }
  return result;
}

namespace {

// OpenSSL's path building, retried past the paths that failed (see
// kMaxPathAttempts), then the best failure when none succeeded.
ChainVerification verify_paths(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const TrustAnchors& anchors, const VerifyPolicy& policy) {
  CrlStackPtr crls;
  if (!policy.crls_der.empty()) crls.reset(sk_X509_CRL_new_null());
  for (const auto& der : policy.crls_der) {
    const unsigned char* cursor = der.data();
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
    // A non-conforming CRL is left out, so the certificates it covers have
    // no usable CRL and fail the check rather than pass on a bad list.
    if (crl && (!policy.strict || chain_policy::crl_is_acceptable(crl.get())) &&
        sk_X509_CRL_push(crls.get(), crl.get()) > 0)
      crl.release();
  }
  clear_openssl_errors();

  std::vector<std::vector<bool>> pending{std::vector<bool>(untrusted.size(), false)};
  // The failure to report: a path OpenSSL accepted and only our stricter rules
  // refused says more than an earlier candidate's "unable to get local issuer".
  std::optional<ChainVerification> best_failure;
  for (int attempt = 0; attempt < kMaxPathAttempts && !pending.empty(); ++attempt) {
    std::vector<bool> excluded = std::move(pending.front());
    pending.erase(pending.begin());
    ChainVerification result = verify_once(leaf, untrusted, excluded, anchors, crls.get(), policy);
    if (result.trusted) return result;
    for (size_t depth = 1; depth < result.chain.size(); ++depth) {
      for (size_t i = 0; i < untrusted.size(); ++i) {
        if (excluded[i] || !untrusted[i].same_as(result.chain[depth])) continue;
        std::vector<bool> next = excluded;
        next[i] = true;
        if (std::find(pending.begin(), pending.end(), next) == pending.end())
          pending.push_back(std::move(next));
      }
    }
    if (!best_failure || (path_complete(result) && !path_complete(*best_failure)))
      best_failure = std::move(result);
  }
  return std::move(*best_failure);
}

}  // namespace

bool is_only_path(const ChainVerification& verified,
                  std::initializer_list<const std::vector<Certificate>*> certificates,
                  const TrustAnchors& anchors) {
  const std::vector<Certificate>& chain = verified.chain;
  if (!verified.trusted || chain.empty() || anchors.system_roots()) return false;
  const std::vector<Certificate>& roots = anchors.certificates();
  auto is_anchor = [&roots](const Certificate& certificate) {
    return std::any_of(roots.begin(), roots.end(),
                       [&](const Certificate& root) { return root.same_as(certificate); });
  };
  if (!is_anchor(chain.back())) return false;
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    // Path building stops at an anchor, and at a self-issued certificate.
    if (is_anchor(chain[i]) || chain[i].self_issued()) return false;
    const Certificate& issuer = chain[i + 1];
    bool held = i + 2 == chain.size();  // the anchor, found above
    auto another_issuer = [&](const Certificate& candidate) {
      if (candidate.subject_hash() != chain[i].issuer_hash()) return false;
      if (!candidate.same_as(issuer)) return true;
      held = true;
      return false;
    };
    if (std::any_of(roots.begin(), roots.end(), another_issuer)) return false;
    for (const auto* list : certificates)
      if (std::any_of(list->begin(), list->end(), another_issuer)) return false;
    if (!held) return false;  // the handshake had it from elsewhere
  }
  return true;
}

std::vector<Certificate> path_candidates(
    const Certificate& leaf, std::initializer_list<const std::vector<Certificate>*> lists) {
  return reachable_untrusted(leaf, lists);
}

ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const std::vector<Certificate>& roots, const VerifyPolicy& policy) {
  return verify_chain(leaf, untrusted, TrustAnchors::shared(roots, policy.system_roots), policy);
}

}  // namespace tls
