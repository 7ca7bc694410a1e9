#include "tls/detail/chain_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "tls/dns_name.hpp"
#include "tls/text.hpp"

namespace tls::chain_policy {
namespace {

bool is_valid_mailbox(std::string_view address) {
  size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  return is_valid_dns_name(address.substr(at + 1), false);
}

std::string asn1_text(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

// The one textual form of an IP address a CN may carry (dotted decimal for
// IPv4, RFC 5952 for IPv6), as CABF BR 7.1.4.3 requires.
std::string canonical_ip_text(const ASN1_OCTET_STRING* address) {
  char text[INET6_ADDRSTRLEN] = {};
  int length = ASN1_STRING_length(address);
  int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  if (family == 0 || !inet_ntop(family, ASN1_STRING_get0_data(address), text, sizeof text))
    return {};
  return text;
}

bool extension_is_critical(X509* x509, int nid) {
  int index = X509_get_ext_by_NID(x509, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x509, index)) == 1;
}

bool has_extension(X509* x509, int nid) { return X509_get_ext_by_NID(x509, nid, -1) >= 0; }

// An extension OpenSSL knows but cannot decode, e.g. a malformed AIA.
Violation undecodable_extension(X509* x509) {
  for (int i = 0; i < X509_get_ext_count(x509); ++i) {
    X509_EXTENSION* extension = X509_get_ext(x509, i);
    const X509V3_EXT_METHOD* method = X509V3_EXT_get(extension);
    if (!method) continue;  // unknown: OpenSSL refuses it when critical
    void* decoded = X509V3_EXT_d2i(extension);
    clear_openssl_errors();
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(extension));
    if (!decoded) return std::string("its ") + OBJ_nid2ln(nid) + " extension cannot be decoded";
    bool empty = nid == NID_info_access &&
                 sk_ACCESS_DESCRIPTION_num(static_cast<AUTHORITY_INFO_ACCESS*>(decoded)) == 0;
    if (method->it)
      ASN1_item_free(static_cast<ASN1_VALUE*>(decoded), ASN1_ITEM_ptr(method->it));
    else if (method->ext_free)
      method->ext_free(decoded);
    // RFC 5280 4.2.2.1: "one or more" access descriptions.
    if (empty) return "its Authority Information Access extension is empty";
  }
  return {};
}

using NameConstraintsPtr = std::unique_ptr<NAME_CONSTRAINTS, Free<NAME_CONSTRAINTS_free>>;

Violation name_constraints_violation(X509* x509) {
  if (!has_extension(x509, NID_name_constraints)) return {};
  NameConstraintsPtr constraints(static_cast<NAME_CONSTRAINTS*>(
      X509_get_ext_d2i(x509, NID_name_constraints, nullptr, nullptr)));
  clear_openssl_errors();
  if (!constraints) return "its Name Constraints extension cannot be decoded";
  // RFC 5280 4.2.1.10: at least one of the two subtrees MUST be present.
  if (sk_GENERAL_SUBTREE_num(constraints->permittedSubtrees) <= 0 &&
      sk_GENERAL_SUBTREE_num(constraints->excludedSubtrees) <= 0)
    return "its Name Constraints extension has neither permitted nor excluded subtrees";
  for (auto* subtrees : {constraints->permittedSubtrees, constraints->excludedSubtrees}) {
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(subtrees); ++i) {
      const GENERAL_NAME* base = sk_GENERAL_SUBTREE_value(subtrees, i)->base;
      if (base->type != GEN_DNS) continue;
      // A leading period is URI syntax; a DNS constraint is a plain domain.
      std::string domain = asn1_text(base->d.dNSName);
      if (!domain.empty() && domain.front() == '.')
        return "its DNS name constraint '" + domain + "' is malformed (leading period)";
    }
  }
  return {};
}

// The address a CN spells, read the lenient way old resolvers do (inet_aton
// takes "0xC0A80101" and "192.168.001.001"), so a respelled SAN address is
// recognised; empty when the CN is no address at all.
std::string address_bytes(const std::string& text) {
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1)
    return std::string(reinterpret_cast<char*>(bytes), 16);
  in_addr v4{};
  if (inet_aton(text.c_str(), &v4) == 1) return std::string(reinterpret_cast<char*>(&v4), 4);
  return {};
}

