#include "tls/issuer.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tls/detail/openssl.hpp"

namespace tls {
namespace fs = std::filesystem;

Result<PrivateKey> generate_key(const KeySpec& spec) {
  EVP_PKEY* key = nullptr;
  if (spec.type == KeySpec::rsa) {
    if (spec.bits < 512 || spec.bits > 16384)
      return Error{"RSA key size " + std::to_string(spec.bits) + " is out of range"};
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.bits));
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.curve.c_str());
  }
  if (!key) return Error{"key generation failed: " + take_openssl_errors()};
  return PrivateKey(key);
}

namespace {

// Extension values go through OpenSSL's config syntax, where ',' separates
// entries; a name or URL carrying one would silently become two entries.
Status check_config_value(const std::string& what, const std::string& value) {
  if (value.empty()) return Error{what + " is empty"};
  if (value.find_first_of(",\r\n") != std::string::npos)
    return Error{what + " '" + value + "' contains a comma or line break"};
  return Done{};
}

std::string join(const std::vector<std::string>& parts, const std::string& prefix) {
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += ",";
    text += prefix + part;
  }
  return text;
}

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!extension)
    return Error{std::string("cannot build the ") + OBJ_nid2ln(nid) + " extension '" + value +
                 "': " + take_openssl_errors()};
  if (X509_add_ext(cert, extension.get(), -1) != 1)
    return Error{std::string("cannot add the ") + OBJ_nid2ln(nid) +
                 " extension: " + take_openssl_errors()};
  return Done{};
}

using PoliciesPtr = std::unique_ptr<CERTIFICATEPOLICIES, Free<CERTIFICATEPOLICIES_free>>;

// A certificatePolicies value from typed values (OpenSSL's config syntax for
// it wants a config database). `by_name`: short names ("clientAuth") allowed.
Result<PoliciesPtr> policy_list(const std::vector<std::string>& oids, bool by_name) {
  PoliciesPtr policies(sk_POLICYINFO_new_null());
  if (!policies) return Error{"cannot build the certificate policies: " + take_openssl_errors()};
  for (const auto& oid : oids) {
    POLICYINFO* policy = POLICYINFO_new();
    if (!policy || sk_POLICYINFO_push(policies.get(), policy) <= 0) {
      POLICYINFO_free(policy);
      return Error{"cannot build the certificate policies: " + take_openssl_errors()};
    }
    ASN1_OBJECT_free(policy->policyid);
    policy->policyid = OBJ_txt2obj(oid.c_str(), by_name ? 0 : 1);
    if (!policy->policyid)
      return Error{"policy '" + oid + "' is not an OID: " + take_openssl_errors()};
  }
  return policies;
}

Status add_policies(X509* cert, const std::vector<std::string>& oids) {
  auto policies = policy_list(oids, false);
  if (!policies) return policies.error();
  if (X509_add1_ext_i2d(cert, NID_certificate_policies, policies->get(), 0, X509V3_ADD_DEFAULT) !=
      1)
    return Error{"cannot add the certificate policies: " + take_openssl_errors()};
  return Done{};
}

// Application Policies: certificatePolicies' syntax under Microsoft's OID,
// encoded by OpenSSL's encoder for that syntax.
Status add_application_policies(X509* cert, const std::vector<std::string>& purposes) {
  auto policies = policy_list(purposes, true);
  if (!policies) return policies.error();
  unsigned char* der = nullptr;
  const int size = i2d_CERTIFICATEPOLICIES(policies->get(), &der);
  std::unique_ptr<unsigned char, OpensslFree> owned(der);
  Asn1ObjectPtr oid(OBJ_txt2obj(kApplicationPoliciesOid, 1));
  std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>> data(ASN1_OCTET_STRING_new());
  if (size <= 0 || !oid || !data || ASN1_OCTET_STRING_set(data.get(), der, size) != 1)
    return Error{"cannot encode the application policies: " + take_openssl_errors()};
  X509ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, data.get()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1)
    return Error{"cannot add the application policies: " + take_openssl_errors()};
  return Done{};
}

