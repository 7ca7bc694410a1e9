#include "tls/crl_issuer.hpp"

#include "tls/detail/openssl.hpp"
#include "tls/detail/revocation_internal.hpp"
#include "tls/revocation.hpp"

namespace tls {

using namespace revocation_internal;

namespace {

const EVP_MD* digest_for(const PrivateKey& key, const std::string& name) {
  const int id = EVP_PKEY_get_base_id(key.native());
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) return nullptr;  // intrinsic digest
  return EVP_get_digestbyname(name.c_str());
}

Asn1TimePtr asn1_time(Clock::time_point time) {
  return Asn1TimePtr(ASN1_TIME_set(nullptr, Clock::to_time_t(time)));
}

}  // namespace

Result<std::vector<std::uint8_t>> issue_crl(const CrlSpec& spec, const Certificate& ca,
                                            const PrivateKey& ca_key) {
  clear_openssl_errors();
  const EVP_MD* md = digest_for(ca_key, spec.digest);
  const int key_id = EVP_PKEY_get_base_id(ca_key.native());
  if (!md && key_id != EVP_PKEY_ED25519 && key_id != EVP_PKEY_ED448)
    return Error{"unknown CRL digest '" + spec.digest + "'"};
  X509CrlPtr crl(X509_CRL_new());
  auto this_update = asn1_time(spec.this_update);
  auto next_update = asn1_time(spec.next_update);
  if (!crl || !X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) ||
      !X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.native())) ||
      !X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) ||
      !X509_CRL_set1_nextUpdate(crl.get(), next_update.get()))
    return Error{"cannot build the CRL: " + take_openssl_errors()};

  for (const auto& entry : spec.revoked) {
    auto serial = serial_from_hex(entry.serial_hex);
    if (!serial) return Error{"revoked serial '" + entry.serial_hex + "' is not hexadecimal"};
    std::unique_ptr<X509_REVOKED, Free<X509_REVOKED_free>> revoked(X509_REVOKED_new());
    auto when = asn1_time(entry.revoked_at);
    if (!X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) ||
        !X509_REVOKED_set_revocationDate(revoked.get(), when.get()))
      return Error{"cannot add serial " + entry.serial_hex + ": " + take_openssl_errors()};
    if (!entry.reason.empty()) {
      auto code = crl_reason_code(entry.reason);
      if (!code) return Error{"'" + entry.reason + "' is not a CRL reason"};
      std::unique_ptr<ASN1_ENUMERATED, Free<ASN1_ENUMERATED_free>> reason(ASN1_ENUMERATED_new());
      if (!ASN1_ENUMERATED_set(reason.get(), *code) ||
          !X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0, 0))
        return Error{"cannot add the reason of " + entry.serial_hex + ": " + take_openssl_errors()};
    }
    if (!X509_CRL_add0_revoked(crl.get(), revoked.get()))
      return Error{"cannot add serial " + entry.serial_hex + ": " + take_openssl_errors()};
    revoked.release();
  }
  X509_CRL_sort(crl.get());

  Asn1IntegerPtr number(ASN1_INTEGER_new());
  ASN1_INTEGER_set(number.get(), spec.number);
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca.native(), nullptr, nullptr, crl.get(), 0);
  X509ExtensionPtr key_id_ext(
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid"));
  if (!X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) ||
      (key_id_ext && !X509_CRL_add_ext(crl.get(), key_id_ext.get(), -1)))
    return Error{"cannot add CRL extensions: " + take_openssl_errors()};
  clear_openssl_errors();  // a CA without a subject key identifier just gets no AKI

  if (X509_CRL_sign(crl.get(), ca_key.native(), md) <= 0)
    return Error{"cannot sign the CRL with the CA key: " + take_openssl_errors()};
  unsigned char* der = nullptr;
  int size = i2d_X509_CRL(crl.get(), &der);
  std::unique_ptr<unsigned char, OpensslFree> owned(der);
  if (size <= 0) return Error{"cannot encode the CRL: " + take_openssl_errors()};
  return std::vector<std::uint8_t>(der, der + size);
}

}  // namespace tls
