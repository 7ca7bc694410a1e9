#include "tls/random.hpp"

#include <stdexcept>
#include <vector>

#include <openssl/rand.h>

#include "tls/detail/openssl.hpp"

namespace tls {

std::string random_hex(std::size_t byte_count) {
  std::vector<unsigned char> bytes(byte_count);
  if (byte_count > 0 && RAND_bytes(bytes.data(), static_cast<int>(byte_count)) != 1) {
    throw std::runtime_error("OpenSSL random generator failed: " + take_openssl_errors());
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * byte_count);
  for (unsigned char b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 0x0f]);
  }
  return hex;
}

}  // namespace tls
