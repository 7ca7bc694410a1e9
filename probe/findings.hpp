#pragma once
// The catalogue of finding ids and the builders every finding is made with.
// Any part of probe/ may include it. An id is declared once below, with the
// requirement it is grouped under and what it judges; code names it by its
// `FindingId`, never by its text, and the JSON carries the text unchanged.
//
// Adding a finding: one line in MTLSPROBE_FINDING_IDS and one row in one of
// README.md's id tables (tests/test_findings.cpp checks both directions).
#include <span>
#include <string>
#include <string_view>

#include "report/model.hpp"
#include "tls/certificate.hpp"

namespace probe {

// The requirement headings findings are grouped under, in the seed's order,
// then the live ones.
namespace requirement {
inline constexpr const char* kPersonal =
    "BEMS certificate and private key in the Personal store, readable by the service account";
inline constexpr const char* kTrustedRoot =
    "Both certificates chain to roots in BEMS's Trusted Root Certification Authorities store";
inline constexpr const char* kIntermediate =
    "Intermediates of both certificates in BEMS's Intermediate Certification Authorities store";
inline constexpr const char* kSubjectName =
    "Subject CN is a valid FQDN: the trusted application pool name";
inline constexpr const char* kSubjectAltName =
    "SAN lists the pool FQDN and the FQDN of every BEMS instance";
inline constexpr const char* kMutualTrust =
    "Both certificates are signed by CAs that both sides trust";
inline constexpr const char* kValidity = "Certificates are valid, not expired and not revoked";
inline constexpr const char* kHandshake = "The MTLS handshake between BEMS and the Lync/Skype pool";
inline constexpr const char* kRollover =
    "The next certificate works everywhere the current one does, from the switch date on";
inline constexpr const char* kSipOverMtls =
    "The Lync/Skype pool accepts our certificate's names and answers SIP over the MTLS connection";
inline constexpr const char* kPool =
    "Every server behind a pool name presents the same issuer and chain";
inline constexpr const char* kDns = "DNS names every server (SRV, A/AAAA)";
}  // namespace requirement

// X(enumerator, id, requirement, what it judges)
#define MTLSPROBE_FINDING_IDS(X)                                                                   \
  X(bems_key_present, "bems.key.present", kPersonal,                                               \
    "the BEMS certificate and its private key are in personal/")                                   \
  X(bems_key_matches, "bems.key.matches", kPersonal,                                               \
    "the private key belongs to the BEMS certificate")                                             \
  X(bems_key_readable, "bems.key.readable", kPersonal,                                             \
    "this account can read the key file, and not everyone can")                                    \
  X(bems_chain_trusted, "bems.chain.trusted", kTrustedRoot,                                        \
    "the BEMS chain ends at a root in trusted-root/")                                              \
  X(lync_chain_trusted, "lync.chain.trusted", kTrustedRoot,                                        \
    "the Lync/Skype chain ends at a root in BEMS's trusted-root/")                                 \
  X(bems_store_placement, "bems.store.placement", kTrustedRoot,                                    \
    "BEMS's trusted-root/ holds only self-signed roots, intermediate/ no root")                    \
  X(lync_store_placement, "lync.store.placement", kTrustedRoot,                                    \
    "the pool's trusted-root/ holds only self-signed roots, intermediate/ no root")                \
  X(bems_store_issuer_list, "bems.store.issuer-list", kTrustedRoot,                                \
    "the names of trusted-root/ fit the 16 KB schannel sends as acceptable-CA list")               \
  X(bems_chain_intermediates, "bems.chain.intermediates", kIntermediate,                           \
    "every intermediate of the BEMS chain is presented or in intermediate/")                       \
  X(lync_chain_intermediates, "lync.chain.intermediates", kIntermediate,                           \
    "every intermediate of the Lync/Skype chain is presented or in intermediate/")                 \
  X(bems_subject_cn_fqdn, "bems.subject.cn-fqdn", kSubjectName,                                    \
    "the BEMS subject CN is an FQDN and the pool name")                                            \
  X(bems_san_pool, "bems.san.pool", kSubjectAltName, "the BEMS SAN lists the pool FQDN")           \
  X(bems_san_instances, "bems.san.instances", kSubjectAltName,                                     \
    "the BEMS SAN lists every BEMS instance FQDN")                                                 \
  X(trust_mutual, "trust.mutual", kMutualTrust, "each side's store trusts the other side's chain") \
  X(bems_validity, "bems.validity", kValidity, "every certificate of the BEMS chain is in date")   \
  X(lync_validity, "lync.validity", kValidity,                                                     \
    "every certificate of the Lync/Skype chain is in date")                                        \
  X(bems_eku, "bems.eku", kValidity,                                                               \
    "the BEMS certificate allows serverAuth and clientAuth, and its key to sign")                  \
  X(lync_eku, "lync.eku", kValidity,                                                               \
    "the Lync/Skype certificate allows serverAuth and clientAuth, and its key to sign")            \
  X(bems_san_syntax, "bems.san.syntax", kValidity,                                                 \
    "every SAN DNS name of the BEMS certificate is an RFC 1034 host name (no underscore)")         \
  X(lync_san_syntax, "lync.san.syntax", kValidity,                                                 \
    "every SAN DNS name of the Lync/Skype certificate is an RFC 1034 host name (no underscore)")   \
  X(bems_key_strength, "bems.key.strength", kValidity,                                             \
    "the BEMS chain's keys and signatures are strong enough")                                      \
  X(lync_key_strength, "lync.key.strength", kValidity,                                             \
    "the Lync/Skype chain's keys and signatures are strong enough")                                \
  X(bems_revocation_published, "bems.revocation.published", kValidity,                             \
    "each BEMS certificate below the root names an HTTP CRL or OCSP URL")                          \
  X(lync_revocation_published, "lync.revocation.published", kValidity,                             \
    "each Lync/Skype certificate below the root names an HTTP CRL or OCSP URL")                    \
  X(bems_revocation, "bems.revocation", kValidity,                                                 \
    "no certificate of the BEMS chain is revoked, and its revocation data is reachable")           \
  X(lync_revocation, "lync.revocation", kValidity,                                                 \
    "no certificate of the Lync/Skype chain is revoked, and its revocation data is reachable")     \
  X(handshake_tcp, "handshake.tcp", kHandshake, "the TCP connection to the peer was made")         \
  X(handshake_protocol, "handshake.protocol", kHandshake,                                          \
    "both sides agreed a TLS version and cipher suite")                                            \
  X(handshake_ca_list, "handshake.ca-list", kHandshake,                                            \
    "our chain is among the client CAs the server accepts")                                        \
  X(handshake_no_client_cert, "handshake.no-client-cert", kHandshake,                              \
    "a client certificate was sent")                                                               \
  X(handshake_peer_rejected_us, "handshake.peer-rejected-us", kHandshake,                          \
    "the peer accepted our certificate (no alert after seeing it)")                                \
  X(handshake_we_rejected_peer, "handshake.we-rejected-peer", kHandshake,                          \
    "our verification of the peer's chain succeeded")                                              \
  X(peer_name, "peer.name", kHandshake, "the peer's certificate covers the name we dialled")       \
  X(sip_options, "sip.options", kSipOverMtls, "the peer answers SIP OPTIONS over the connection")  \
  X(sip_presence, "sip.presence", kSipOverMtls,                                                    \
    "the peer accepts a presence SUBSCRIBE and sends its NOTIFY")                                  \
  X(sip_trusted_application, "sip.trusted-application", kSipOverMtls,                              \
    "serve --sip: the client's certificate names a trusted application of our topology")           \
  X(sip_requests, "sip.requests", kSipOverMtls,                                                    \
    "serve --sip: the client spoke SIP over the connection and got a 2xx answer to each request")  \
  X(pool_consistent, "pool.consistent", kPool,                                                     \
    "the addresses of one name present the same issuer and chain")                                 \
  X(dns_srv, "dns.srv", kDns, "the SRV record asked for exists and names servers")                 \
  X(rollover_peer_intermediate, "rollover.peer-intermediate", kRollover,                           \
    "every CA new in the next chain is in the Lync/Skype pool's intermediate/")                    \
  X(rollover_switch_date, "rollover.switch-date", kRollover,                                       \
    "the current certificate lasts until the planned switch date")                                 \
  X(rollover_key_usage, "rollover.key-usage", kRollover,                                           \
    "the next certificate keeps the key usages TLS needs for its key type")                        \
  X(rollover_risky, "rollover.risky", kRollover,                                                   \
    "no difference between the current and the next certificate that some peers refuse")           \
  X(rollover_live, "rollover.live", kRollover,                                                     \
    "the real pool accepts the next certificate wherever it accepts the current one, and "         \
    "(--peer-store with its key) the pool's store accepts it when the pool dials BEMS")

enum class FindingId {
#define MTLSPROBE_FINDING_ENUMERATOR(name, text, heading, meaning) name,
  MTLSPROBE_FINDING_IDS(MTLSPROBE_FINDING_ENUMERATOR)
#undef MTLSPROBE_FINDING_ENUMERATOR
};

struct FindingKind {
  FindingId id;
  std::string_view text;    // the id as reports show it, e.g. "bems.key.present"
  const char* requirement;  // one of requirement::k*
  std::string_view meaning;
};

// Every kind, in declaration order.
std::span<const FindingKind> finding_catalogue();
const FindingKind& finding_kind(FindingId id);
std::string id_text(FindingId id);
// The kind a report id names, or null; `pair`'s direction prefixes
// ("bems-to-lync.", "lync-to-bems.server.") are not part of the catalogue.
const FindingKind* find_finding_kind(std::string_view text);

// One side of the connection, and the ids that exist once per side.
enum class Side { bems, lync };
std::string side_name(Side side);  // "BEMS" / "Lync/Skype pool"
std::string side_id(Side side);    // "bems" / "lync", the JSON facts' key
Side other(Side side);
// `bems` or `lync`, whichever is `side`'s: for_side(side, FindingId::bems_eku,
// FindingId::lync_eku).
FindingId for_side(Side side, FindingId bems, FindingId lync);

// A finding with its id and requirement from the catalogue; the status is
// set by one of the builders below.
report::Finding finding(FindingId id, std::string title);
report::Finding& pass(report::Finding& f, std::string detail);
report::Finding& warn(report::Finding& f, std::string detail, std::string remedy);
report::Finding& fail(report::Finding& f, std::string detail, std::string remedy);
report::Finding& skip(report::Finding& f, std::string reason);
// The certificate a finding is about.
report::Finding& about(report::Finding& f, const tls::CertificateInfo& info);
report::CertificateRef certificate_ref(const tls::CertificateInfo& info);

}  // namespace probe
