#include "tls/ocsp_responder.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/pct_string_view.hpp>

#include "tls/detail/openssl.hpp"
#include "tls/detail/revocation_internal.hpp"
#include "tls/revocation.hpp"

namespace tls {

using namespace revocation_internal;

namespace {

using GeneralizedTimePtr = std::unique_ptr<ASN1_GENERALIZEDTIME, Free<ASN1_GENERALIZEDTIME_free>>;

GeneralizedTimePtr generalized(Clock::time_point time) {
  return GeneralizedTimePtr(ASN1_GENERALIZEDTIME_set(nullptr, Clock::to_time_t(time)));
}

std::vector<std::uint8_t> encode(OCSP_RESPONSE* response) {
  unsigned char* der = nullptr;
  int size = i2d_OCSP_RESPONSE(response, &der);
  std::unique_ptr<unsigned char, OpensslFree> owned(der);
  if (size <= 0) return {};
  return std::vector<std::uint8_t>(der, der + size);
}

std::vector<std::uint8_t> error_response(int status) {
  OcspResponsePtr response(OCSP_response_create(status, nullptr));
  return encode(response.get());
}

OcspRequestPtr parse_request(const std::vector<std::uint8_t>& der) {
  const unsigned char* bytes = der.data();
  OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &bytes, static_cast<long>(der.size())));
  clear_openssl_errors();
  return request;
}

bool add_status(OCSP_BASICRESP* basic, OCSP_CERTID* id, const OcspAnswer& answer) {
  const int status = answer.status == OcspAnswer::good      ? V_OCSP_CERTSTATUS_GOOD
                     : answer.status == OcspAnswer::revoked ? V_OCSP_CERTSTATUS_REVOKED
                                                            : V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = -1;
  if (!answer.reason.empty()) reason = crl_reason_code(answer.reason).value_or(0);
  auto revoked_at = generalized(answer.revoked_at);
  auto this_update = generalized(answer.this_update);
  GeneralizedTimePtr next_update;
  if (answer.next_update) next_update = generalized(*answer.next_update);
  return OCSP_basic_add1_status(basic, id, status, reason,
                                status == V_OCSP_CERTSTATUS_REVOKED ? revoked_at.get() : nullptr,
                                this_update.get(), next_update.get()) != nullptr;
}

bool sign(OCSP_BASICRESP* basic, const Certificate& signer, const PrivateKey& key) {
  const int key_id = EVP_PKEY_get_base_id(key.native());
  const EVP_MD* md =
      (key_id == EVP_PKEY_ED25519 || key_id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  // The signer's certificate goes in the response so clients can check a
  // delegated responder; harmless when the CA signs.
  return OCSP_basic_sign(basic, signer.native(), key.native(), md, nullptr, 0) == 1;
}

std::string normalized_serial(const std::string& hex) {
  auto serial = serial_from_hex(hex);
  return serial ? serial_hex(serial.get()) : hex;
}

OcspAnswer answer_for(const OcspAuthority& authority, const std::string& serial) {
  OcspAnswer answer;
  answer.serial_hex = serial;
  answer.this_update = Clock::now() - std::chrono::minutes(1);
  answer.next_update = Clock::now() + authority.validity;
  for (const auto& entry : authority.revoked) {
    if (normalized_serial(entry.serial_hex) != serial) continue;
    answer.status = OcspAnswer::revoked;
    answer.revoked_at = entry.revoked_at;
    answer.reason = entry.reason;
    return answer;
  }
  if (authority.issued_serials) {
    bool issued = false;
    for (const auto& known : *authority.issued_serials)
      issued = issued || normalized_serial(known) == serial;
    if (!issued) answer.status = OcspAnswer::unknown;
  }
  return answer;
}

}  // namespace

