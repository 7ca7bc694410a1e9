#include "probe/online/checks.hpp"

#include "probe/online/missing_issuer.hpp"
#include "probe/rules/rules.hpp"

namespace probe {
namespace {

void add_revocation_facts(report::Report& result, Side side, boost::json::array certificates) {
  auto& facts = result.facts["revocation"];
  if (!facts.is_object()) facts = boost::json::object{};
  facts.as_object()[side_id(side)] = std::move(certificates);
}

}  // namespace

void check_peer_chain_online(const tls::HandshakeRecord& record, Side peer, const tls::Store& ours,
                             const RevocationFlags& flags, const tls::RevocationOptions& options,
                             report::Report& result, RevocationMemo* memo,
                             UntrustedChainUrls untrusted) {
  if (record.peer_chain.empty()) return;
  // Refused only because it is revoked, the chain reached our anchors: its
  // URLs are the ones our own check used in the handshake (and cached).
  const bool trusted =
      record.peer_verification && (record.peer_verification->trusted ||
                                   record.peer_verification->reason == tls::ChainError::revoked);
  if (!trusted && untrusted == UntrustedChainUrls::skip) {
    auto finding = revocation_finding(peer);
    skip(finding, "not checked: the " + side_name(peer) +
                      " chain was not trusted, and its CRL, OCSP and caIssuers URLs are chosen by "
                      "whoever sent it; serve fetches them only with --fetch-untrusted-urls (lab)");
    result.findings.push_back(std::move(finding));
    return;
  }
  const auto& chain = record.peer_verification && record.peer_verification->chain.size() > 1
                          ? record.peer_verification->chain
                          : record.peer_chain;
  auto theirs = check_chain_revocation(peer, chain, options, record.ocsp_staple.status, memo);
  result.findings.push_back(theirs.finding);
  add_revocation_facts(result, peer, std::move(theirs.certificates));
  if (flags.no_aia) return;
  auto available = certificates_at_hand(ours);
  available.insert(available.end(), record.peer_chain.begin(), record.peer_chain.end());
  add_missing_issuer_location(result.findings, peer, record.peer_chain.front(), available,
                              options.http, memo ? &memo->issuers : nullptr);
}

void check_own_chain_online(const tls::HandshakeRecord& record, Side us, const tls::Store& ours,
                            const RevocationFlags& flags, const tls::RevocationOptions& options,
                            report::Report& result, RevocationMemo* memo,
                            const std::vector<tls::Certificate>* built) {
  if (!ours.leaf) return;
  OfflineInputs own;
  own.bems = &ours;
  auto mine =
      check_chain_revocation(us, built ? *built : side_chain(own, Side::bems), options, {}, memo);
  result.findings.push_back(mine.finding);
  add_revocation_facts(result, us, std::move(mine.certificates));
  if (flags.no_aia || !record.our_certificate_sent) return;
  add_missing_issuer_location(result.findings, us, *record.our_certificate_sent,
                              certificates_at_hand(ours), options.http,
                              memo ? &memo->issuers : nullptr);
}

}  // namespace probe
