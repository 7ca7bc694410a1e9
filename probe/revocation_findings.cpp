#include "probe/revocation_findings.hpp"

#include <iostream>

#include "probe/facts.hpp"
#include "probe/rules.hpp"

namespace probe {

void add_revocation_flags(CLI::App* command, RevocationFlags& flags) {
  const std::string group = "Revocation";
  command
      ->add_option("--revocation", flags.mode,
                   "Sources to ask: crl, ocsp, both (OCSP first) or off")
      ->check(CLI::IsMember({"crl", "ocsp", "both", "off"}))
      ->capture_default_str()
      ->group(group);
  command
      ->add_flag("--no-revocation", flags.off,
                 "Do not fetch CRLs or OCSP (the same as --revocation off)")
      ->group(group);
  command
      ->add_option("--revocation-timeout", flags.timeout_seconds,
                   "Seconds allowed per CRL / OCSP request")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 300.0))
      ->group(group);
  command
      ->add_option("--crl-cache", flags.crl_cache,
                   "Folder to keep fetched CRLs in and reuse while fresh")
      ->group(group);
}

tls::Result<tls::RevocationOptions> revocation_options(const RevocationFlags& flags) {
  tls::RevocationOptions options;
  auto mode = tls::parse_revocation_mode(flags.off ? "off" : flags.mode);
  if (!mode) return mode.error();
  options.mode = *mode;
  options.http.timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  options.total_timeout = 3 * options.http.timeout;
  if (!flags.crl_cache.empty()) options.crl_cache_dir = flags.crl_cache;
  return options;
}

report::Finding revocation_finding(Side side, const std::vector<tls::Certificate>& chain,
                                   const tls::RevocationOptions& options) {
  using namespace rules;
  auto f = finding(side_id(side) + ".revocation", requirement::kValidity,
                   "No certificate of the " + side_name(side) +
                       " chain is revoked, and revocation data is reachable");
  if (options.mode == tls::RevocationMode::off)
    return skip(f, "revocation checking is off (--no-revocation)");
  if (chain.size() < 2)
    return skip(f, "no issuer to check the " + side_name(side) + " certificate against");
  about(f, chain.front().info());
  std::string good, unavailable, not_published;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    const auto& certificate = chain[i];
    if (certificate.info().self_signed) break;
    std::cerr << "mtlsprobe: checking revocation of " << certificate.info().subject << "...\n";
    tls::RevocationStatus status = tls::check_revocation(certificate, chain[i + 1], options);
    const std::string who = in_quotes(certificate.info().subject);
    const std::string took = std::to_string(status.elapsed.count()) + " ms";
    switch (status.kind) {
      case tls::RevocationStatus::revoked:
        about(f, certificate.info());
        return fail(
            f,
            who + " is REVOKED (" + tls::to_string(status.source) + " " + status.url + ")" +
                (status.revocation_time ? " since " + rfc3339(*status.revocation_time) : "") +
                (status.reason.empty() ? "" : ", reason " + status.reason) + ".",
            "Have the CA issue a new certificate and replace " + who + " in its store.");
      case tls::RevocationStatus::good:
        good += (good.empty() ? "" : "; ") + who + " good by " + tls::to_string(status.source) +
                " " + status.url + " (" + std::to_string(status.age.count() / 3600) + " h old, " +
                took + ")";
        break;
      case tls::RevocationStatus::not_published:
        not_published += (not_published.empty() ? "" : ", ") + who;
        break;
      case tls::RevocationStatus::unknown:
      case tls::RevocationStatus::unavailable:
        unavailable += (unavailable.empty() ? "" : "; ") + who + ": " + status.error + " (" + took +
                       (status.stale ? ", stale CRL" : "") + ")";
        break;
    }
  }
  if (!unavailable.empty()) {
    return warn(f, "No revocation answer for " + unavailable + ".",
                "Make the CRL distribution point / OCSP URL reachable over HTTP from both sides: "
                "Lync/Skype "
                "servers fail MTLS when the revocation server is offline, and a stalled CRL "
                "download can hold "
                "the handshake until the peer gives up.");
  }
  if (good.empty()) return skip(f, "no CRL or OCSP URL is published for " + not_published);
  return pass(
      f, good + (not_published.empty() ? "" : "; nothing published for " + not_published) + ".");
}

}  // namespace probe
