#pragma once
// `bems.revocation` / `lync.revocation`: whether each certificate below the
// root is revoked, and whether its revocation data can be fetched at all.
#include <boost/json/array.hpp>
#include <map>
#include <optional>

#include "probe/once_per_key.hpp"
#include "probe/rules/requirements.hpp"
#include "report/model.hpp"
#include "tls/aia_issuer.hpp"
#include "tls/revocation.hpp"

// The flags' registration only needs the type; the .cpp includes CLI11.
namespace CLI {
class App;
}  // namespace CLI

namespace probe {

struct RevocationFlags {
  std::string mode = "both";
  bool off = false;  // --no-revocation
  double timeout_seconds = 10;
  std::string crl_cache;
  bool no_aia = false;  // --no-aia: do not download missing issuers to say where they are
};
void add_revocation_flags(CLI::App* command, RevocationFlags& flags);
mtls::Result<tls::RevocationOptions> revocation_options(const RevocationFlags& flags);

// Answers already fetched in this run, by certificate SHA-256: both sides
// and every target of a fleet often share their CAs, and an unreachable
// server should cost its timeout once. Shared by threads.
struct RevocationMemo {
  OncePerKey<tls::RevocationStatus> revocation;
  // The AIA caIssuers downloads that locate a certificate's missing issuer.
  OncePerKey<std::vector<tls::IssuerDownload>> issuers;
};

struct RevocationCheck {
  report::Finding finding;
  // One object per certificate checked: subject, serial and revocation_json.
  boost::json::array certificates;
};

// The `<side>.revocation` finding before any check: what
// check_chain_revocation starts from, and what a caller that decided not to
// fetch marks skipped with its reason.
report::Finding revocation_finding(Side side);

// `chain` is leaf first, as built; every certificate with its issuer next to
// it is checked. Fetches over HTTP: this is I/O, bounded by the options.
// `stapled_leaf`: the verified OCSP response the peer stapled in the
// handshake; a good or revoked answer there decides the leaf without a fetch.
RevocationCheck check_chain_revocation(
    Side side, const std::vector<tls::Certificate>& chain, const tls::RevocationOptions& options,
    const std::optional<tls::RevocationStatus>& stapled_leaf = {}, RevocationMemo* memo = nullptr);

}  // namespace probe
