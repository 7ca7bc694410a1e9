#include "tls/credentials.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tls/detail/openssl.hpp"

namespace tls {
namespace fs = std::filesystem;

Secret::~Secret() { OPENSSL_cleanse(value_.data(), value_.size()); }

Result<Secret> secret_from_env(const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (!value) return Error{"environment variable " + variable + " is not set"};
  return Secret(value);
}

Result<Secret> secret_from_file(const fs::path& file) {
  auto text = read_file_limited(file, 64 * 1024);
  if (!text) return text.error();
  std::string line = text->substr(0, text->find_first_of("\r\n"));
  OPENSSL_cleanse(text->data(), text->size());
  return Secret(line);
}

PrivateKey::PrivateKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

std::string PrivateKey::type() const {
  switch (EVP_PKEY_get_base_id(key_.get())) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default: {
      const char* name = EVP_PKEY_get0_type_name(key_.get());
      return name ? name : "unknown";
    }
  }
}

int PrivateKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }

bool PrivateKey::matches(const Certificate& certificate) const {
  EVP_PKEY* public_key = X509_get0_pubkey(certificate.native());
  bool same = public_key && EVP_PKEY_eq(public_key, key_.get()) == 1;
  clear_openssl_errors();
  return same;
}

Result<std::string> read_file_limited(const fs::path& file, std::uintmax_t limit) {
  std::error_code ec;
  auto status = fs::status(file, ec);
  // A symlink loop or a denied directory is not "no such file".
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Error{file.string() + ": " + ec.message()};
  if (ec || !fs::exists(status)) return Error{file.string() + ": no such file"};
  if (fs::is_directory(status)) return Error{file.string() + ": is a directory, expected a file"};
  if (!fs::is_regular_file(status)) return Error{file.string() + ": not a regular file"};
  auto size = fs::file_size(file, ec);
  if (ec) return Error{file.string() + ": cannot read size: " + ec.message()};
  if (size > limit)
    return Error{file.string() + ": too large (" + std::to_string(size / 1024) +
                 " KiB; the limit is " + std::to_string(limit / 1024) + " KiB)"};
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{file.string() + ": cannot open: " + std::strerror(errno)};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Error{file.string() + ": read error"};
  return buffer.str();
}

namespace {

struct PasswordContext {
  const std::optional<Secret>* password;
  bool asked = false;
};

int password_callback(char* buffer, int size, int /*rwflag*/, void* user) {
  auto* context = static_cast<PasswordContext*>(user);
  context->asked = true;
  if (!context->password || !context->password->has_value()) return -1;
  const std::string& value = (*context->password)->reveal();
  if (static_cast<int>(value.size()) > size) return -1;
  std::memcpy(buffer, value.data(), value.size());
  return static_cast<int>(value.size());
}

bool is_certificate_label(const std::string& label) {
  return label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE";
}

bool is_key_label(const std::string& label) {
  return label == "PRIVATE KEY" || label == "ENCRYPTED PRIVATE KEY" || label == "RSA PRIVATE KEY" ||
         label == "EC PRIVATE KEY" || label == "DSA PRIVATE KEY";
}

// A certificate bundle as Windows exports a chain (.p7b: "Cryptographic
// Message Syntax Standard - PKCS #7 Certificates"), DER or PEM: SignedData
// with certificates and nothing signed. nullopt when `data` is not PKCS#7.
std::optional<Result<std::vector<X509Ptr>>> pkcs7_certificates(const std::string& file,
                                                               const unsigned char* data,
                                                               long length) {
  const unsigned char* cursor = data;
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &cursor, length));
  if (!p7) {
    clear_openssl_errors();
    return std::nullopt;
  }
  if (cursor != data + length)
    return Result<std::vector<X509Ptr>>(Error{file + ": trailing bytes after the PKCS#7 bundle"});
  if (!PKCS7_type_is_signed(p7.get()) || !p7->d.sign)
    return Result<std::vector<X509Ptr>>(
        Error{file + ": a PKCS#7 file, but not a certificate bundle (SignedData)"});
  std::vector<X509Ptr> certificates;
  STACK_OF(X509)* held = p7->d.sign->cert;
  for (int i = 0; held && i < sk_X509_num(held); ++i) {
    X509* certificate = sk_X509_value(held, i);
    X509_up_ref(certificate);
    certificates.emplace_back(certificate);
  }
  return Result<std::vector<X509Ptr>>(std::move(certificates));
}

// One DER certificate, its key decoded now or when needed.
std::optional<Certificate> parse_certificate(const unsigned char*& cursor, long length,
                                             CertificateKeys keys) {
  if (keys == CertificateKeys::when_needed) return Certificate::parse_deferring_key(cursor, length);
  X509* x509 = d2i_X509(nullptr, &cursor, length);
  if (!x509) return std::nullopt;
  return Certificate(x509);
}

