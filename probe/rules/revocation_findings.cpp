#include "probe/rules/revocation_findings.hpp"

#include "report/utf8.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "probe/diagnosis/facts.hpp"
#include "probe/rules/rules.hpp"

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
      ->add_flag("--no-aia", flags.no_aia,
                 "Do not download a missing intermediate from its AIA caIssuers URL (done only "
                 "to say where it is; it is never trusted)")
      ->group(group);
  command
      ->add_option("--crl-cache", flags.crl_cache,
                   "Folder to keep fetched CRLs in and reuse while fresh")
      ->group(group);
}

mtls::Result<tls::RevocationOptions> revocation_options(const RevocationFlags& flags) {
  tls::RevocationOptions options;
  auto mode = tls::parse_revocation_mode(flags.off ? "off" : flags.mode);
  if (!mode) return mode.error();
  options.mode = *mode;
  options.http.timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  options.total_timeout = 3 * options.http.timeout;
  if (!flags.crl_cache.empty()) options.crl_cache_dir = flags.crl_cache;
  // One cache per run, shared by every copy of these options: connect's
  // targets, serve's handshakes and judgements, a fleet scan's threads.
  if (options.mode != tls::RevocationMode::off)
    options.cache = std::make_shared<tls::RevocationCache>();
  return options;
}

report::Finding revocation_finding(Side side) {
  return finding(for_side(side, FindingId::bems_revocation, FindingId::lync_revocation),
                 "No certificate of the " + side_name(side) +
                     " chain is revoked, and revocation data is reachable");
}

RevocationCheck check_chain_revocation(Side side, const std::vector<tls::Certificate>& chain,
                                       const tls::RevocationOptions& options,
                                       const std::optional<tls::RevocationStatus>& stapled_leaf,
                                       RevocationMemo* memo) {
  using namespace rules;
  RevocationCheck check;
  auto& f = check.finding;
  f = revocation_finding(side);
  if (options.mode == tls::RevocationMode::off) {
    skip(f, "revocation checking is off (--no-revocation)");
    return check;
  }
  if (chain.size() < 2) {
    skip(f, "no issuer to check the " + side_name(side) + " certificate against");
    return check;
  }
  about(f, chain.front().info());
  std::string good, unavailable, not_published, revoked, revoked_fix;
  // A source that answered wrongly before another one decided: the verdict
  // stands, but peers that ask that source first get no usable answer.
  std::string bad_sources;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    const auto& certificate = chain[i];
    if (certificate.self_signed()) break;
    const std::string who = in_quotes(certificate.subject());
    tls::RevocationStatus status;
    if (i == 0 && stapled_leaf && stapled_leaf->decisive()) {
      status = *stapled_leaf;
    } else {
      auto fetch = [&] {
        std::cerr << "mtlsprobe: checking revocation of "
                  << report::one_line_printable(certificate.subject()) << "...\n";
        return tls::check_revocation(certificate, chain[i + 1], options);
      };
      status = memo ? memo->revocation.get(certificate.sha256(), fetch) : fetch();
      // A stapled response that could not be used is worth saying even when
      // the responder itself answers: strict clients reject such a server.
      if (i == 0 && stapled_leaf)
        unavailable += (unavailable.empty() ? "" : "; ") + who +
                       ": the stapled OCSP response is unusable: " + stapled_leaf->error;
    }
    boost::json::object entry;
    entry["subject"] = certificate.subject();
    entry["serial"] = certificate.info().serial_hex;
    entry["revocation"] = revocation_json(status);
    check.certificates.push_back(std::move(entry));

    const std::string took = std::to_string(status.elapsed.count()) + " ms";
    if (status.decisive()) {
      for (const auto& attempt : status.attempts) {
        switch (attempt.problem) {
          case tls::RevocationProblem::not_parsable:
          case tls::RevocationProblem::responder_error:
          case tls::RevocationProblem::untrusted_answer:
          case tls::RevocationProblem::not_covered:
          case tls::RevocationProblem::out_of_date:
            bad_sources += (bad_sources.empty() ? "" : "; ") + who + ": the " +
                           tls::to_string(attempt.source) + " source " + attempt.url +
                           " gave no usable answer (" + attempt.error + "), so the " +
                           tls::to_string(status.source) + " " + status.url + " decided";
            break;
          default:
            break;
        }
      }
    }
    switch (status.kind) {
      case tls::RevocationStatus::revoked:
        if (revoked.empty()) about(f, certificate.info());
        revoked += (revoked.empty() ? "" : "; ") + who + " is REVOKED (" +
                   tls::to_string(status.source) + (status.url.empty() ? "" : " " + status.url) +
                   ")" +
                   (status.revocation_time ? " since " + rfc3339(*status.revocation_time) : "") +
                   (status.reason.empty() ? "" : ", reason " + status.reason);
        revoked_fix += (revoked_fix.empty() ? "" : " and ") + who;
        break;
      case tls::RevocationStatus::good:
        good += (good.empty() ? "" : "; ") + who + " good by " + tls::to_string(status.source) +
                (status.url.empty() ? "" : " " + status.url) + " (" + age_text(status.age) +
                " old, " + took + ")";
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
  if (!revoked.empty()) {
    fail(f, revoked + ".",
         "Have the CA issue a new certificate and replace " + revoked_fix + " in its store.");
    return check;
  }
  if (!unavailable.empty()) {
    warn(f, "No usable revocation answer for " + unavailable + ".",
         "Make the CRL distribution point / OCSP URL reachable over HTTP from both sides: "
         "Lync/Skype servers fail MTLS when the revocation server is offline, and a stalled CRL "
         "download can hold the handshake until the peer gives up.");
    return check;
  }
  if (good.empty()) {
    skip(f, "no CRL or OCSP URL is published for " + not_published);
    return check;
  }
  if (!bad_sources.empty()) {
    warn(f, good + "; but " + bad_sources + ".",
         "Fix the revocation server named above (for an OCSP responder: it must answer for the "
         "serial asked, signed by the issuing CA or its delegated responder, with current "
         "dates): peers that ask it first, as Windows does OCSP, get no usable answer and may "
         "refuse the certificate.");
    return check;
  }
  pass(f, good + (not_published.empty() ? "" : "; nothing published for " + not_published) + ".");
  return check;
}

}  // namespace probe
