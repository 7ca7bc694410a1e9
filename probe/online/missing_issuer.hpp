#pragma once
// "The missing intermediate is at URL": when a chain stops at a certificate
// whose issuer is in no store and was not presented, its AIA caIssuers URL is
// fetched to tell the engineer where the issuer can be had. The download only
// locates it: nothing fetched joins a chain or a trust decision.
#include <optional>
#include <string>
#include <vector>

#include "probe/findings.hpp"
#include "probe/once_per_key.hpp"
#include "report/model.hpp"
#include "tls/aia_issuer.hpp"
#include "tls/certificate.hpp"
#include "tls/http_client.hpp"
#include "tls/store.hpp"

namespace probe {

// What a store holds to build chains with: its intermediates, then its roots.
std::vector<tls::Certificate> certificates_at_hand(const tls::Store& store);

// Walks from `leaf` through `available` by issuer signature and returns the
// certificate whose issuer is not among them (nullopt when the walk reaches a
// self-signed certificate).
std::optional<tls::Certificate> certificate_missing_its_issuer(
    const tls::Certificate& leaf, const std::vector<tls::Certificate>& available);

// When `side`'s *.chain.intermediates finding failed, downloads the caIssuers of the certificate
// that lacks its issuer and adds where it is (or why it could not be had) to
// the finding's detail and remedy. Network I/O, bounded by `http`;
// `downloads`, when given, shares each download across the run's targets.
void add_missing_issuer_location(std::vector<report::Finding>& findings, Side side,
                                 const tls::Certificate& leaf,
                                 const std::vector<tls::Certificate>& available,
                                 const tls::HttpClientOptions& http,
                                 OncePerKey<std::vector<tls::IssuerDownload>>* downloads = nullptr);

}  // namespace probe