Result<FileContents> load_pem(const std::string& file, const std::string& bytes,
                              const std::optional<Secret>& password, CertificateKeys keys) {
  FileContents contents;
  contents.format = "PEM";
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  int block = 0;
  for (;;) {
    char* label_raw = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &label_raw, &header, &data, &length) != 1) {
      unsigned long error = ERR_peek_last_error();
      if (ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
        clear_openssl_errors();
        break;
      }
      return Error{file + ": PEM block " + std::to_string(block + 1) +
                   " is truncated or corrupt (" + take_openssl_errors() + ")"};
    }
    ++block;
    std::string label(label_raw);
    std::unique_ptr<unsigned char, OpensslFree> owned_data(data);
    OPENSSL_free(label_raw);
    OPENSSL_free(header);
    if (is_certificate_label(label)) {
      const unsigned char* cursor = data;
      std::optional<Certificate> certificate;
      if (label == "TRUSTED CERTIFICATE") {
        if (X509* x509 = d2i_X509_AUX(nullptr, &cursor, length)) certificate.emplace(x509);
      } else {
        certificate = parse_certificate(cursor, length, keys);
      }
      if (!certificate)
        return Error{file + ": certificate " + std::to_string(block) + " is not valid X.509 (" +
                     take_openssl_errors() + ")"};
      contents.certificates.push_back(std::move(*certificate));
    } else if (label == PEM_STRING_PKCS7 || label == PEM_STRING_PKCS7_SIGNED) {
      auto bundle = pkcs7_certificates(file, data, length);
      if (!bundle)
        return Error{file + ": PKCS#7 block " + std::to_string(block) + " is not valid PKCS#7"};
      if (!bundle->ok()) return bundle->error();
      for (auto& certificate : **bundle) contents.certificates.emplace_back(certificate.release());
    } else if (is_key_label(label)) {
      if (contents.key) return Error{file + ": holds more than one private key"};
      // The PEM key reader handles every key label, legacy encryption headers
      // and PKCS#8 encryption; a file holds at most one key, so reading the
      // first key of the whole file reads this one.
      BioPtr key_bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
      PasswordContext context{&password};
      EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, password_callback, &context);
      if (!key) {
        clear_openssl_errors();
        if (context.asked && !password)
          return Error{file +
                       ": the private key is encrypted; give its password with "
                       "--password-env VAR or --password-file FILE"};
        if (context.asked) return Error{file + ": wrong password for the encrypted private key"};
        return Error{file + ": private key is not readable"};
      }
      contents.key.emplace(key);
    }
    // Other blocks (CSRs, CRLs, parameters) are not credentials; they are ignored.
  }
  if (block == 0) return Error{file + ": no PEM block found"};
  if (contents.certificates.empty() && !contents.key)
    return Error{file + ": holds no certificate and no private key"};
  return contents;
}

// Windows exports PKCS#12 with RC2/3DES (pbeWithSHA1And40BitRC2-CBC), which
// OpenSSL 3 moved to the legacy provider. Loaded once, on first need, and
// released at exit (before OpenSSL's own atexit cleanup, registered earlier).
struct LegacyProviders {
  OSSL_PROVIDER* legacy = nullptr;
  OSSL_PROVIDER* fallback = nullptr;
  LegacyProviders() {
    legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    fallback = OSSL_PROVIDER_load(nullptr, "default");
    clear_openssl_errors();
  }
  ~LegacyProviders() {
    if (legacy) OSSL_PROVIDER_unload(legacy);
    if (fallback) OSSL_PROVIDER_unload(fallback);
  }
};

void load_legacy_provider_once() { static LegacyProviders providers; }

Result<FileContents> load_pkcs12(const std::string& file, PKCS12* p12,
                                 const std::optional<Secret>& password,
                                 std::uint64_t max_iterations) {
  // Every MAC check runs the key derivation the file asks for: 2^31-1
  // iterations in a 1 KB file is hours of CPU. Refuse before running any.
  const ASN1_INTEGER* mac_iterations = nullptr;
  PKCS12_get0_mac(nullptr, nullptr, nullptr, &mac_iterations, p12);
  if (mac_iterations) {
    const long iterations = ASN1_INTEGER_get(mac_iterations);
    if (iterations < 0 || static_cast<std::uint64_t>(iterations) > max_iterations)
      return Error{file + ": the PKCS#12 MAC asks for " +
                   (iterations < 0 ? std::string("more than 2^63") : std::to_string(iterations)) +
                   " key-derivation iterations, over the limit of " +
                   std::to_string(max_iterations) +
                   " (a file made to stall its reader; --pfx-max-iterations raises the limit)"};
  }
  // PKCS12_parse checks the MAC itself (with "" and no password when none is
  // given): checking it here as well ran the derivation two to four times.
  const char* pass = password ? password->reveal().c_str() : nullptr;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  auto mac_failed = [] {
    const unsigned long error = ERR_peek_last_error();
    return ERR_GET_LIB(error) == ERR_LIB_PKCS12 &&
           ERR_GET_REASON(error) == PKCS12_R_MAC_VERIFY_FAILURE;
  };
  if (PKCS12_parse(p12, pass, &key, &cert, &ca) != 1) {
    if (mac_failed()) {
      clear_openssl_errors();
      if (!password)
        return Error{file +
                     ": PKCS#12 file is password-protected; give the password with "
                     "--password-env VAR or --password-file FILE"};
      return Error{file + ": wrong password for the PKCS#12 file"};
    }
    // Older files encrypt with RC2 or 3DES, which live in the legacy provider.
    load_legacy_provider_once();
    clear_openssl_errors();
    if (PKCS12_parse(p12, pass, &key, &cert, &ca) != 1)
      return Error{file + ": PKCS#12 file cannot be decoded (" + take_openssl_errors() + ")"};
  }
  FileContents contents;
  contents.format = "PKCS#12";
  if (key) contents.key.emplace(key);
  if (cert) contents.certificates.emplace_back(cert);
  X509StackPtr chain(ca);
  while (chain && sk_X509_num(chain.get()) > 0)
    contents.certificates.emplace_back(sk_X509_shift(chain.get()));
  if (contents.certificates.empty() && !contents.key)
    return Error{file + ": PKCS#12 file holds no certificate and no key"};
  return contents;
}

