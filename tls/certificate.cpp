#include "tls/certificate.hpp"

#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <mutex>

#include "tls/detail/openssl.hpp"

namespace tls {
namespace {

std::string name_to_string(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0,
                     (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT);
  return bio_to_string(bio.get());
}

std::string last_common_name(const X509_NAME* name) {
  int index = -1;
  int last = -1;
  while ((index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) >= 0) last = index;
  if (last < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

std::string hex(const unsigned char* data, size_t size, const char* separator) {
  static const char digits[] = "0123456789ABCDEF";
  std::string text;
  for (size_t i = 0; i < size; ++i) {
    if (i > 0) text += separator;
    text += digits[data[i] >> 4];
    text += digits[data[i] & 0xF];
  }
  return text;
}

Clock::time_point to_time_point(const ASN1_TIME* time) {
  struct tm parts {};
  if (!time || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  // system_clock counts nanoseconds in 64 bits and so ends in 2262, while
  // X.509 dates run to 9999 ("no expiry" roots): clamp instead of overflowing.
  constexpr auto last =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count();
  time_t seconds = timegm(&parts);
  if (seconds >= last) return Clock::time_point::max();
  if (seconds <= -last) return Clock::time_point::min();
  return Clock::from_time_t(seconds);
}

std::string ip_to_string(const ASN1_OCTET_STRING* ip) {
  const unsigned char* bytes = ASN1_STRING_get0_data(ip);
  int length = ASN1_STRING_length(ip);
  char buffer[64] = {};
  if (length == 4) {
    std::snprintf(buffer, sizeof buffer, "%d.%d.%d.%d", bytes[0], bytes[1], bytes[2], bytes[3]);
    return buffer;
  }
  if (length == 16) {
    std::string text;
    for (int i = 0; i < 16; i += 2) {
      std::snprintf(buffer, sizeof buffer, "%x", (bytes[i] << 8) | bytes[i + 1]);
      if (i > 0) text += ':';
      text += buffer;
    }
    return text;
  }
  return "(invalid IP of " + std::to_string(length) + " bytes)";
}

std::string asn1_to_string(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

void read_subject_alt_names(X509* x509, CertificateInfo& info) {
  int critical = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509, NID_subject_alt_name, &critical, nullptr)));
  info.has_san = X509_get_ext_by_NID(x509, NID_subject_alt_name, -1) >= 0;
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    switch (name->type) {
      case GEN_DNS:
        info.san_dns.push_back(asn1_to_string(name->d.dNSName));
        break;
      case GEN_IPADD:
        info.san_ip.push_back(ip_to_string(name->d.iPAddress));
        break;
      case GEN_EMAIL:
        info.san_other.push_back("email:" + asn1_to_string(name->d.rfc822Name));
        break;
      case GEN_URI:
        info.san_other.push_back("URI:" + asn1_to_string(name->d.uniformResourceIdentifier));
        break;
      case GEN_DIRNAME:
        info.san_other.push_back("DirName:" + name_to_string(name->d.dirn));
        break;
      default:
        info.san_other.push_back("other");
        break;
    }
  }
}

std::string object_name(const ASN1_OBJECT* object) {
  int nid = OBJ_obj2nid(object);
  if (nid != NID_undef) return OBJ_nid2sn(nid);
  char buffer[128] = {};
  OBJ_obj2txt(buffer, sizeof buffer, object, 1);
  return buffer;
}

void read_key_usages(X509* x509, CertificateInfo& info) {
  info.has_eku = X509_get_ext_by_NID(x509, NID_ext_key_usage, -1) >= 0;
  using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, Free<EXTENDED_KEY_USAGE_free>>;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(x509, NID_ext_key_usage, nullptr, nullptr)));
  if (eku) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
      info.eku.push_back(object_name(sk_ASN1_OBJECT_value(eku.get(), i)));
  }
  info.has_key_usage = X509_get_ext_by_NID(x509, NID_key_usage, -1) >= 0;
  if (info.has_key_usage) {
    static const std::pair<uint32_t, const char*> bits[] = {
        {KU_DIGITAL_SIGNATURE, "digitalSignature"},
        {KU_NON_REPUDIATION, "nonRepudiation"},
        {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
        {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
        {KU_KEY_AGREEMENT, "keyAgreement"},
        {KU_KEY_CERT_SIGN, "keyCertSign"},
        {KU_CRL_SIGN, "cRLSign"},
        {KU_ENCIPHER_ONLY, "encipherOnly"},
        {KU_DECIPHER_ONLY, "decipherOnly"}};
    uint32_t usage = X509_get_key_usage(x509);
    for (auto [bit, label] : bits)
      if (usage & bit) info.key_usage.push_back(label);
  }
}

void read_distribution_points(X509* x509, CertificateInfo& info) {
  using DistPointsPtr = std::unique_ptr<CRL_DIST_POINTS, Free<CRL_DIST_POINTS_free>>;
  DistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(x509, NID_crl_distribution_points, nullptr, nullptr)));
  if (points) {
    for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
      const DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);
      if (!point->distpoint || point->distpoint->type != 0) continue;
      const GENERAL_NAMES* names = point->distpoint->name.fullname;
      for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
        if (name->type == GEN_URI)
          info.crl_urls.push_back(asn1_to_string(name->d.uniformResourceIdentifier));
      }
    }
  }
  using AiaPtr = std::unique_ptr<AUTHORITY_INFO_ACCESS, Free<AUTHORITY_INFO_ACCESS_free>>;
  AiaPtr aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(x509, NID_info_access, nullptr, nullptr)));
  if (aia) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
      const ACCESS_DESCRIPTION* access = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
      if (access->location->type != GEN_URI) continue;
      std::string url = asn1_to_string(access->location->d.uniformResourceIdentifier);
      int nid = OBJ_obj2nid(access->method);
      if (nid == NID_ad_OCSP) info.ocsp_urls.push_back(url);
      if (nid == NID_ad_ca_issuers) info.ca_issuer_urls.push_back(url);
    }
  }
}

