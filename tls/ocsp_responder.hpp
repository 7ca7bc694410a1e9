#pragma once
// An OCSP responder for the lab PKI and the tests: answers DER OCSP requests
// from each CA's revocation list and signs with the CA key (or a delegated
// responder certified by the CA for OCSP signing).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/credentials.hpp"
#include "tls/crl_issuer.hpp"
#include "tls/result.hpp"

namespace tls {

struct OcspAuthority {
  OcspAuthority(Certificate ca_certificate, PrivateKey key)
      : ca(std::move(ca_certificate)), ca_key(std::move(key)) {}

  Certificate ca;
  PrivateKey ca_key;
  std::vector<RevokedSerial> revoked;
  // When known, serials not listed here answer "unknown"; when absent every
  // serial not revoked answers "good".
  std::optional<std::vector<std::string>> issued_serials;
  // A delegated responder (id-kp-OCSPSigning, issued by `ca`); signs instead
  // of the CA key when set.
  std::optional<Certificate> responder;
  std::optional<PrivateKey> responder_key;
  std::chrono::seconds validity = std::chrono::hours(24);  // nextUpdate - thisUpdate
};

// Always returns a DER OCSPResponse: malformedRequest for bytes that are not
// a request, unauthorized when no authority issued the asked-about serials.
std::vector<std::uint8_t> answer_ocsp_request(const std::vector<std::uint8_t>& request_der,
                                              const std::vector<OcspAuthority>& authorities);

// RFC 6960 A.1 GET form: the request is the last path segment, base64 and
// then percent-encoded. Bytes that do not decode get malformedRequest.
std::vector<std::uint8_t> answer_ocsp_get(std::string_view encoded_request,
                                          const std::vector<OcspAuthority>& authorities);

// One signed answer about one serial of `ca`, for tests and stapling files:
// any status, dates and signer, optionally echoing a request's nonce.
struct OcspAnswer {
  std::string serial_hex;
  enum Status { good, revoked, unknown } status = good;
  Clock::time_point revoked_at = Clock::now();
  std::string reason;  // CRLReason name or ""
  Clock::time_point this_update = Clock::now() - std::chrono::minutes(1);
  std::optional<Clock::time_point> next_update = Clock::now() + std::chrono::hours(24);
};
Result<std::vector<std::uint8_t>> sign_ocsp_response(
    const OcspAnswer& answer, const Certificate& ca, const Certificate& signer,
    const PrivateKey& signer_key, const std::vector<std::uint8_t>& request_der_for_nonce = {});

}  // namespace tls