Result<FileContents> load_der(const std::string& file, const std::string& bytes,
                              const std::optional<Secret>& password,
                              std::uint64_t max_pkcs12_iterations, CertificateKeys keys) {
  const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const long size = static_cast<long>(bytes.size());

  const unsigned char* cursor = begin;
  if (auto certificate = parse_certificate(cursor, size, keys)) {
    FileContents contents;
    contents.format = "DER";
    contents.certificates.push_back(std::move(*certificate));
    if (cursor != begin + size) return Error{file + ": trailing bytes after the DER certificate"};
    return contents;
  }
  clear_openssl_errors();

  if (auto bundle = pkcs7_certificates(file, begin, size)) {
    if (!bundle->ok()) return bundle->error();
    FileContents contents;
    contents.format = "PKCS#7";
    for (auto& certificate : **bundle) contents.certificates.emplace_back(certificate.release());
    if (contents.certificates.empty())
      return Error{file + ": the PKCS#7 bundle holds no certificate"};
    return contents;
  }

  cursor = begin;
  if (PKCS12* p12 = d2i_PKCS12(nullptr, &cursor, size)) {
    Pkcs12Ptr owned(p12);
    return load_pkcs12(file, p12, password, max_pkcs12_iterations);
  }
  clear_openssl_errors();

  cursor = begin;
  if (EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &cursor, size)) {
    FileContents contents;
    contents.format = "DER";
    contents.key.emplace(key);
    return contents;
  }
  clear_openssl_errors();

  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  PasswordContext context{&password};
  if (EVP_PKEY* key = d2i_PKCS8PrivateKey_bio(bio.get(), nullptr, password_callback, &context)) {
    FileContents contents;
    contents.format = "DER";
    contents.key.emplace(key);
    return contents;
  }
  clear_openssl_errors();
  if (context.asked)
    return Error{file + (password ? ": wrong password for the encrypted private key"
                                  : ": the private key is encrypted; give its password with "
                                    "--password-env VAR or --password-file FILE")};
  // PowerShell's Out-File and Set-Content (Windows PowerShell 5) write
  // UTF-16 with a byte-order mark: a PEM saved that way is no PEM.
  const bool utf16 = bytes.size() >= 2 && ((static_cast<unsigned char>(bytes[0]) == 0xFF &&
                                            static_cast<unsigned char>(bytes[1]) == 0xFE) ||
                                           (static_cast<unsigned char>(bytes[0]) == 0xFE &&
                                            static_cast<unsigned char>(bytes[1]) == 0xFF));
  if (utf16)
    return Error{file +
                 ": UTF-16 text (as Windows PowerShell's Out-File and Set-Content write it), not "
                 "a certificate or key file: save it as ASCII (Set-Content -Encoding ascii) or "
                 "convert it (iconv -f UTF-16 -t UTF-8)"};
  return Error{file + ": not a certificate or key in PEM, DER, PKCS#7 or PKCS#12 form"};
}

}  // namespace

Result<FileContents> load_credential_file(const fs::path& file,
                                          const std::optional<Secret>& password,
                                          std::uint64_t max_pkcs12_iterations,
                                          CertificateKeys keys) {
  auto bytes = read_file_limited(file);
  if (!bytes) return bytes.error();
  if (bytes->empty()) return Error{file.string() + ": file is empty"};
  // DER starts with a SEQUENCE (0x30) and may hold "-----BEGIN " anywhere
  // inside (a name, an extension): try it as DER before calling it PEM.
  if (bytes->front() == '\x30') {
    auto der = load_der(file.string(), *bytes, password, max_pkcs12_iterations, keys);
    if (der || bytes->find("-----BEGIN ") == std::string::npos) return der;
  }
  if (bytes->find("-----BEGIN ") != std::string::npos)
    return load_pem(file.string(), *bytes, password, keys);
  return load_der(file.string(), *bytes, password, max_pkcs12_iterations, keys);
}

}  // namespace tls
