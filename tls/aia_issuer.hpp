#pragma once
// AIA caIssuers (RFC 5280 4.2.2.1): where a certificate's issuer can be
// downloaded. Used to tell a person where a missing intermediate is; what is
// fetched is never added to any trust decision.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/http_client.hpp"

namespace tls {

struct IssuerDownload {
  std::string url;
  // The downloaded certificate whose key signed the child, when there is one.
  std::optional<Certificate> issuer;
  std::size_t certificates_received = 0;
  std::string error;  // why no issuer came from this URL
  std::chrono::milliseconds elapsed{0};
};

inline constexpr std::size_t kMaxIssuerUrls = 4;

// Tries each caIssuers URL of `child` in order (DER, PEM or a PKCS#7
// "certs-only" bundle, as CAs publish them) until one holds its issuer.
// At most kMaxIssuerUrls are fetched, all within one options.timeout.
// Returns one entry per URL; empty when `child` names none.
std::vector<IssuerDownload> download_issuer(const Certificate& child,
                                            const HttpClientOptions& options);

// The certificates in a caIssuers body, whichever of the three forms it is.
Result<std::vector<Certificate>> parse_issuer_bundle(const std::string& body);

}  // namespace tls