// CABF BR 7.1.4.3: a CN repeats a SAN entry character for character. The
// CN is never used for matching, so a CN naming something else is left to
// the requirement rules; but a CN that names a SAN host or address in
// another spelling (case, hex or zero-padded IPv4, non-RFC 5952 IPv6) shows
// the two were not issued as one name, and is refused.
Violation common_name_violation(X509* leaf) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  clear_openssl_errors();
  std::vector<std::string> dns_names, addresses;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) dns_names.push_back(asn1_text(name->d.dNSName));
    if (name->type == GEN_IPADD) addresses.push_back(asn1_text(name->d.iPAddress));
  }
  const X509_NAME* subject = X509_get_subject_name(leaf);
  int index = -1;
  while ((index = X509_NAME_get_index_by_NID(subject, NID_commonName, index)) >= 0) {
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) return "its subject CN cannot be read";
    std::string common_name(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
    OPENSSL_free(utf8);
    if (std::find(dns_names.begin(), dns_names.end(), common_name) != dns_names.end()) continue;
    std::string address = address_bytes(common_name);
    bool same_address = !address.empty() &&
                        std::find(addresses.begin(), addresses.end(), address) != addresses.end();
    if (same_address) {
      ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(octets, reinterpret_cast<const unsigned char*>(address.data()),
                            static_cast<int>(address.size()));
      std::string canonical = canonical_ip_text(octets);
      ASN1_OCTET_STRING_free(octets);
      if (canonical == common_name) continue;
      return "its subject CN '" + common_name + "' spells SAN address " + canonical +
             " differently";
    }
    for (const std::string& dns : dns_names)
      if (iequals(dns, common_name))
        return "its subject CN '" + common_name + "' spells SAN name " + dns + " differently";
  }
  return {};
}

using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, Free<AUTHORITY_KEYID_free>>;

}  // namespace

Violation certificate_violation(const Certificate& certificate, bool is_anchor) {
  const CertificateInfo& info = certificate.info();
  if (info.key_type == "DSA") return "DSA keys are refused";
  if (info.key_type == "RSA" || info.key_type == "RSA-PSS") {
    if (info.key_bits < 2048)
      return "RSA key of " + std::to_string(info.key_bits) + " bits; at least 2048 are required";
    if (info.key_bits % 8 != 0)
      return "RSA key of " + std::to_string(info.key_bits) + " bits; the size must be whole bytes";
  }
  if (info.key_type == "EC" && info.curve != "prime256v1" && info.curve != "secp384r1" &&
      info.curve != "secp521r1")
    return "EC key on curve '" + info.curve + "'; only P-256, P-384 and P-521 are accepted";
  // An anchor is trusted as a key, not by its own signature.
  if (!is_anchor && (info.signature_digest == "SHA1" || info.signature_digest == "MD5"))
    return "signed with " + info.signature_digest + ", which is refused";
  return undecodable_extension(certificate.native());
}

Violation leaf_violation(const Certificate& leaf, Purpose purpose) {
  const CertificateInfo& info = leaf.info();
  X509* x509 = leaf.native();
  if (info.is_ca) return "it is a CA certificate (basicConstraints CA:TRUE), not an end entity";
  if (has_extension(x509, NID_name_constraints))
    return "it carries Name Constraints, which only a CA certificate may";
  if (purpose != Purpose::any) {
    const char* wanted = purpose == Purpose::server_auth ? "serverAuth" : "clientAuth";
    if (!info.has_eku)
      return std::string("the certificate has no Extended Key Usage; it must name ") + wanted;
    if (std::find(info.eku.begin(), info.eku.end(), wanted) == info.eku.end())
      return std::string("the Extended Key Usage does not include ") + wanted;
  }
  if (purpose == Purpose::server_auth && !info.has_san)
    return "it has no Subject Alternative Name; a server certificate must name its hosts there";
  // RFC 5280 4.2.1.6 asks for RFC 1034 "preferred name syntax"; a whole "*"
  // left-most label is the one wildcard form we accept. Underscores and empty
  // labels are refused.
  for (const std::string& name : info.san_dns)
    if (!is_valid_dns_name(name, true)) return "its SAN DNS name '" + name + "' is malformed";
  for (const std::string& other : info.san_other)
    if (other.rfind("email:", 0) == 0 && !is_valid_mailbox(other.substr(6)))
      return "its SAN e-mail address '" + other.substr(6) + "' is malformed";
  // RFC 5280 4.2.1.6: critical only when the subject is empty.
  if (extension_is_critical(x509, NID_subject_alt_name) &&
      X509_NAME_entry_count(X509_get_subject_name(x509)) > 0)
    return "its SAN extension is critical although the subject is not empty";
  if (purpose == Purpose::server_auth) return common_name_violation(x509);
  return {};
}