// The v2 template extension, encoded by OpenSSL from typed values.
Status add_template(X509* cert, const CertificateSpec::Template& wanted) {
  Asn1TypeStackPtr fields(sk_ASN1_TYPE_new_null());
  auto push = [&fields](int type, void* value) {
    Asn1TypePtr field(ASN1_TYPE_new());
    if (!field || !value) return false;
    ASN1_TYPE_set(field.get(), type, value);
    return sk_ASN1_TYPE_push(fields.get(), field.release()) > 0;
  };
  auto integer = [](int number) {
    ASN1_INTEGER* value = ASN1_INTEGER_new();
    if (value) ASN1_INTEGER_set(value, number);
    return value;
  };
  if (!fields || !push(V_ASN1_OBJECT, OBJ_txt2obj(wanted.oid.c_str(), 1)) ||
      !push(V_ASN1_INTEGER, integer(wanted.major_version)) ||
      !push(V_ASN1_INTEGER, integer(wanted.minor_version)))
    return Error{"certificate template '" + wanted.oid + "': " + take_openssl_errors()};
  unsigned char* der = nullptr;
  const int size = i2d_ASN1_SEQUENCE_ANY(fields.get(), &der);
  std::unique_ptr<unsigned char, OpensslFree> owned(der);
  Asn1ObjectPtr oid(OBJ_txt2obj(kTemplateV2Oid, 1));
  std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>> data(ASN1_OCTET_STRING_new());
  if (size <= 0 || !oid || !data || ASN1_OCTET_STRING_set(data.get(), der, size) != 1)
    return Error{"cannot encode the certificate template: " + take_openssl_errors()};
  X509ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, data.get()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1)
    return Error{"cannot add the certificate template: " + take_openssl_errors()};
  return Done{};
}

Status set_name(X509_NAME* name, const CertificateSpec& spec) {
  auto add = [name](const char* field, const std::string& value) {
    if (value.empty()) return true;
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!add("O", spec.organization) || !add("OU", spec.organizational_unit) ||
      !add("CN", spec.common_name))
    return Error{"cannot build the subject name: " + take_openssl_errors()};
  return Done{};
}

Status set_serial(X509* cert, const std::optional<std::vector<std::uint8_t>>& wanted) {
  std::vector<std::uint8_t> bytes;
  if (wanted) {
    bytes = *wanted;
    if (bytes.empty() || bytes.size() > 20) return Error{"serial must be 1 to 20 bytes"};
  } else {
    // RFC 5280 4.1.2.2: positive, at most 20 octets; CA/B asks for 64+ random bits.
    bytes.resize(16);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
      return Error{"no randomness for the serial: " + take_openssl_errors()};
    bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0x7F) | 0x40);
  }
  BignumPtr number(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (!number || !BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)))
    return Error{"cannot set the serial: " + take_openssl_errors()};
  return Done{};
}

std::vector<std::string> default_key_usage(const CertificateSpec& spec, const PrivateKey& key) {
  if (spec.is_ca) return {"keyCertSign", "cRLSign"};
  if (key.type() == "RSA") return {"digitalSignature", "keyEncipherment"};
  return {"digitalSignature"};
}