void read_policies(X509* x509, CertificateInfo& info) {
  using PoliciesPtr = std::unique_ptr<CERTIFICATEPOLICIES, Free<CERTIFICATEPOLICIES_free>>;
  PoliciesPtr policies(static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(x509, NID_certificate_policies, nullptr, nullptr)));
  if (!policies) return;
  for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i)
    info.policies.push_back(object_name(sk_POLICYINFO_value(policies.get(), i)->policyid));
}

// The DER contents of the extension `oid`, when the certificate has it.
const ASN1_OCTET_STRING* extension_data(X509* x509, const char* oid) {
  Asn1ObjectPtr object(OBJ_txt2obj(oid, 1));
  if (!object) return nullptr;
  const int index = X509_get_ext_by_OBJ(x509, object.get(), -1);
  if (index < 0) return nullptr;
  return X509_EXTENSION_get_data(X509_get_ext(x509, index));
}

// Application Policies have certificatePolicies' syntax (a SEQUENCE OF
// PolicyInformation whose identifiers are EKU purposes), so OpenSSL's
// decoder for that reads them. A malformed one counts as present and empty,
// as schannel then allows no purpose.
void read_application_policies(X509* x509, CertificateInfo& info) {
  const ASN1_OCTET_STRING* data = extension_data(x509, kApplicationPoliciesOid);
  if (!data) return;
  info.has_application_policies = true;
  using PoliciesPtr = std::unique_ptr<CERTIFICATEPOLICIES, Free<CERTIFICATEPOLICIES_free>>;
  const unsigned char* cursor = ASN1_STRING_get0_data(data);
  PoliciesPtr policies(d2i_CERTIFICATEPOLICIES(nullptr, &cursor, ASN1_STRING_length(data)));
  if (!policies) {
    clear_openssl_errors();
    return;
  }
  for (int i = 0; i < sk_POLICYINFO_num(policies.get()); ++i)
    info.application_policies.push_back(
        object_name(sk_POLICYINFO_value(policies.get(), i)->policyid));
}

int small_integer(const ASN1_TYPE* value) {
  if (!value || value->type != V_ASN1_INTEGER) return -1;
  long number = ASN1_INTEGER_get(value->value.integer);
  return number < 0 || number > 0x7FFFFFFF ? -1 : static_cast<int>(number);
}

