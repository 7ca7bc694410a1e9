#pragma once
// RAII handles for every OpenSSL object we touch, and the error queue turned
// into a message. Only code inside tls/ includes this header.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace tls {

template <auto FreeFunction>
struct Free {
  template <class T>
  void operator()(T* p) const {
    FreeFunction(p);
  }
};

using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Free<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using X509VerifyParamPtr = std::unique_ptr<X509_VERIFY_PARAM, Free<X509_VERIFY_PARAM_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Free<PKCS12_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Free<PKCS7_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<SSL_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, Free<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, Free<OCSP_RESPONSE_free>>;
using OcspBasicResponsePtr = std::unique_ptr<OCSP_BASICRESP, Free<OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Free<OCSP_CERTID_free>>;

// Memory that OpenSSL allocated with OPENSSL_malloc.
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

struct Asn1TypeStackFree {
  void operator()(STACK_OF(ASN1_TYPE) * s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using Asn1TypeStackPtr = std::unique_ptr<STACK_OF(ASN1_TYPE), Asn1TypeStackFree>;
using Asn1TypePtr = std::unique_ptr<ASN1_TYPE, Free<ASN1_TYPE_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;

// Microsoft's certificate template extensions (AD CS): v2 holds the
// template's OID and version, v1 (Windows 2000 templates) its name.
inline constexpr const char* kTemplateV2Oid = "1.3.6.1.4.1.311.21.7";
inline constexpr const char* kTemplateV1Oid = "1.3.6.1.4.1.311.20.2";
// Microsoft Application Policies: EKU purposes in certificatePolicies'
// syntax, which schannel enforces as an EKU when present.
inline constexpr const char* kApplicationPoliciesOid = "1.3.6.1.4.1.311.21.10";

struct X509NameStackFree {
  void operator()(STACK_OF(X509_NAME) * s) const { sk_X509_NAME_pop_free(s, X509_NAME_free); }
};
using X509NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), X509NameStackFree>;

// Drains the thread's OpenSSL error queue into "reason; reason". Returns
// `fallback` when the queue was empty.
std::string take_openssl_errors(const std::string& fallback = "unknown OpenSSL error");

// Clears the queue without reporting (after an expected, handled failure).
void clear_openssl_errors();

// Reads a memory BIO's contents.
std::string bio_to_string(BIO* bio);

}  // namespace tls
