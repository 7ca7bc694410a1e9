#include "tls/alerts.hpp"

#include <openssl/x509_vfy.h>

namespace tls {

const std::vector<AlertName>& alert_names() {
  static const std::vector<AlertName> names = {
      {alert::close_notify, "close_notify"},
      {alert::unexpected_message, "unexpected_message"},
      {alert::bad_record_mac, "bad_record_mac"},
      {alert::decryption_failed, "decryption_failed"},
      {alert::record_overflow, "record_overflow"},
      {alert::decompression_failure, "decompression_failure"},
      {alert::handshake_failure, "handshake_failure"},
      {alert::no_certificate, "no_certificate"},
      {alert::bad_certificate, "bad_certificate"},
      {alert::unsupported_certificate, "unsupported_certificate"},
      {alert::certificate_revoked, "certificate_revoked"},
      {alert::certificate_expired, "certificate_expired"},
      {alert::certificate_unknown, "certificate_unknown"},
      {alert::illegal_parameter, "illegal_parameter"},
      {alert::unknown_ca, "unknown_ca"},
      {alert::access_denied, "access_denied"},
      {alert::decode_error, "decode_error"},
      {alert::decrypt_error, "decrypt_error"},
      {alert::export_restriction, "export_restriction"},
      {alert::protocol_version, "protocol_version"},
      {alert::insufficient_security, "insufficient_security"},
      {alert::internal_error, "internal_error"},
      {alert::inappropriate_fallback, "inappropriate_fallback"},
      {alert::user_canceled, "user_canceled"},
      {alert::no_renegotiation, "no_renegotiation"},
      {alert::missing_extension, "missing_extension"},
      {alert::unsupported_extension, "unsupported_extension"},
      {alert::certificate_unobtainable, "certificate_unobtainable"},
      {alert::unrecognized_name, "unrecognized_name"},
      {alert::bad_certificate_status_response, "bad_certificate_status_response"},
      {alert::bad_certificate_hash_value, "bad_certificate_hash_value"},
      {alert::unknown_psk_identity, "unknown_psk_identity"},
      {alert::certificate_required, "certificate_required"},
      {alert::no_application_protocol, "no_application_protocol"},
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
      {alert::unknown_ca, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY},
      {alert::bad_certificate, X509_V_ERR_CERT_REJECTED},
      {alert::certificate_expired, X509_V_ERR_CERT_HAS_EXPIRED},
      {alert::certificate_revoked, X509_V_ERR_CERT_REVOKED},
      {alert::unsupported_certificate, X509_V_ERR_INVALID_PURPOSE},
      {alert::handshake_failure, X509_V_ERR_APPLICATION_VERIFICATION},
      {alert::decrypt_error, X509_V_ERR_CERT_SIGNATURE_FAILURE},
      {alert::internal_error, X509_V_ERR_UNSPECIFIED},
      {alert::certificate_unknown, X509_V_ERR_SUBJECT_ISSUER_MISMATCH},
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
