// The seed: both certificates chain to roots in BEMS's Trusted Root store,
// their intermediates are in BEMS's Intermediate store, and each side's CA
// is trusted by the other side.
#include <algorithm>
#include <cstdint>

#include "probe/rules/rules.hpp"

namespace probe::rules {
namespace {

std::string source_of(const KnownCertificates& known, const std::string& sha256) {
  for (const auto& [certificate, file] : known.with_source)
    if (certificate.info().sha256 == sha256) return file;
  return {};
}

// A known certificate whose subject is `issuer_der` (the issuer we could not find).
std::optional<std::pair<tls::Certificate, std::string>> known_issuer(
    const KnownCertificates& known, const tls::CertificateInfo& child) {
  for (const auto& [certificate, file] : known.with_source)
    if (certificate.info().subject_der == child.issuer_der)
      return std::make_pair(certificate, file);
  return std::nullopt;
}

std::string chain_text(const std::vector<tls::Certificate>& chain) {
  std::string text;
  for (const auto& certificate : chain) {
    if (!text.empty()) text += " -> ";
    text += in_quotes(certificate.info().subject);
  }
  return text;
}

std::string judge_store_name(Side judge_side) {
  return judge_side == Side::bems
             ? "BEMS's trusted-root/ (Trusted Root Certification Authorities)"
             : "the Lync/Skype pool's trusted-root/ (Trusted Root Certification Authorities)";
}

}  // namespace

std::vector<tls::Certificate> best_chain(const SideFacts& side, const tls::Store& judge,
                                         const KnownCertificates& known) {
  std::vector<tls::Certificate> untrusted = side.presented;
  untrusted.insert(untrusted.end(), known.all.begin(), known.all.end());
  std::vector<tls::Certificate> roots = judge.root_certificates();
  for (const auto& certificate : known.all)
    if (certificate.info().self_signed) roots.push_back(certificate);
  auto result = tls::verify_chain(*side.leaf, untrusted, roots, structural_policy(judge));
  if (result.chain.empty()) return {*side.leaf};
  return result.chain;
}

report::Finding chain_trusted(const SideFacts& side, const tls::Store& judge,
                              const KnownCertificates& known) {
  auto f =
      finding(for_side(side.side, FindingId::bems_chain_trusted, FindingId::lync_chain_trusted),
              side_name(side.side) +
                  " certificate chains to a root in the judging side's trusted-root store");
  if (!side.leaf) {
    return skip(
        f, side.side == Side::bems
               ? "no BEMS certificate was found (see " + id_text(FindingId::bems_key_present) + ")"
               : "no Lync/Skype pool certificate: give --peer-store or --peer-cert");
  }
  about(f, side.leaf->info());
  if (judge.trusted_roots.empty() && !judge.system_roots) {
    return fail(
        f, "BEMS's trusted-root store is empty, so no chain can be trusted.",
        "Import the root CA certificate(s) of both the BEMS and the Lync/Skype certificate into "
        "trusted-root/ (Windows: Trusted Root Certification Authorities > Certificates).");
  }
  std::vector<tls::Certificate> untrusted = side.presented;
  untrusted.insert(untrusted.end(), known.all.begin(), known.all.end());
  auto result =
      tls::verify_chain(*side.leaf, untrusted, judge.root_certificates(), structural_policy(judge));
  if (result.trusted) {
    return pass(f, "Chain " + chain_text(result.chain) + " ends at a root in trusted-root/.");
  }
  if (result.reason == tls::ChainError::issuer_not_found && result.error_certificate) {
    const auto& stuck = *result.error_certificate;
    return fail(
        f,
        "The chain stops at " + in_quotes(stuck.subject) + ": its issuer " +
            in_quotes(stuck.issuer) + " is in none of the stores.",
        "Get the CA certificate " + in_quotes(stuck.issuer) +
            " from its CA administrator and import it into trusted-root/ if it is a root, or "
            "intermediate/ if it is an intermediate CA.");
  }
  if (!result.chain.empty() && result.chain.back().info().self_signed &&
      (result.error_depth == static_cast<int>(result.chain.size()) - 1 ||
       result.reason == tls::ChainError::untrusted_self_signed)) {
    const auto& root = result.chain.back().info();
    std::string file = source_of(known, root.sha256);
    return fail(f,
                "The chain " + chain_text(result.chain) + " ends at root " +
                    in_quotes(root.subject) + ", which is not in BEMS's trusted-root/.",
                "After confirming its SHA-256 fingerprint " + root.sha256 +
                    " with the CA's owner, import " + in_quotes(root.subject) +
                    (file.empty() ? "" : " (" + file + ")") +
                    " into BEMS's trusted-root/ (Trusted Root Certification Authorities).");
  }
  std::string where =
      result.error_certificate ? " at " + in_quotes(result.error_certificate->subject) : "";
  return fail(f, "The chain cannot be verified" + where + ": " + result.error + ".",
              "Replace the broken certificate" + where + " with a correct copy from its CA.");
}

report::Finding chain_intermediates(const SideFacts& side, const tls::Store& judge,
                                    const KnownCertificates& known, MissingIntermediates* blamed) {
  const std::string trusted_id =
      id_text(for_side(side.side, FindingId::bems_chain_trusted, FindingId::lync_chain_trusted));
  auto f = finding(
      for_side(side.side, FindingId::bems_chain_intermediates, FindingId::lync_chain_intermediates),
      "Every intermediate CA of the " + side_name(side.side) +
          " certificate is in BEMS's intermediate store");
  if (!side.leaf)
    return skip(f, "no " + side_name(side.side) + " certificate to build a chain for");
  about(f, side.leaf->info());
  // Trust is judged by *.chain.trusted; here every known root counts, so
  // only intermediate/ decides whether the chain can be built.
  std::vector<tls::Certificate> roots = judge.root_certificates();
  for (const auto& certificate : known.all)
    if (certificate.info().self_signed) roots.push_back(certificate);
  auto result = tls::verify_chain(*side.leaf, judge.intermediate_certificates(), roots,
                                  structural_policy(judge));
  if (result.trusted) {
    std::vector<tls::Certificate> middle;
    if (result.chain.size() > 2) middle.assign(result.chain.begin() + 1, result.chain.end() - 1);
    if (middle.empty())
      return pass(f, "The certificate is issued directly by a root; no intermediate is needed.");
    return pass(f, "Intermediate(s) " + chain_text(middle) + " found in intermediate/.");
  }
  if (result.reason != tls::ChainError::issuer_not_found || !result.error_certificate) {
    return skip(f, "The chain cannot be built for another reason (" + result.error + "); see " +
                       trusted_id + ".");
  }
  const auto& stuck = *result.error_certificate;
  auto issuer = known_issuer(known, stuck);
  const bool missing = (issuer && !issuer->first.info().self_signed) || result.error_depth <= 0;
  if (missing && blamed) {
    if (std::find(blamed->begin(), blamed->end(), stuck.issuer_der) != blamed->end()) {
      return skip(f, "the chain needs " + in_quotes(stuck.issuer) +
                         ", the intermediate CA whose absence from BEMS's intermediate/ is "
                         "reported by " +
                         id_text(for_side(other(side.side), FindingId::bems_chain_intermediates,
                                          FindingId::lync_chain_intermediates)));
    }
    blamed->push_back(stuck.issuer_der);
  }
  if (issuer && !issuer->first.info().self_signed) {
    return fail(f,
                "Intermediate CA " + in_quotes(stuck.issuer) + " (issuer of " +
                    in_quotes(stuck.subject) +
                    ") is not in BEMS's intermediate/; a copy was found in " + issuer->second + ".",
                "Copy " + issuer->second +
                    " into BEMS's intermediate/ (Windows: Intermediate Certification Authorities > "
                    "Certificates).");
  }
  if (result.error_depth <= 0) {
    return fail(f, "The issuer " + in_quotes(stuck.issuer) + " of the certificate is in no store.",
                "Get the issuing CA certificate " + in_quotes(stuck.issuer) +
                    " from its CA administrator and import it into intermediate/ (or trusted-root/ "
                    "if it is "
                    "a root).");
  }
  return pass(f, "Every intermediate up to " + in_quotes(stuck.subject) +
                     " is in intermediate/; its issuer " + in_quotes(stuck.issuer) +
                     " is judged by " + trusted_id + ".");
}

report::Finding store_placement(Side side, const tls::Store* store) {
  auto f = finding(for_side(side, FindingId::bems_store_placement, FindingId::lync_store_placement),
                   "Roots are in trusted-root/ and only there; intermediates are in intermediate/");
  if (!store) return skip(f, "no " + side_name(side) + " store given");
  for (const auto& stored : store->trusted_roots) {
    if (stored.certificate.info().self_signed) continue;
    about(f, stored.certificate.info());
    return fail(
        f,
        in_quotes(stored.certificate.info().subject) + " in trusted-root/ (" +
            stored.file.string() + ") is not self-signed: it is not a root.",
        "Move it to intermediate/ (Windows: drag it from Trusted Root Certification Authorities to "
        "Intermediate Certification Authorities). On Windows Server 2012 and later a "
        "non-self-signed certificate among the trusted roots stops the Lync/Skype Front End "
        "services from starting.");
  }
  for (const auto& stored : store->intermediates) {
    if (!stored.certificate.info().self_signed) continue;
    about(f, stored.certificate.info());
    return warn(
        f,
        "Root " + in_quotes(stored.certificate.info().subject) + " sits in intermediate/ (" +
            stored.file.string() + ").",
        "Delete it from intermediate/ (Intermediate Certification Authorities); if it is to be "
        "trusted, it belongs in trusted-root/ only.");
  }
  return pass(f, std::to_string(store->trusted_roots.size()) +
                     " self-signed root(s) in trusted-root/, " +
                     std::to_string(store->intermediates.size()) +
                     " CA certificate(s) and no root in intermediate/.");
}

report::Finding store_issuer_list(const tls::Store& bems) {
  auto f = finding(FindingId::bems_store_issuer_list,
                   "The trusted-root names fit in a TLS CertificateRequest (16 KB)");
  // A CertificateRequest carries each name as a 2-byte length and its DER;
  // schannel truncates the list beyond 16 KB and Lync/Skype peers then fail MTLS.
  constexpr std::size_t kLimit = 16 * 1024;
  std::size_t size = 0;
  for (const auto& stored : bems.trusted_roots)
    size += 2 + stored.certificate.info().subject_der_size;
  std::string counted = std::to_string(bems.trusted_roots.size()) + " root name(s), " +
                        std::to_string(size) + " bytes of DER";
  if (size > kLimit) {
    return warn(
        f, counted + ": over the 16 KB at which Windows schannel truncates the acceptable-CA list.",
        "Remove roots BEMS does not need from trusted-root/, or on Windows Server 2008 R2 set "
        "SendTrustedIssuerList=0 (HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\"
        "SCHANNEL), the default from Windows Server 2012.");
  }
  std::string note =
      bems.system_roots ? " (the system roots from --system-roots are not counted)" : "";
  return pass(f, counted + note + ", under the 16 KB limit.");
}

report::Finding trust_mutual(const SideFacts& bems, const SideFacts& lync,
                             const tls::Store& bems_store, const tls::Store* lync_store) {
  auto f =
      finding(FindingId::trust_mutual,
              "Each side's issuing CA chain is trusted by the other side's trusted-root store");
  if (!lync_store)
    return skip(f,
                "no Lync/Skype pool store given (--peer-store): the other side's trust is unknown");
  if (!bems.leaf || !lync.leaf)
    return skip(f, "needs both the BEMS and the Lync/Skype pool certificate");
  about(f, bems.leaf->info());

  auto judged_by = [](const SideFacts& sender, const tls::Store& receiver) {
    std::vector<tls::Certificate> untrusted = sender.presented;
    for (const auto& certificate : receiver.intermediate_certificates())
      untrusted.push_back(certificate);
    for (const auto& certificate : receiver.personal_extra_certificates())
      untrusted.push_back(certificate);
    return tls::verify_chain(*sender.leaf, untrusted, receiver.root_certificates(),
                             structural_policy(receiver));
  };
  auto lync_trusts_bems = judged_by(bems, *lync_store);
  auto bems_trusts_lync = judged_by(lync, bems_store);
  if (lync_trusts_bems.trusted && bems_trusts_lync.trusted) {
    return pass(f, "The Lync/Skype pool trusts BEMS through " +
                       in_quotes(lync_trusts_bems.chain.back().info().subject) +
                       " and BEMS trusts the pool through " +
                       in_quotes(bems_trusts_lync.chain.back().info().subject) + ".");
  }
  std::string detail, remedy;
  auto explain = [&](const tls::ChainVerification& result, const SideFacts& sender, Side receiver) {
    const auto& leaf = sender.leaf->info();
    std::string top = result.chain.empty() ? leaf.issuer : result.chain.back().info().subject;
    if (!result.chain.empty() && !result.chain.back().info().self_signed)
      top = result.chain.back().info().issuer;
    detail += std::string(detail.empty() ? "" : " ") + side_name(receiver) +
              " does not trust the " + side_name(sender.side) + " certificate (issuer " +
              in_quotes(leaf.issuer) + "): " + result.error + ".";
    remedy += std::string(remedy.empty() ? "" : " ") + "Import the root CA of " + in_quotes(top) +
              " into " + judge_store_name(receiver) + ".";
  };
  if (!lync_trusts_bems.trusted) explain(lync_trusts_bems, bems, Side::lync);
  if (!bems_trusts_lync.trusted) explain(bems_trusts_lync, lync, Side::bems);
  remedy += " Or have both certificates issued by one CA that both sides trust.";
  return fail(f, detail, remedy);
}

}  // namespace probe::rules