Violation anchor_violation(const Certificate& anchor) {
  X509* x509 = anchor.native();
  if (!anchor.self_issued() || !has_extension(x509, NID_authority_key_identifier)) return {};
  AuthorityKeyIdPtr key_id(static_cast<AUTHORITY_KEYID*>(
      X509_get_ext_d2i(x509, NID_authority_key_identifier, nullptr, nullptr)));
  clear_openssl_errors();
  if (!key_id) return "its Authority Key Identifier cannot be decoded";
  // CABF BR 7.1.2.1.3: a root's AKI, when present, holds only its own key id.
  if (!key_id->keyid) return "its Authority Key Identifier lacks the key identifier";
  if (key_id->issuer || key_id->serial)
    return "its Authority Key Identifier names an issuer and serial; a root's may not";
  const ASN1_OCTET_STRING* subject_key_id = X509_get0_subject_key_id(x509);
  if (!subject_key_id || ASN1_OCTET_STRING_cmp(subject_key_id, key_id->keyid) != 0)
    return "its Authority Key Identifier differs from its Subject Key Identifier";
  return {};
}

Violation issuer_violation(const Certificate& issuer) {
  X509* x509 = issuer.native();
  if (Violation violation = name_constraints_violation(x509)) return violation;
  // RFC 5280 4.2.1.11: "Conforming CAs MUST mark this extension as critical."
  if (has_extension(x509, NID_policy_constraints) &&
      !extension_is_critical(x509, NID_policy_constraints))
    return "its Policy Constraints extension is not marked critical";
  return {};
}

Violation peer_name_constraint_violation(const std::vector<Certificate>& chain,
                                         const std::string& peer_name) {
  // A stand-in certificate whose only name is the peer name, so OpenSSL's
  // own name-constraint matcher judges it.
  X509Ptr stand_in(X509_new());
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (ASN1_OCTET_STRING* address = a2i_IPADDRESS(peer_name.c_str())) {
    GENERAL_NAME_set0_value(name, GEN_IPADD, address);
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    ASN1_STRING_set(dns, peer_name.data(), static_cast<int>(peer_name.size()));
    GENERAL_NAME_set0_value(name, GEN_DNS, dns);
  }
  clear_openssl_errors();
  sk_GENERAL_NAME_push(names.get(), name);
  X509_add1_ext_i2d(stand_in.get(), NID_subject_alt_name, names.get(), 0, 0);
  // NAME_CONSTRAINTS_check reads the decoded-extension cache; fill it.
  X509_check_purpose(stand_in.get(), -1, 0);
  for (size_t depth = 1; depth < chain.size(); ++depth) {
    NameConstraintsPtr constraints(static_cast<NAME_CONSTRAINTS*>(
        X509_get_ext_d2i(chain[depth].native(), NID_name_constraints, nullptr, nullptr)));
    if (!constraints) continue;
    if (NAME_CONSTRAINTS_check(stand_in.get(), constraints.get()) != X509_V_OK) {
      clear_openssl_errors();
      return "the peer name " + peer_name + " is outside the name constraints of " +
             describe(chain[depth].info());
    }
  }
  clear_openssl_errors();
  return {};
}

bool crl_is_acceptable(X509_CRL* crl) {
  return X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) >= 0;
}

}  // namespace tls::chain_policy
