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
