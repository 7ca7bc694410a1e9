#pragma once
// Internal to probe/: the individual rules evaluate_offline() runs. Each
// returns one finding (always, with `skip` and a reason when it cannot judge).
#include <cstdint>
#include <string>
#include <vector>

#include "probe/rules/requirements.hpp"
#include "tls/chain.hpp"

namespace probe::rules {

// Verification of structure only, against `judge`'s anchors (and the
// system's with --system-roots): dates, purposes and key sizes have rules of
// their own.
tls::VerifyPolicy structural_policy(const tls::Store& judge);

// The name between single quotes, as messages show names.
std::string in_quotes(const std::string& name);

// Where a side's certificates are, as far as the rules need them.
struct SideFacts {
  Side side;
  const tls::Store* store = nullptr;  // the side's own store (for placement), may be null
  std::optional<tls::Certificate> leaf;
  std::vector<tls::Certificate> presented;  // what the side sends after its leaf
};

// Certificates from every store, to find and name a missing link.
struct KnownCertificates {
  std::vector<tls::Certificate> all;
  std::vector<std::pair<tls::Certificate, std::string>> with_source;  // cert, "file path"
};
KnownCertificates collect_known(const OfflineInputs& inputs);

// Personal store.
report::Finding key_present(const tls::Store& bems);
report::Finding key_matches(const tls::Store& bems);
report::Finding key_readable(const tls::Store& bems);

// One root missing from a store can break several verdicts; these decide
// which finding blames it, so that it is blamed once:
// - BEMS's root in neither store: bems.chain.trusted, naming both stores;
//   trust.mutual points to it.
// - each side's root missing from the other side's store (two separate
//   PKIs): trust.mutual, naming both imports; lync.chain.trusted points to it.
// - otherwise lync.chain.trusted blames BEMS's distrust of the pool's chain,
//   trust.mutual the pool's distrust of BEMS's chain.
// An intermediate missing under a root BEMS does not trust is named by the
// finding that blames the root (one import of the CA's files), not by
// *.chain.intermediates.
struct CrossTrust {
  // Each chain against BEMS's store (stores' certificates all usable).
  std::optional<tls::ChainVerification> bems_by_bems;
  std::optional<tls::ChainVerification> lync_by_bems;
  // The BEMS chain against the pool's store, as the pool receives it;
  // empty without a pool store.
  std::optional<tls::ChainVerification> bems_by_pool;

  bool bems_root_missing_in_both() const;
  bool separate_pkis() const;
};
CrossTrust cross_trust(const SideFacts& bems, const SideFacts& lync, const tls::Store& bems_store,
                       const tls::Store* lync_store, const KnownCertificates& known);

// Whether a failed verification stopped for want of a trusted root (as
// opposed to a broken certificate): the chain ends at a root the judging
// store lacks, or at an issuer in no store.
bool root_untrusted(const tls::ChainVerification& result);

// Whether a chain that reached a trusted root was refused for how its CAs
// made it (a path length, name constraints, an issuer that is no CA, a bad
// signature, an unknown critical extension); fail_unverifiable() then fails
// `f` naming the certificate, what is wrong with it and who fixes it.
bool refused_by_its_cas(const tls::ChainVerification& result);
report::Finding& fail_unverifiable(report::Finding& f, const tls::ChainVerification& result);

// Chains and stores. With `cross` (evaluate_offline), a cause another
// finding blames is pointed to instead of blamed again.
// `verified`, when given, is the verification of the side's chain against
// `judge` and `known` the caller already holds (tls::is_only_path), taken
// instead of verifying again.
report::Finding chain_trusted(const SideFacts& side, const tls::Store& judge,
                              const KnownCertificates& known, const CrossTrust* cross = nullptr,
                              const tls::ChainVerification* verified = nullptr);
// The intermediate CAs missing from BEMS's intermediate/, by DER subject:
// `blamed` holds those an earlier call (the other side) already blames, and
// the call adds the one it blames. One missing file is blamed once.
using MissingIntermediates = std::vector<std::vector<std::uint8_t>>;
report::Finding chain_intermediates(const SideFacts& side, const tls::Store& judge,
                                    const KnownCertificates& known,
                                    MissingIntermediates* blamed = nullptr,
                                    const CrossTrust* cross = nullptr);
report::Finding store_placement(Side side, const tls::Store* store);
report::Finding store_issuer_list(const tls::Store& bems);
report::Finding trust_mutual(const SideFacts& bems, const SideFacts& lync,
                             const tls::Store& bems_store, const tls::Store* lync_store,
                             const KnownCertificates& known, const CrossTrust& cross);

// The built chain (leaf first) used for validity, strength and revocation rules.
std::vector<tls::Certificate> best_chain(const SideFacts& side, const tls::Store& judge,
                                         const KnownCertificates& known,
                                         const tls::ChainVerification* verified = nullptr);

// One certificate's properties.
report::Finding subject_cn(const tls::CertificateInfo& leaf,
                           const std::optional<std::string>& pool);
report::Finding san_pool(const tls::Certificate& leaf, const std::string& pool, bool pool_from_cn);
// `pool`: the pool FQDN given (--pool), for the remedy's CN.
report::Finding san_instances(const tls::Certificate& leaf,
                              const std::vector<std::string>& instances,
                              const std::optional<std::string>& pool = std::nullopt);
report::Finding validity(Side side, const std::vector<tls::Certificate>& chain,
                         tls::Clock::time_point now, int warn_days);
report::Finding eku(Side side, const tls::CertificateInfo& leaf);
// SAN DNS names in RFC 1034 preferred syntax (RFC 5280 4.2.1.6): one rule
// for `check` and the live commands, which accept the handshake as OpenSSL does.
// `cn`, when the report also has bems.subject.cn-fqdn for this certificate:
// a malformed CN repeated in the SAN is that finding's defect, not a second one.
report::Finding san_syntax(Side side, const tls::CertificateInfo& leaf,
                           const report::Finding* cn = nullptr);
report::Finding key_strength(Side side, const std::vector<tls::Certificate>& chain);
report::Finding revocation_published(Side side, const std::vector<tls::Certificate>& chain);

}  // namespace probe::rules
