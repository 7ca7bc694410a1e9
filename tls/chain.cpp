#include "tls/chain.hpp"

#include <algorithm>

#include "tls/openssl.hpp"

namespace tls {
namespace {

bool is_ip_literal(const std::string& name) {
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
  clear_openssl_errors();
  if (!address) return false;
  ASN1_OCTET_STRING_free(address);
  return true;
}

// Our stricter checks of one certificate; returns the reason or empty.
std::string strict_violation(const CertificateInfo& info, int depth, Purpose purpose,
                             bool is_anchor) {
  if (depth == 0 && purpose != Purpose::any) {
    const char* wanted = purpose == Purpose::server_auth ? "serverAuth" : "clientAuth";
    if (!info.has_eku)
      return std::string("the certificate has no Extended Key Usage; it must name ") + wanted;
    if (std::find(info.eku.begin(), info.eku.end(), wanted) == info.eku.end())
      return std::string("the Extended Key Usage does not include ") + wanted;
  }
  if ((info.key_type == "RSA" || info.key_type == "RSA-PSS" || info.key_type == "DSA") &&
      info.key_bits < 2048)
    return info.key_type + " key of " + std::to_string(info.key_bits) +
           " bits; at least 2048 are required";
  if (info.key_type == "EC" && info.key_bits < 256)
    return "EC key of " + std::to_string(info.key_bits) + " bits; at least 256 are required";
  if (!is_anchor && (info.signature_digest == "SHA1" || info.signature_digest == "MD5"))
    return "signed with " + info.signature_digest + ", which is refused";
  return {};
}

}  // namespace

bool is_missing_issuer_error(int error_code) {
  return error_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         error_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
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

ChainVerification verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                               const std::vector<Certificate>& roots, const VerifyPolicy& policy) {
  ChainVerification result;
  X509StorePtr store(X509_STORE_new());
  for (const Certificate& root : roots) X509_STORE_add_cert(store.get(), root.native());
  if (policy.system_roots) X509_STORE_set_default_paths(store.get());
  std::vector<X509CrlPtr> crls;
  for (const auto& der : policy.crls_der) {
    const unsigned char* cursor = der.data();
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
    if (crl) X509_STORE_add_crl(store.get(), crl.get());
  }
  clear_openssl_errors();

  X509StackPtr chain_in(sk_X509_new_null());
  for (const Certificate& certificate : untrusted) {
    X509_up_ref(certificate.native());
    sk_X509_push(chain_in.get(), certificate.native());
  }

  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(context.get(), store.get(), leaf.native(), chain_in.get()) != 1) {
    result.error = take_openssl_errors("cannot initialise chain verification");
    return result;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  if (policy.at) {
    X509_VERIFY_PARAM_set_time(param, Clock::to_time_t(*policy.at));
  }
  if (policy.max_depth >= 0) X509_VERIFY_PARAM_set_depth(param, policy.max_depth);
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (!policy.crls_der.empty()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  if (!policy.check_time) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_set_flags(param, flags);
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
    for (int i = 0; i < sk_X509_num(built); ++i) {
      X509* x509 = sk_X509_value(built, i);
      X509_up_ref(x509);
      result.chain.emplace_back(x509);
    }
  }
  if (verified != 1) {
    result.error_code = X509_STORE_CTX_get_error(context.get());
    result.error = X509_verify_cert_error_string(result.error_code);
    result.error_depth = X509_STORE_CTX_get_error_depth(context.get());
    if (X509* failing = X509_STORE_CTX_get_current_cert(context.get())) {
      X509_up_ref(failing);
      result.error_certificate = Certificate(failing).info();
    }
    clear_openssl_errors();
    return result;
  }
  clear_openssl_errors();

  if (policy.strict) {
    for (size_t depth = 0; depth < result.chain.size(); ++depth) {
      const CertificateInfo& info = result.chain[depth].info();
      bool is_anchor = depth + 1 == result.chain.size();
      std::string violation =
          strict_violation(info, static_cast<int>(depth), policy.purpose, is_anchor);
      if (!violation.empty()) {
        result.error = violation;
        result.error_depth = static_cast<int>(depth);
        result.error_certificate = info;
        result.policy_violation = true;
        return result;
      }
    }
  }
  result.trusted = true;
  return result;
}

}  // namespace tls