std::vector<std::uint8_t> answer_ocsp_request(const std::vector<std::uint8_t>& request_der,
                                              const std::vector<OcspAuthority>& authorities) {
  OcspRequestPtr request = parse_request(request_der);
  const int count = request ? OCSP_request_onereq_count(request.get()) : 0;
  if (count <= 0) return error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);

  // One signature covers the whole response, so one authority answers: the
  // one that issued the first asked-about certificate. Others get "unknown".
  const OcspAuthority* signer = nullptr;
  OcspBasicResponsePtr basic(OCSP_BASICRESP_new());
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i));
    ASN1_OBJECT* hash_algorithm = nullptr;
    ASN1_INTEGER* serial = nullptr;
    OCSP_id_get0_info(nullptr, &hash_algorithm, nullptr, &serial, id);
    const EVP_MD* md = hash_algorithm ? EVP_get_digestbyobj(hash_algorithm) : nullptr;
    if (!md || !serial) return error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
    const OcspAuthority* match = nullptr;
    for (const auto& authority : authorities) {
      OcspCertIdPtr ca_id(OCSP_cert_id_new(md, X509_get_subject_name(authority.ca.native()),
                                           X509_get0_pubkey_bitstr(authority.ca.native()), serial));
      if (ca_id && OCSP_id_issuer_cmp(ca_id.get(), id) == 0) match = &authority;
    }
    if (!signer) signer = match;
    OcspAnswer answer;
    answer.serial_hex = serial_hex(serial);
    answer.status = OcspAnswer::unknown;
    if (match && match == signer) answer = answer_for(*match, serial_hex(serial));
    if (!add_status(basic.get(), id, answer))
      return error_response(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  if (!signer) return error_response(OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  OCSP_copy_nonce(basic.get(), request.get());
  const bool delegated = signer->responder && signer->responder_key;
  if (!sign(basic.get(), delegated ? *signer->responder : signer->ca,
            delegated ? *signer->responder_key : signer->ca_key)) {
    clear_openssl_errors();
    return error_response(OCSP_RESPONSE_STATUS_INTERNALERROR);
  }
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  return encode(response.get());
}

Result<std::vector<std::uint8_t>> sign_ocsp_response(
    const OcspAnswer& answer, const Certificate& ca, const Certificate& signer,
    const PrivateKey& signer_key, const std::vector<std::uint8_t>& request_der_for_nonce) {
  clear_openssl_errors();
  auto serial = serial_from_hex(answer.serial_hex);
  if (!serial) return Error{"serial '" + answer.serial_hex + "' is not hexadecimal"};
  OcspCertIdPtr id(OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca.native()),
                                    X509_get0_pubkey_bitstr(ca.native()), serial.get()));
  OcspBasicResponsePtr basic(OCSP_BASICRESP_new());
  if (!id || !basic || !add_status(basic.get(), id.get(), answer))
    return Error{"cannot build the OCSP response: " + take_openssl_errors()};
  if (!request_der_for_nonce.empty()) {
    OcspRequestPtr request = parse_request(request_der_for_nonce);
    if (!request) return Error{"the request to echo a nonce from is not an OCSP request"};
    OCSP_copy_nonce(basic.get(), request.get());
  }
  if (!sign(basic.get(), signer, signer_key))
    return Error{"cannot sign the OCSP response: " + take_openssl_errors()};
  OcspResponsePtr response(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  auto der = encode(response.get());
  if (der.empty()) return Error{"cannot encode the OCSP response: " + take_openssl_errors()};
  return der;
}

std::vector<std::uint8_t> answer_ocsp_get(std::string_view encoded_request,
                                          const std::vector<OcspAuthority>& authorities) {
  std::string base64;
  auto decoded = boost::urls::make_pct_string_view(encoded_request);
  if (decoded) {
    base64.reserve(decoded->decoded_size());
    for (char c : **decoded) base64 += c;
  }
  // EVP_DecodeBlock wants whole quanta and counts the padding as zero bytes.
  std::vector<std::uint8_t> der;
  if (!base64.empty() && base64.size() % 4 == 0 && base64.size() <= 64 * 1024) {
    der.resize(base64.size() / 4 * 3);
    int size = EVP_DecodeBlock(der.data(), reinterpret_cast<const unsigned char*>(base64.data()),
                               static_cast<int>(base64.size()));
    if (size < 0) {
      der.clear();
    } else {
      std::size_t padding = base64.ends_with("==") ? 2 : base64.ends_with('=') ? 1 : 0;
      der.resize(static_cast<std::size_t>(size) - padding);
    }
  }
  return answer_ocsp_request(der, authorities);
}

}  // namespace tls
