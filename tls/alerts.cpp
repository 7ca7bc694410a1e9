#include "tls/alerts.hpp"

#include <openssl/x509_vfy.h>

namespace tls {

const std::vector<AlertName>& alert_names() {
  static const std::vector<AlertName> names = {
      {0, "close_notify"},
      {10, "unexpected_message"},
      {20, "bad_record_mac"},
      {21, "decryption_failed"},
      {22, "record_overflow"},
      {30, "decompression_failure"},
      {40, "handshake_failure"},
      {41, "no_certificate"},
      {42, "bad_certificate"},
      {43, "unsupported_certificate"},
      {44, "certificate_revoked"},
      {45, "certificate_expired"},
      {46, "certificate_unknown"},
      {47, "illegal_parameter"},
      {48, "unknown_ca"},
      {49, "access_denied"},
      {50, "decode_error"},
      {51, "decrypt_error"},
      {60, "export_restriction"},
      {70, "protocol_version"},
      {71, "insufficient_security"},
      {80, "internal_error"},
      {86, "inappropriate_fallback"},
      {90, "user_canceled"},
      {100, "no_renegotiation"},
      {109, "missing_extension"},
      {110, "unsupported_extension"},
      {111, "certificate_unobtainable"},
      {112, "unrecognized_name"},
      {113, "bad_certificate_status_response"},
      {114, "bad_certificate_hash_value"},
      {115, "unknown_psk_identity"},
      {116, "certificate_required"},
      {120, "no_application_protocol"},
  };
  return names;
}

std::optional<int> alert_code(std::string_view name) {
  for (const AlertName& entry : alert_names())
    if (name == entry.name) return entry.code;
  return std::nullopt;
}

std::string alert_name(int code) {
  for (const AlertName& entry : alert_names())
    if (entry.code == code) return entry.name;
  return "alert " + std::to_string(code);
}

namespace {

struct AlertVerifyError {
  int alert;
  int verify_error;
};

// Mirrors OpenSSL 3's ssl_x509err2alert table (ssl/statem/statem_lib.c);
// verify errors absent from that table fall back to certificate_unknown.
const std::vector<AlertVerifyError>& alert_verify_errors() {
  static const std::vector<AlertVerifyError> table = {
      {48, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY},  // unknown_ca
      {42, X509_V_ERR_CERT_REJECTED},                      // bad_certificate
      {45, X509_V_ERR_CERT_HAS_EXPIRED},                   // certificate_expired
      {44, X509_V_ERR_CERT_REVOKED},                       // certificate_revoked
      {43, X509_V_ERR_INVALID_PURPOSE},                    // unsupported_certificate
      {40, X509_V_ERR_APPLICATION_VERIFICATION},           // handshake_failure
      {51, X509_V_ERR_CERT_SIGNATURE_FAILURE},             // decrypt_error
      {80, X509_V_ERR_UNSPECIFIED},                        // internal_error
      {46, X509_V_ERR_SUBJECT_ISSUER_MISMATCH},            // certificate_unknown
  };
  return table;
}

}  // namespace

std::optional<int> verify_error_for_alert(int code) {
  for (const AlertVerifyError& entry : alert_verify_errors())
    if (entry.alert == code) return entry.verify_error;
  return std::nullopt;
}

std::vector<std::string> rejectable_alert_names() {
  std::vector<std::string> names;
  for (const AlertVerifyError& entry : alert_verify_errors())
    names.push_back(alert_name(entry.alert));
  return names;
}

}  // namespace tls