Status add_extensions(X509* cert, const CertificateSpec& spec, const PrivateKey& subject_key,
                      X509* issuer) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);

  std::string basic = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_length >= 0) basic += ",pathlen:" + std::to_string(spec.path_length);
  if (auto s = add_extension(cert, &ctx, NID_basic_constraints, basic); !s) return s;

  auto usage = spec.key_usage.empty() ? default_key_usage(spec, subject_key) : spec.key_usage;
  if (auto s = add_extension(cert, &ctx, NID_key_usage, "critical," + join(usage, "")); !s)
    return s;
  if (!spec.eku.empty())
    if (auto s = add_extension(cert, &ctx, NID_ext_key_usage, join(spec.eku, "")); !s) return s;

  if (auto s = add_extension(cert, &ctx, NID_subject_key_identifier, "hash"); !s) return s;
  // The issuer's SKI (our own, for a self-signed certificate, added just above).
  if (X509_get_ext_by_NID(issuer, NID_subject_key_identifier, -1) >= 0)
    if (auto s = add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always"); !s)
      return s;

  if (!spec.dns_names.empty() || !spec.ip_addresses.empty()) {
    std::string san = join(spec.dns_names, "DNS:");
    if (!spec.ip_addresses.empty())
      san += (san.empty() ? "" : ",") + join(spec.ip_addresses, "IP:");
    if (auto s = add_extension(cert, &ctx, NID_subject_alt_name, san); !s) return s;
  }
  if (!spec.crl_urls.empty())
    if (auto s =
            add_extension(cert, &ctx, NID_crl_distribution_points, join(spec.crl_urls, "URI:"));
        !s)
      return s;
  if (!spec.ocsp_urls.empty() || !spec.ca_issuer_urls.empty()) {
    std::string aia = join(spec.ocsp_urls, "OCSP;URI:");
    if (!spec.ca_issuer_urls.empty())
      aia += (aia.empty() ? "" : ",") + join(spec.ca_issuer_urls, "caIssuers;URI:");
    if (auto s = add_extension(cert, &ctx, NID_info_access, aia); !s) return s;
  }
  if (!spec.policies.empty())
    if (auto s = add_policies(cert, spec.policies); !s) return s;
  if (spec.certificate_template)
    if (auto s = add_template(cert, *spec.certificate_template); !s) return s;
  if (!spec.application_policies.empty())
    if (auto s = add_application_policies(cert, spec.application_policies); !s) return s;
  return Done{};
}

Status check_spec(const CertificateSpec& spec) {
  if (spec.common_name.empty() && spec.dns_names.empty() && spec.ip_addresses.empty())
    return Error{"a certificate needs a common name or a subject alternative name"};
  for (const auto& name : spec.dns_names)
    if (auto s = check_config_value("DNS name", name); !s) return s;
  for (const auto& ip : spec.ip_addresses)
    if (auto s = check_config_value("IP address", ip); !s) return s;
  for (const auto& list : {spec.crl_urls, spec.ocsp_urls, spec.ca_issuer_urls})
    for (const auto& url : list)
      if (auto s = check_config_value("URL", url); !s) return s;
  for (const auto& list : {spec.eku, spec.key_usage})
    for (const auto& usage : list)
      if (auto s = check_config_value("key usage", usage); !s) return s;
  for (const auto& list : {spec.policies, spec.application_policies})
    for (const auto& policy : list)
      if (auto s = check_config_value("policy", policy); !s) return s;
  if (spec.not_after <= spec.not_before) return Error{"notAfter must be later than notBefore"};
  return Done{};
}

}  // namespace

Result<Certificate> issue_certificate(const CertificateSpec& spec, const PrivateKey& subject_key,
                                      const Certificate* issuer_cert,
                                      const PrivateKey& issuer_key) {
  if (auto s = check_spec(spec); !s) return s.error();
  if (issuer_cert && !issuer_key.matches(*issuer_cert))
    return Error{"the issuer key does not belong to the issuer certificate " +
                 describe(issuer_cert->info())};
  if (!issuer_cert && EVP_PKEY_eq(subject_key.native(), issuer_key.native()) != 1) {
    clear_openssl_errors();
    return Error{"a self-signed certificate must be signed with its own key"};
  }
  const EVP_MD* digest = nullptr;
  if (!spec.digest.empty()) {
    digest = EVP_get_digestbyname(spec.digest.c_str());
    if (!digest) return Error{"unknown digest '" + spec.digest + "'"};
  }

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return Error{"cannot create a certificate: " + take_openssl_errors()};
  if (auto s = set_serial(cert.get(), spec.serial); !s) return s.error();
  if (auto s = set_name(X509_get_subject_name(cert.get()), spec); !s) return s.error();
  X509* issuer = issuer_cert ? issuer_cert->native() : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1)
    return Error{"cannot set the issuer name: " + take_openssl_errors()};
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), Clock::to_time_t(spec.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), Clock::to_time_t(spec.not_after)))
    return Error{"cannot set the validity period: " + take_openssl_errors()};
  if (X509_set_pubkey(cert.get(), subject_key.native()) != 1)
    return Error{"cannot set the public key: " + take_openssl_errors()};
  if (auto s = add_extensions(cert.get(), spec, subject_key, issuer); !s) return s.error();
  if (X509_sign(cert.get(), issuer_key.native(), digest) <= 0)
    return Error{"cannot sign the certificate with " + spec.digest + ": " + take_openssl_errors()};
  return Certificate(cert.release());
}

