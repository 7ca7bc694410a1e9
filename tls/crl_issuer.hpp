#pragma once
// Issuing CRLs for the lab PKI and the tests: a CA key signs a list of
// revoked serials with reasons and a validity window.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/credentials.hpp"
#include "tls/result.hpp"

namespace tls {

struct RevokedSerial {
  std::string serial_hex;  // as in CertificateInfo::serial_hex (any case, leading zeros ok)
  Clock::time_point revoked_at = Clock::now();
  std::string reason;  // RFC 5280 CRLReason name ("keyCompromise"); "" for no reason extension
};

struct CrlSpec {
  std::vector<RevokedSerial> revoked;
  Clock::time_point this_update = Clock::now() - std::chrono::minutes(1);
  Clock::time_point next_update = Clock::now() + std::chrono::hours(24 * 7);
  long number = 1;                // cRLNumber: increases with every CRL a CA issues
  std::string digest = "SHA256";  // ignored for Ed25519 / Ed448 keys
};

// A v2 CRL in DER, issued and signed by `ca` with `ca_key`, carrying the
// CA's authority key identifier so clients can pick the right key.
Result<std::vector<std::uint8_t>> issue_crl(const CrlSpec& spec, const Certificate& ca,
                                            const PrivateKey& ca_key);

}  // namespace tls
