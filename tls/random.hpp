#pragma once
// Unpredictable identifiers from OpenSSL's CSPRNG. SIP asks for
// cryptographically random tags and Call-IDs (RFC 3261 19.3, 8.1.1.4) and a
// globally unique branch (8.1.1.7); std::random_device gives no such promise
// on every platform, and OpenSSL is already linked and seeded.
#include <cstddef>
#include <string>

namespace tls {

// byte_count random bytes as lower-case hex (2 * byte_count characters).
// Throws std::runtime_error only when OpenSSL's generator cannot be seeded,
// which leaves the tool unable to do TLS at all; main() reports it.
std::string random_hex(std::size_t byte_count);

}  // namespace tls