namespace {

// Writes `bytes` to `file`, creating it with `mode` and forcing that mode on
// an existing file before any byte is written.
Status write_bytes(const fs::path& file, const std::string& bytes, mode_t mode) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error{file.string() + ": cannot create: " + std::strerror(errno)};
  if (::fchmod(fd, mode) != 0) {
    int error = errno;
    ::close(fd);
    return Error{file.string() + ": cannot set permissions: " + std::strerror(error)};
  }
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      return Error{file.string() + ": write failed: " + std::strerror(error)};
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Error{file.string() + ": write failed: " + std::strerror(errno)};
  return Done{};
}

// A string that is wiped when it goes away (it holds key material).
struct SensitiveBytes {
  std::string bytes;
  ~SensitiveBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

}  // namespace

Status write_pem(const fs::path& file, const Certificate& certificate) {
  return write_bytes(file, certificate.pem(), 0644);
}

Status write_pem(const fs::path& file, const std::vector<Certificate>& certificates) {
  std::string text;
  for (const auto& certificate : certificates) text += certificate.pem();
  return write_bytes(file, text, 0644);
}

Status write_private_key_pem(const fs::path& file, const PrivateKey& key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.native(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Error{file.string() + ": cannot encode the private key: " + take_openssl_errors()};
  SensitiveBytes pem{bio_to_string(bio.get())};
  return write_bytes(file, pem.bytes, 0600);
}

Status write_pkcs12(const fs::path& file, const PrivateKey& key, const Certificate& certificate,
                    const std::vector<Certificate>& chain, const std::optional<Secret>& password) {
  X509StackPtr ca(sk_X509_new_null());
  for (const auto& extra : chain) {
    X509_up_ref(extra.native());
    sk_X509_push(ca.get(), extra.native());
  }
  const std::string& name = certificate.info().common_name;
  // With a password: PBES2 (PBKDF2 + AES-256-CBC) for key and certificates,
  // which Windows Server 2019+ and OpenSSL 3 read. Without: no encryption;
  // the MAC is kept, over the empty password, because readers (Windows,
  // OpenSSL) treat a missing MAC as a corrupt file.
  const char* pass = password ? password->reveal().c_str() : "";
  int cipher = password ? NID_aes_256_cbc : -1;
  Pkcs12Ptr p12(PKCS12_create(pass, name.empty() ? nullptr : name.c_str(), key.native(),
                              certificate.native(), ca.get(), cipher, cipher, PKCS12_DEFAULT_ITER,
                              -1, 0));
  if (!p12)
    return Error{file.string() + ": cannot build the PKCS#12 file: " + take_openssl_errors()};
  if (PKCS12_set_mac(p12.get(), pass, -1, nullptr, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) != 1)
    return Error{file.string() + ": cannot add the PKCS#12 MAC: " + take_openssl_errors()};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || i2d_PKCS12_bio(bio.get(), p12.get()) != 1)
    return Error{file.string() + ": cannot encode the PKCS#12 file: " + take_openssl_errors()};
  SensitiveBytes der{bio_to_string(bio.get())};
  return write_bytes(file, der.bytes, 0600);
}

}  // namespace tls