// v2: SEQUENCE { templateID OID, majorVersion INTEGER, minorVersion INTEGER OPTIONAL };
// v1: a BMPString. Both decoded by OpenSSL; a malformed one is left out.
void read_template(X509* x509, CertificateInfo& info) {
  if (const ASN1_OCTET_STRING* data = extension_data(x509, kTemplateV2Oid)) {
    const unsigned char* cursor = ASN1_STRING_get0_data(data);
    Asn1TypeStackPtr fields(d2i_ASN1_SEQUENCE_ANY(nullptr, &cursor, ASN1_STRING_length(data)));
    if (fields && sk_ASN1_TYPE_num(fields.get()) >= 1 &&
        sk_ASN1_TYPE_value(fields.get(), 0)->type == V_ASN1_OBJECT) {
      char oid[128] = {};
      OBJ_obj2txt(oid, sizeof oid, sk_ASN1_TYPE_value(fields.get(), 0)->value.object, 1);
      info.template_id = oid;
      if (sk_ASN1_TYPE_num(fields.get()) >= 2)
        info.template_major = small_integer(sk_ASN1_TYPE_value(fields.get(), 1));
      if (sk_ASN1_TYPE_num(fields.get()) >= 3)
        info.template_minor = small_integer(sk_ASN1_TYPE_value(fields.get(), 2));
      return;
    }
  }
  if (const ASN1_OCTET_STRING* data = extension_data(x509, kTemplateV1Oid)) {
    const unsigned char* cursor = ASN1_STRING_get0_data(data);
    Asn1TypePtr name(d2i_ASN1_TYPE(nullptr, &cursor, ASN1_STRING_length(data)));
    if (!name || name->type != V_ASN1_BMPSTRING) return;
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, name->value.bmpstring);
    if (length < 0) return;
    info.template_id.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
  }
}

void read_key(X509* x509, CertificateInfo& info) {
  EVP_PKEY* key = X509_get0_pubkey(x509);
  if (!key) {
    info.key_type = "unknown";
    clear_openssl_errors();
    return;
  }
  info.key_bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      info.key_type = "RSA";
      break;
    case EVP_PKEY_RSA_PSS:
      info.key_type = "RSA-PSS";
      break;
    case EVP_PKEY_EC: {
      info.key_type = "EC";
      char curve[80] = {};
      size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length) == 1)
        info.curve = curve;
      break;
    }
    case EVP_PKEY_ED25519:
      info.key_type = "Ed25519";
      break;
    case EVP_PKEY_ED448:
      info.key_type = "Ed448";
      break;
    case EVP_PKEY_DSA:
      info.key_type = "DSA";
      break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      info.key_type = name ? name : "unknown";
    }
  }
}

void read_signature(X509* x509, CertificateInfo& info) {
  int signature_nid = X509_get_signature_nid(x509);
  info.signature_algorithm =
      signature_nid != NID_undef ? OBJ_nid2ln(signature_nid) : std::string("unknown");
  info.signature_is_pss = signature_nid == NID_rsassaPss;
  int digest_nid = NID_undef;
  int key_nid = NID_undef;
  if (OBJ_find_sigid_algs(signature_nid, &digest_nid, &key_nid) == 1 && digest_nid != NID_undef)
    info.signature_digest = OBJ_nid2sn(digest_nid);
  int security_bits = 0;
  uint32_t flags = 0;
  // For PSS, X509_get_signature_info reads the digest out of the parameters.
  if (X509_get_signature_info(x509, &digest_nid, &key_nid, &security_bits, &flags) == 1 &&
      digest_nid != NID_undef)
    info.signature_digest = OBJ_nid2sn(digest_nid);
  for (char& c : info.signature_digest) c = static_cast<char>(std::toupper(c));
  if (info.signature_digest.rfind("SHA", 0) == 0 &&
      info.signature_digest.find('-') != std::string::npos)
    info.signature_digest.erase(info.signature_digest.find('-'), 1);  // SHA-256 -> SHA256
  clear_openssl_errors();
}

std::vector<std::uint8_t> name_der(const X509_NAME* name) {
  const unsigned char* der = nullptr;
  size_t size = 0;
  if (X509_NAME_get0_der(const_cast<X509_NAME*>(name), &der, &size) != 1) return {};
  return std::vector<std::uint8_t>(der, der + size);
}

