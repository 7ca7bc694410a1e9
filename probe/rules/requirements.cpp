#include "probe/rules/requirements.hpp"

#include <algorithm>
#include <cctype>

#include "probe/rules/rules.hpp"

namespace probe {

std::vector<report::Finding> evaluate_offline(const OfflineInputs& inputs) {
  using namespace rules;
  std::vector<report::Finding> findings;
  const tls::Store& bems_store = *inputs.bems;
  KnownCertificates known = collect_known(inputs);

  SideFacts bems{Side::bems, inputs.bems, std::nullopt, {}};
  if (bems_store.leaf) bems.leaf = bems_store.leaf->certificate;
  bems.presented = bems_store.personal_extra_certificates();
  for (const auto& certificate : bems_store.intermediate_certificates())
    bems.presented.push_back(certificate);

  SideFacts lync{Side::lync, inputs.lync, std::nullopt, {}};
  if (inputs.lync && inputs.lync->leaf) lync.leaf = inputs.lync->leaf->certificate;
  if (inputs.lync) {
    lync.presented = inputs.lync->personal_extra_certificates();
    for (const auto& certificate : inputs.lync->intermediate_certificates())
      lync.presented.push_back(certificate);
  }

  // Personal store.
  findings.push_back(key_present(bems_store));
  findings.push_back(key_matches(bems_store));
  findings.push_back(key_readable(bems_store));

  // Trusted roots, placement, the acceptable-CA list. One missing root can
  // break several verdicts: `cross` decides which finding blames it.
  const CrossTrust cross = cross_trust(bems, lync, bems_store, inputs.lync, known);
  findings.push_back(chain_trusted(bems, bems_store, known, &cross));
  findings.push_back(chain_trusted(lync, bems_store, known, &cross));
  findings.push_back(store_placement(Side::bems, inputs.bems));
  findings.push_back(store_placement(Side::lync, inputs.lync));
  findings.push_back(store_issuer_list(bems_store));

  // Intermediates.
  MissingIntermediates missing;  // one absent file, one finding
  findings.push_back(chain_intermediates(bems, bems_store, known, &missing, &cross));
  findings.push_back(chain_intermediates(lync, bems_store, known, &missing, &cross));

  // Names.
  std::optional<std::string> pool = inputs.pool;
  if (bems.leaf) {
    const tls::CertificateInfo& info = bems.leaf->info();
    findings.push_back(subject_cn(info, inputs.pool));
    bool pool_from_cn = !pool;
    if (!pool && !info.common_name.empty()) pool = info.common_name;
    if (pool_from_cn && findings.back().status == report::Status::fail) {
      // A CN that is not the pool FQDN says nothing of the pool: the CN
      // rule blames it, and the SAN cannot be judged against it.
      auto f = finding(FindingId::bems_san_pool, "SAN lists the trusted application pool FQDN");
      findings.push_back(
          skip(f, "no --pool given and the CN is not a pool FQDN to take it from (see " +
                      id_text(FindingId::bems_subject_cn_fqdn) + ")"));
    } else if (pool) {
      findings.push_back(san_pool(*bems.leaf, *pool, pool_from_cn));
    } else {
      auto f = finding(FindingId::bems_san_pool, "SAN lists the trusted application pool FQDN");
      findings.push_back(skip(f, "no --pool given and the certificate has no CN to take it from"));
    }
    findings.push_back(san_instances(*bems.leaf, inputs.instances, inputs.pool));
  } else {
    const std::string reason = "no BEMS certificate was found in personal/ (see " +
                               id_text(FindingId::bems_key_present) + ")";
    auto cn = finding(FindingId::bems_subject_cn_fqdn, "Subject CN is the pool FQDN");
    auto sp = finding(FindingId::bems_san_pool, "SAN lists the trusted application pool FQDN");
    auto si = finding(FindingId::bems_san_instances, "SAN lists every BEMS instance FQDN");
    findings.push_back(skip(cn, reason));
    findings.push_back(skip(sp, reason));
    findings.push_back(skip(si, reason));
  }

  // Mutual trust.
  findings.push_back(trust_mutual(bems, lync, bems_store, inputs.lync, known, cross));

  // Validity, purpose, strength, revocation data.
  for (const SideFacts* side : {&bems, &lync}) {
    std::vector<tls::Certificate> chain;
    if (side->leaf) chain = best_chain(*side, bems_store, known);
    findings.push_back(validity(side->side, chain, inputs.now, inputs.warn_days));
    if (side->leaf) {
      findings.push_back(eku(side->side, side->leaf->info()));
      const report::Finding* cn = nullptr;
      if (side->side == Side::bems)
        for (const report::Finding& judged : findings)
          if (judged.id == id_text(FindingId::bems_subject_cn_fqdn)) cn = &judged;
      findings.push_back(san_syntax(side->side, side->leaf->info(), cn));
    } else {
      auto f = finding(
          for_side(side->side, FindingId::bems_eku, FindingId::lync_eku),
          side_name(side->side) + " certificate is valid for server and client authentication");
      findings.push_back(skip(f, "no " + side_name(side->side) + " certificate to inspect"));
      auto names =
          finding(for_side(side->side, FindingId::bems_san_syntax, FindingId::lync_san_syntax),
                  "Every SAN DNS name of the " + side_name(side->side) +
                      " certificate is a valid host name");
      findings.push_back(skip(names, "no " + side_name(side->side) + " certificate to inspect"));
    }
    findings.push_back(key_strength(side->side, chain));
    findings.push_back(revocation_published(side->side, chain));
  }
  return findings;
}

std::vector<tls::Certificate> side_chain(const OfflineInputs& inputs, Side side) {
  const tls::Store* store = side == Side::lync ? inputs.lync : inputs.bems;
  if (!store || !store->leaf) return {};
  rules::SideFacts facts{side, store, store->leaf->certificate,
                         store->personal_extra_certificates()};
  return rules::best_chain(facts, *inputs.bems, rules::collect_known(inputs));
}

}  // namespace probe
