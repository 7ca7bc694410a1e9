#include "probe/online/missing_issuer.hpp"

#include <iostream>

#include "probe/rules/rules.hpp"
#include "report/utf8.hpp"
#include "tls/aia_issuer.hpp"

namespace probe {

std::vector<tls::Certificate> certificates_at_hand(const tls::Store& store) {
  std::vector<tls::Certificate> certificates = store.intermediate_certificates();
  for (const auto& root : store.root_certificates()) certificates.push_back(root);
  return certificates;
}

std::optional<tls::Certificate> certificate_missing_its_issuer(
    const tls::Certificate& leaf, const std::vector<tls::Certificate>& available) {
  tls::Certificate current = leaf;
  // Bounded: a chain longer than every certificate at hand is a loop.
  for (std::size_t step = 0; step <= available.size(); ++step) {
    if (current.self_signed()) return std::nullopt;
    const tls::Certificate* issuer = nullptr;
    for (const auto& candidate : available)
      if (!candidate.same_as(current) && current.issued_by(candidate)) issuer = &candidate;
    if (!issuer) return current;
    current = *issuer;
  }
  return std::nullopt;
}

void add_missing_issuer_location(std::vector<report::Finding>& findings, Side side,
                                 const tls::Certificate& leaf,
                                 const std::vector<tls::Certificate>& available,
                                 const tls::HttpClientOptions& http,
                                 OncePerKey<std::vector<tls::IssuerDownload>>* downloads) {
  const std::string id = id_text(
      for_side(side, FindingId::bems_chain_intermediates, FindingId::lync_chain_intermediates));
  report::Finding* target = nullptr;
  for (auto& finding : findings)
    if (finding.id == id && finding.status == report::Status::fail) target = &finding;
  if (!target) return;
  auto stuck = certificate_missing_its_issuer(leaf, available);
  if (!stuck) return;
  const std::string missing = rules::in_quotes(stuck->info().issuer);
  if (stuck->info().ca_issuer_urls.empty()) {
    target->detail += " " + rules::in_quotes(stuck->subject()) +
                      " names no AIA caIssuers URL to download " + missing + " from.";
    return;
  }
  auto fetch = [&] {
    std::cerr << "mtlsprobe: looking for " << report::one_line_printable(stuck->info().issuer)
              << " at the AIA caIssuers URL...\n";
    return tls::download_issuer(*stuck, http);
  };
  auto tried = downloads ? downloads->get(stuck->sha256(), fetch) : fetch();
  for (const auto& download : tried) {
    if (!download.issuer) continue;
    const auto& info = download.issuer->info();
    target->detail += " The missing intermediate " + missing + " is at " + download.url +
                      " (AIA caIssuers of " + rules::in_quotes(stuck->subject()) +
                      "; downloaded in " + std::to_string(download.elapsed.count()) +
                      " ms to locate it, not trusted).";
    target->remedy += " It can be downloaded from " + download.url +
                      "; check its SHA-256 fingerprint " + info.sha256 +
                      " with the CA before importing it.";
    return;
  }
  std::string errors;
  for (const auto& download : tried) errors += (errors.empty() ? "" : "; ") + download.error;
  target->detail += " The AIA caIssuers URL of " + rules::in_quotes(stuck->subject()) +
                    " did not provide " + missing + ": " + errors + ".";
}

}  // namespace probe