// Every fact but those Certificate::names() reads (subject, its DER, the
// issuer's DER, the SHA-256 fingerprint), which info() copies from there.
CertificateInfo read_info(X509* x509) {
  CertificateInfo info;
  info.issuer = name_to_string(X509_get_issuer_name(x509));
  info.common_name = last_common_name(X509_get_subject_name(x509));
  info.version = static_cast<int>(X509_get_version(x509)) + 1;

  const ASN1_INTEGER* serial = X509_get0_serialNumber(x509);
  BignumPtr serial_bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (serial_bn) {
    char* text = BN_bn2hex(serial_bn.get());
    info.serial_hex = text ? text : "";
    OPENSSL_free(text);
  }

  info.not_before = to_time_point(X509_get0_notBefore(x509));
  info.not_after = to_time_point(X509_get0_notAfter(x509));

  // X509_check_ca and the extension flags are computed lazily by OpenSSL.
  X509_check_purpose(x509, -1, 0);
  uint32_t flags = X509_get_extension_flags(x509);
  info.is_ca = (flags & EXFLAG_CA) != 0;
  long path_length = X509_get_pathlen(x509);
  info.path_length = path_length < 0 ? -1 : static_cast<int>(path_length);
  info.self_issued = (flags & EXFLAG_SI) != 0;

  read_subject_alt_names(x509, info);
  read_key_usages(x509, info);
  read_distribution_points(x509, info);
  read_policies(x509, info);
  read_application_policies(x509, info);
  read_template(x509, info);
  read_key(x509, info);
  read_signature(x509, info);
  clear_openssl_errors();
  return info;
}

// The key-less library context: certificates parsed in it keep their key
// undecoded (its "null" provider has no decoder), so parsing is the ASN.1
// alone. Freed at exit before OpenSSL's own cleanup (registered earlier).
struct KeylessContext {
  OSSL_LIB_CTX* context = OSSL_LIB_CTX_new();
  OSSL_PROVIDER* provider = context ? OSSL_PROVIDER_load(context, "null") : nullptr;
  KeylessContext() { clear_openssl_errors(); }
  ~KeylessContext() {
    if (provider) OSSL_PROVIDER_unload(provider);
    OSSL_LIB_CTX_free(context);
  }
};

OSSL_LIB_CTX* keyless_context() {
  static KeylessContext keyless;
  return keyless.provider ? keyless.context : nullptr;
}

// Reading facts must not drop errors a caller has yet to take from the queue.
struct ErrorMark {
  ErrorMark() { ERR_set_mark(); }
  ~ErrorMark() { ERR_pop_to_mark(); }
  ErrorMark(const ErrorMark&) = delete;
  ErrorMark& operator=(const ErrorMark&) = delete;
};

}  // namespace

// Each fact is read once, on first use, by whichever thread asks first.
struct Certificate::State {
  X509Ptr parsed;                 // the fields; its key decoded unless `der` is kept
  std::vector<std::uint8_t> der;  // what `parsed` was read from when its key was not decoded

  mutable std::once_flag whole_once;
  mutable X509Ptr whole;  // `der` parsed with its key

  mutable std::once_flag names_once;
  mutable std::string subject;
  mutable std::string sha256;
  mutable std::vector<std::uint8_t> subject_der;
  mutable std::vector<std::uint8_t> issuer_der;
  mutable unsigned long subject_hash = 0;
  mutable unsigned long issuer_hash = 0;
  mutable bool self_issued = false;

  mutable std::once_flag self_signed_once;
  mutable bool self_signed = false;

  mutable std::once_flag info_once;
  mutable CertificateInfo info;
};

Certificate::Certificate(X509* x509) {
  auto state = std::make_shared<State>();
  state->parsed.reset(x509);
  state_ = std::move(state);
  clear_openssl_errors();
}

Certificate::Certificate(std::shared_ptr<const State> state) : state_(std::move(state)) {}

std::optional<Certificate> Certificate::parse_deferring_key(const unsigned char*& cursor,
                                                            long length) {
  OSSL_LIB_CTX* keyless = keyless_context();
  const unsigned char* start = cursor;
  X509* x509 = keyless ? reinterpret_cast<X509*>(ASN1_item_d2i_ex(
                             nullptr, &cursor, length, ASN1_ITEM_rptr(X509), keyless, nullptr))
                       : d2i_X509(nullptr, &cursor, length);
  if (!x509) return std::nullopt;
  auto state = std::make_shared<State>();
  state->parsed.reset(x509);
  if (keyless) state->der.assign(start, cursor);
  return Certificate(std::move(state));
}

