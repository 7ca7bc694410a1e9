#pragma once
// Loading certificates and private keys from PEM, DER and PKCS#12 files.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace tls {

// A password. Wiped on destruction; never printed.
class Secret {
 public:
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  ~Secret();
  const std::string& reveal() const { return value_; }

 private:
  std::string value_;
};

// Reads a password from an environment variable or from the first line of a file.
Result<Secret> secret_from_env(const std::string& variable);
Result<Secret> secret_from_file(const std::filesystem::path& file);

class PrivateKey {
 public:
  explicit PrivateKey(EVP_PKEY* key);  // takes ownership
  std::string type() const;            // "RSA", "EC", ...
  int bits() const;
  bool matches(const Certificate& certificate) const;
  EVP_PKEY* native() const { return key_.get(); }  // tls/ only

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

// What one file held. PEM files may hold many certificates and a key; a
// PKCS#12 file holds a key, its certificate and optional CA certificates.
struct FileContents {
  std::vector<Certificate> certificates;
  std::optional<PrivateKey> key;
  std::string format;  // "PEM", "DER", "PKCS#7", "PKCS#12"
};

// Files larger than this are refused before being read.
inline constexpr std::uintmax_t kMaxCredentialFileBytes = 16u * 1024u * 1024u;

// PKCS#12 files name their own MAC iteration count. Windows and OpenSSL
// write 2,000-10,000; a file asking for more than this is refused unread.
inline constexpr std::uint64_t kDefaultMaxPkcs12Iterations = 1'000'000;

// When the public keys of a file's PEM and DER certificates are decoded: as
// they are parsed, or on first need (Certificate::parse_deferring_key), for
// stores of which few certificates are ever in a path (intermediate/).
enum class CertificateKeys { at_load, when_needed };

// Loads any supported credential file. Errors name the file and the reason.
Result<FileContents> load_credential_file(
    const std::filesystem::path& file, const std::optional<Secret>& password,
    std::uint64_t max_pkcs12_iterations = kDefaultMaxPkcs12Iterations,
    CertificateKeys keys = CertificateKeys::at_load);

// Reads a whole file with the size limit above; errors name the file.
Result<std::string> read_file_limited(const std::filesystem::path& file,
                                      std::uintmax_t limit = kMaxCredentialFileBytes);

}  // namespace tls
