#pragma once
// TLS alert names and codes (RFC 8446 section 6, RFC 5246 section 7.2), and
// the verify errors that make OpenSSL send a chosen alert: OpenSSL picks the
// alert a failed certificate check sends from the X509_V_ERR code the verify
// callback leaves behind, so a lab server "rejects with unknown_ca" by
// failing verification with the matching code.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tls {

// Alert descriptions by name: code outside this file tests `alert::unknown_ca`,
// never 48.
namespace alert {
inline constexpr int close_notify = 0;
inline constexpr int unexpected_message = 10;
inline constexpr int bad_record_mac = 20;
inline constexpr int decryption_failed = 21;
inline constexpr int record_overflow = 22;
inline constexpr int decompression_failure = 30;
inline constexpr int handshake_failure = 40;
inline constexpr int no_certificate = 41;
inline constexpr int bad_certificate = 42;
inline constexpr int unsupported_certificate = 43;
inline constexpr int certificate_revoked = 44;
inline constexpr int certificate_expired = 45;
inline constexpr int certificate_unknown = 46;
inline constexpr int illegal_parameter = 47;
inline constexpr int unknown_ca = 48;
inline constexpr int access_denied = 49;
inline constexpr int decode_error = 50;
inline constexpr int decrypt_error = 51;
inline constexpr int export_restriction = 60;
inline constexpr int protocol_version = 70;
inline constexpr int insufficient_security = 71;
inline constexpr int internal_error = 80;
inline constexpr int inappropriate_fallback = 86;
inline constexpr int user_canceled = 90;
inline constexpr int no_renegotiation = 100;
inline constexpr int missing_extension = 109;
inline constexpr int unsupported_extension = 110;
inline constexpr int certificate_unobtainable = 111;
inline constexpr int unrecognized_name = 112;
inline constexpr int bad_certificate_status_response = 113;
inline constexpr int bad_certificate_hash_value = 114;
inline constexpr int unknown_psk_identity = 115;
inline constexpr int certificate_required = 116;
inline constexpr int no_application_protocol = 120;
}  // namespace alert

struct AlertName {
  int code;
  const char* name;  // RFC spelling: "unknown_ca", "certificate_required", ...
};

// Every alert description of TLS 1.0 - 1.3.
const std::vector<AlertName>& alert_names();

// "unknown_ca" -> 48; nothing for an unknown name.
std::optional<int> alert_code(std::string_view name);
// 48 -> "unknown_ca"; "alert 200" for an unknown code.
std::string alert_name(int code);

// The X509_V_ERR code that makes OpenSSL send `alert_code` when a certificate
// verify callback fails with it; nothing for alerts OpenSSL never sends for a
// certificate (e.g. protocol_version).
std::optional<int> verify_error_for_alert(int alert_code);

// The alert names `verify_error_for_alert` accepts, for help texts and errors.
std::vector<std::string> rejectable_alert_names();

}  // namespace tls