X509* Certificate::native() const {
  const State& state = *state_;
  if (state.der.empty()) return state.parsed.get();
  std::call_once(state.whole_once, [&state] {
    ErrorMark mark;
    const unsigned char* cursor = state.der.data();
    state.whole.reset(d2i_X509(nullptr, &cursor, static_cast<long>(state.der.size())));
  });
  // Parsed once already, it parses again; were memory short, the fields
  // still answer and the key is missing, as for an undecodable key.
  return state.whole ? state.whole.get() : state.parsed.get();
}

const Certificate::State& Certificate::names() const {
  const State& state = *state_;
  std::call_once(state.names_once, [&state] {
    ErrorMark mark;
    X509* x509 = state.parsed.get();
    state.subject = name_to_string(X509_get_subject_name(x509));
    state.subject_der = name_der(X509_get_subject_name(x509));
    state.issuer_der = name_der(X509_get_issuer_name(x509));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (X509_digest(x509, EVP_sha256(), digest, &digest_size) == 1)
      state.sha256 = hex(digest, digest_size, ":");
    state.subject_hash = X509_subject_name_hash(x509);
    state.issuer_hash = X509_issuer_name_hash(x509);
    X509_check_purpose(x509, -1, 0);
    state.self_issued = (X509_get_extension_flags(x509) & EXFLAG_SI) != 0;
  });
  return state;
}

const std::string& Certificate::subject() const { return names().subject; }
const std::string& Certificate::sha256() const { return names().sha256; }
const std::vector<std::uint8_t>& Certificate::subject_der() const { return names().subject_der; }
const std::vector<std::uint8_t>& Certificate::issuer_der() const { return names().issuer_der; }
bool Certificate::self_issued() const { return names().self_issued; }
unsigned long Certificate::subject_hash() const { return names().subject_hash; }
unsigned long Certificate::issuer_hash() const { return names().issuer_hash; }

bool Certificate::self_signed() const {
  const State& state = *state_;
  if (!self_issued()) return false;
  std::call_once(state.self_signed_once, [this, &state] {
    ErrorMark mark;
    X509* x509 = native();
    EVP_PKEY* key = X509_get0_pubkey(x509);
    state.self_signed = key && X509_verify(x509, key) == 1;
  });
  return state.self_signed;
}

const CertificateInfo& Certificate::info() const {
  const State& state = *state_;
  std::call_once(state.info_once, [this, &state] {
    const State& named = names();
    ErrorMark mark;
    state.info = read_info(native());
    state.info.subject = named.subject;
    state.info.sha256 = named.sha256;
    state.info.subject_der = named.subject_der;
    state.info.issuer_der = named.issuer_der;
    state.info.subject_der_size = named.subject_der.size();
    state.info.self_signed = self_signed();
  });
  return state.info;
}

Result<Certificate> Certificate::from_der(const std::vector<std::uint8_t>& der) {
  const unsigned char* cursor = der.data();
  X509* x509 = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
  if (!x509) return Error{"not a DER certificate: " + take_openssl_errors()};
  return Certificate(x509);
}

Result<Certificate> Certificate::from_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!x509) return Error{"not a PEM certificate: " + take_openssl_errors()};
  return Certificate(x509);
}

std::string Certificate::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), state_->parsed.get());
  return bio_to_string(bio.get());
}

std::vector<std::uint8_t> Certificate::der() const {
  unsigned char* der = nullptr;
  int size = i2d_X509(state_->parsed.get(), &der);
  if (size <= 0) return {};
  std::vector<std::uint8_t> bytes(der, der + size);
  OPENSSL_free(der);
  return bytes;
}

// Both compare the names' hashes first: certificates are compared with whole
// stores (400 roots), and different hashes mean different names for sure.
bool Certificate::same_as(const Certificate& other) const {
  if (state_ == other.state_) return true;
  if (subject_hash() != other.subject_hash()) return false;
  return X509_cmp(state_->parsed.get(), other.state_->parsed.get()) == 0;
}

bool Certificate::issued_by(const Certificate& issuer) const {
  if (issuer_hash() != issuer.subject_hash()) return false;
  if (X509_check_issued(issuer.native(), native()) != X509_V_OK) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  bool verified = key && X509_verify(native(), key) == 1;
  clear_openssl_errors();
  return verified;
}

std::string describe(const CertificateInfo& info) {
  std::string who = info.subject.empty() ? "(empty subject)" : info.subject;
  return who + " (serial " + info.serial_hex + ")";
}

}  // namespace tls
