#include "tls/handshake.hpp"
#include "tls/text.hpp"

namespace tls {

std::optional<TlsVersion> parse_tls_version(const std::string& text) {
  std::string lower = ascii_lower(text);
  for (const char* prefix : {"tlsv", "tls"})
    if (lower.rfind(prefix, 0) == 0) {
      lower = lower.substr(std::string(prefix).size());
      break;
    }
  if (lower == "1.0" || lower == "1") return TlsVersion::tls1_0;
  if (lower == "1.1") return TlsVersion::tls1_1;
  if (lower == "1.2") return TlsVersion::tls1_2;
  if (lower == "1.3") return TlsVersion::tls1_3;
  return std::nullopt;
}

std::string to_string(TlsVersion version) {
  switch (version) {
    case TlsVersion::tls1_0:
      return "TLSv1";
    case TlsVersion::tls1_1:
      return "TLSv1.1";
    case TlsVersion::tls1_2:
      return "TLSv1.2";
    case TlsVersion::tls1_3:
      return "TLSv1.3";
  }
  return "TLS";
}

std::string to_string(const std::optional<TlsVersion>& version) {
  return version ? to_string(*version) : std::string();
}

}  // namespace tls
