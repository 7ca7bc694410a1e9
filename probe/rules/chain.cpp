// The seed: both certificates chain to roots in BEMS's Trusted Root store,
// their intermediates are in BEMS's Intermediate store, and each side's CA
// is trusted by the other side.
#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "probe/rules/rules.hpp"
#include "tls/text.hpp"

namespace probe::rules {
namespace {

std::string source_of(const KnownCertificates& known, const std::string& sha256) {
  for (const auto& [certificate, file] : known.with_source)
    if (certificate.sha256() == sha256) return file;
  return {};
}

// A known certificate whose subject is `issuer_der` (the issuer we could not find).
std::optional<std::pair<tls::Certificate, std::string>> known_issuer(
    const KnownCertificates& known, const tls::CertificateInfo& child) {
  for (const auto& [certificate, file] : known.with_source)
    if (certificate.subject_der() == child.issuer_der) return std::make_pair(certificate, file);
  return std::nullopt;
}

std::string chain_text(const std::vector<tls::Certificate>& chain) {
  std::string text;
  for (const auto& certificate : chain) {
    if (!text.empty()) text += " -> ";
    text += in_quotes(certificate.subject());
  }
  return text;
}

std::string judge_store_name(Side judge_side) {
  return judge_side == Side::bems
             ? "BEMS's trusted-root/ (Trusted Root Certification Authorities)"
             : "the Lync/Skype pool's trusted-root/ (Trusted Root Certification Authorities)";
}

// The chain as the judging side can build it: what the side presents and
// every store's certificates, against the judge's roots.
tls::ChainVerification against_store(const SideFacts& side, const tls::Store& judge,
                                     const KnownCertificates& known) {
  return tls::verify_chain(*side.leaf,
                           tls::path_candidates(*side.leaf, {&side.presented, &known.all}),
                           judge.trust_anchors(), structural_policy(judge));
}

// The chain as `receiver` gets it in a handshake: what the sender presents,
// completed from the receiver's own stores only.
tls::ChainVerification received_by(const SideFacts& sender, const tls::Store& receiver) {
  std::vector<tls::Certificate> untrusted = sender.presented;
  for (const auto& certificate : receiver.intermediate_certificates())
    untrusted.push_back(certificate);
  for (const auto& certificate : receiver.personal_extra_certificates())
    untrusted.push_back(certificate);
  return tls::verify_chain(*sender.leaf, untrusted, receiver.root_certificates(),
                           structural_policy(receiver));
}

// A failed chain that ends at a self-signed root the judging store lacks.
// Other errors reported at the root (a path length it limits, a bad
// signature) come after trust: the root is then in the store.
bool ends_at_untrusted_root(const tls::ChainVerification& result) {
  if (result.trusted || result.chain.empty() || !result.chain.back().self_signed()) return false;
  if (result.reason == tls::ChainError::untrusted_self_signed) return true;
  return result.error_depth == static_cast<int>(result.chain.size()) - 1 &&
         (result.reason == tls::ChainError::issuer_not_found ||
          result.reason == tls::ChainError::other);
}

// The CA a failed verification lacks a trusted copy of, as "'name' (file)":
// the root it ended at, or the issuer it could not find.
std::string missing_anchor(const tls::ChainVerification& result, const KnownCertificates& known) {
  if (ends_at_untrusted_root(result)) {
    const auto& root = result.chain.back().info();
    std::string file = source_of(known, root.sha256);
    return in_quotes(root.subject) + (file.empty() ? "" : " (" + file + ")");
  }
  if (result.error_certificate) {
    auto issuer = known_issuer(known, *result.error_certificate);
    return in_quotes(result.error_certificate->issuer) +
           (issuer ? " (" + issuer->second + ")" : " (in no store: ask its CA for it)");
  }
  return "the root of the chain";
}

// The intermediate CAs of a built chain that `judge`'s intermediate/ lacks,
// as "'name' (file)", joined: the rest of a CA hierarchy to import with its root.
std::string intermediates_lacking(const tls::ChainVerification& result, const tls::Store& judge,
                                  const KnownCertificates& known) {
  std::string text;
  for (std::size_t i = 1; i < result.chain.size(); ++i) {
    const auto& info = result.chain[i].info();
    if (info.self_signed) continue;
    bool held = false;
    for (const auto& stored : judge.intermediates)
      held = held || stored.certificate.sha256() == info.sha256;
    if (held) continue;
    std::string file = source_of(known, info.sha256);
    text += (text.empty() ? "" : ", ") + in_quotes(info.subject) +
            (file.empty() ? "" : " (" + file + ")");
  }
  return text;
}

// CAs that certify each other with no root above them (A issued by B, B by
// A): path building stops where the next issuer is already in the chain.
// Their names in chain order, or empty when the chain does not loop.
std::vector<std::string> certification_loop(const tls::ChainVerification& result) {
  if (result.trusted || result.reason != tls::ChainError::issuer_not_found ||
      !result.error_certificate || result.error_depth <= 0)
    return {};
  const auto& stuck = *result.error_certificate;
  const auto last = std::min(result.chain.size(), static_cast<std::size_t>(result.error_depth) + 1);
  for (std::size_t i = 1; i < last; ++i) {
    if (result.chain[i].subject_der() != stuck.issuer_der) continue;
    std::vector<std::string> loop;
    for (std::size_t j = i; j < last; ++j) loop.push_back(in_quotes(result.chain[j].subject()));
    if (loop.size() < 2) return {};
    return loop;
  }
  return {};
}

std::string and_joined(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i)
    text += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return text;
}

// The copy may sit in a .pfx beside a private key: the fix names the
// certificate, and how to take it out, never "copy the file".
std::string extract_hint(const std::string& file) {
  const std::string extension = std::filesystem::path(file).extension().string();
  if (tls::iequals(extension, ".pfx") || tls::iequals(extension, ".p12"))
    return " (its CA certificates alone: openssl pkcs12 -in " + file + " -cacerts -nokeys)";
  return "";
}

}  // namespace

bool root_untrusted(const tls::ChainVerification& result) {
  if (result.trusted) return false;
  // Stuck at the leaf, the missing certificate is its issuer, which the
  // *.chain.intermediates rules blame, not a root.
  return (result.reason == tls::ChainError::issuer_not_found && result.error_depth > 0) ||
         ends_at_untrusted_root(result);
}

bool refused_by_its_cas(const tls::ChainVerification& result) {
  switch (result.reason) {
    case tls::ChainError::path_too_long:
    case tls::ChainError::name_constraints:
    case tls::ChainError::not_a_ca:
    case tls::ChainError::bad_signature:
    case tls::ChainError::critical_extension:
      return !result.trusted;
    default:
      return false;
  }
}

// A chain that reaches a trusted root and is still refused: what is wrong
// with which certificate, in words a CA administrator acts on.
report::Finding& fail_unverifiable(report::Finding& f, const tls::ChainVerification& result) {
  const std::string at =
      result.error_certificate ? in_quotes(result.error_certificate->subject) : "a certificate";
  const std::string where = result.error_certificate ? " at " + at : "";
  const std::string chain = result.chain.empty() ? "" : " " + chain_text(result.chain);
  switch (result.reason) {
    case tls::ChainError::path_too_long: {
      const int limit = result.error_certificate ? result.error_certificate->path_length : -1;
      return fail(
          f,
          at + " allows " + (limit >= 0 ? "at most " + std::to_string(limit) : std::string("no")) +
              " intermediate CA(s) below it (its pathLenConstraint), and the chain" + chain +
              " has more: every stack refuses a path the CA hierarchy itself forbids.",
          "Reissue the certificate from a CA the hierarchy allows to issue (fewer CAs "
          "below " +
              at +
              "), or have the CA administrator reissue the CA certificates with a "
              "pathLenConstraint that fits the hierarchy.");
    }
    case tls::ChainError::name_constraints:
      return fail(f,
                  "A CA of the chain" + chain +
                      " restricts the names the certificates below it may carry (name "
                      "constraints), and " +
                      at + " carries a name outside them (" + result.error +
                      "): every stack refuses it.",
                  "Reissue the certificate from a CA whose name constraints permit the pool and "
                  "instance FQDNs, or have the CA administrator add their domain to the "
                  "permitted subtrees.");
    case tls::ChainError::not_a_ca:
      return fail(f,
                  at + " issued a certificate of the chain but may not act as a CA (" +
                      result.error +
                      "): its basic constraints lack CA:TRUE, or its key usage lacks "
                      "keyCertSign.",
                  "Reissue the certificate from a real CA certificate (CA:TRUE, keyCertSign), "
                  "and put that CA in the stores instead of " +
                      at + ".");
    case tls::ChainError::bad_signature:
      return fail(f,
                  "The signature of " + at + " does not verify with its issuer's key (" +
                      result.error +
                      "): the file is damaged, or a different CA with the same name is in the "
                      "stores.",
                  "Replace " + at +
                      " with a correct copy from its CA, and remove any other CA certificate "
                      "with the same name as its issuer from the stores.");
    case tls::ChainError::critical_extension:
      return fail(f,
                  at + " carries an extension marked critical that TLS stacks do not "
                       "understand, so every one of them must refuse the certificate.",
                  "Reissue " + at +
                      " without that extension, or with it not marked critical (the CA "
                      "template's extension settings).");
    default:
      break;
  }
  return fail(
      f, "The chain cannot be verified" + where + ": " + result.error + ".",
      "Replace the certificate" + where + " with a correct copy from its CA, or reissue it.");
}

bool CrossTrust::bems_root_missing_in_both() const {
  return bems_by_bems && bems_by_pool && root_untrusted(*bems_by_bems) &&
         root_untrusted(*bems_by_pool);
}

bool CrossTrust::separate_pkis() const {
  return bems_by_bems && bems_by_bems->trusted && bems_by_pool && root_untrusted(*bems_by_pool) &&
         lync_by_bems && ends_at_untrusted_root(*lync_by_bems);
}

CrossTrust cross_trust(const SideFacts& bems, const SideFacts& lync, const tls::Store& bems_store,
                       const tls::Store* lync_store, const KnownCertificates& known) {
  CrossTrust cross;
  if (bems.leaf) cross.bems_by_bems = against_store(bems, bems_store, known);
  if (lync.leaf) cross.lync_by_bems = against_store(lync, bems_store, known);
  if (bems.leaf && lync_store) cross.bems_by_pool = received_by(bems, *lync_store);
  return cross;
}

std::vector<tls::Certificate> best_chain(const SideFacts& side, const tls::Store& judge,
                                         const KnownCertificates& known,
                                         const tls::ChainVerification* verified) {
  if (verified) return verified->chain;
  std::vector<tls::Certificate> roots = judge.root_certificates();
  for (const auto& certificate : known.all)
    if (certificate.self_signed()) roots.push_back(certificate);
  auto result =
      tls::verify_chain(*side.leaf, tls::path_candidates(*side.leaf, {&side.presented, &known.all}),
                        roots, structural_policy(judge));
  if (result.chain.empty()) return {*side.leaf};
  return result.chain;
}

report::Finding chain_trusted(const SideFacts& side, const tls::Store& judge,
                              const KnownCertificates& known, const CrossTrust* cross,
                              const tls::ChainVerification* verified) {
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
  const tls::ChainVerification result = verified ? *verified : against_store(side, judge, known);
  if (result.trusted) {
    return pass(f, "Chain " + chain_text(result.chain) + " ends at a root in trusted-root/.");
  }
  const std::string intermediates_id = id_text(for_side(
      side.side, FindingId::bems_chain_intermediates, FindingId::lync_chain_intermediates));
  if (cross && side.side == Side::lync && cross->separate_pkis()) {
    return skip(f, "BEMS's trusted-root/ lacks the pool's root " +
                       in_quotes(result.chain.back().subject()) +
                       " and the pool's trusted-root/ lacks BEMS's: two separate PKIs, blamed "
                       "once, with both imports, by " +
                       id_text(FindingId::trust_mutual));
  }
  // With the pool's store given, a root BEMS lacks that the pool lacks too
  // is blamed here for both stores (trust.mutual points here).
  const bool pool_lacks_it_too =
      cross && side.side == Side::bems && cross->bems_root_missing_in_both();
  const std::string pool_too =
      pool_lacks_it_too ? " The Lync/Skype pool's trusted-root/ lacks it too: import the root into "
                          "both sides' trusted-root/, or the pool refuses the BEMS certificate."
                        : "";
  if (auto loop = certification_loop(result); !loop.empty()) {
    return fail(f,
                and_joined(loop) +
                    " certify each other and neither is a self-signed root: the chain " +
                    chain_text(result.chain) +
                    " goes round in a loop and never reaches a root in "
                    "trusted-root/.",
                "Get the real root CA above " + and_joined(loop) +
                    " (a self-signed certificate) from the CA administrator and import it into " +
                    judge_store_name(Side::bems) + "; copying " + and_joined(loop) +
                    " again does not help, they are already in the stores and cannot anchor "
                    "the chain." +
                    pool_too);
  }
  if (result.reason == tls::ChainError::issuer_not_found && result.error_certificate) {
    const auto& stuck = *result.error_certificate;
    // The certificate's own issuer, in no store: that missing file is
    // *.chain.intermediates' (which can also name where to download it).
    if (result.error_depth == 0)
      return skip(f, "the chain cannot be built past the certificate: its issuer " +
                         in_quotes(stuck.issuer) + " is in no store (see " + intermediates_id +
                         ")");
    return fail(
        f,
        "The chain stops at " + in_quotes(stuck.subject) + ": its issuer " +
            in_quotes(stuck.issuer) + " is in none of the stores.",
        "Get the CA certificate " + in_quotes(stuck.issuer) +
            " from its CA administrator and import it into trusted-root/ if it is a root, or "
            "intermediate/ if it is an intermediate CA." +
            pool_too);
  }
  if (ends_at_untrusted_root(result)) {
    const auto& root = result.chain.back().info();
    std::string file = source_of(known, root.sha256);
    std::string lacking = intermediates_lacking(result, judge, known);
    return fail(f,
                "The chain " + chain_text(result.chain) + " ends at root " +
                    in_quotes(root.subject) + ", which is not in BEMS's trusted-root/.",
                "After confirming its SHA-256 fingerprint " + root.sha256 +
                    " with the CA's owner, import " + in_quotes(root.subject) +
                    (file.empty() ? "" : " (" + file + ")") +
                    " into BEMS's trusted-root/ (Trusted Root Certification Authorities)" +
                    (lacking.empty() ? std::string(".")
                                     : ", and copy " + lacking +
                                           " into BEMS's intermediate/ (Intermediate "
                                           "Certification Authorities).") +
                    pool_too);
  }
  return fail_unverifiable(f, result);
}

report::Finding chain_intermediates(const SideFacts& side, const tls::Store& judge,
                                    const KnownCertificates& known, MissingIntermediates* blamed,
                                    const CrossTrust* cross) {
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
    if (certificate.self_signed()) roots.push_back(certificate);
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
  if (auto loop = certification_loop(result); !loop.empty()) {
    return pass(f, "Every CA of the chain is in intermediate/; " + and_joined(loop) +
                       " certify each other without a root above them, which " + trusted_id +
                       " judges.");
  }
  auto issuer = known_issuer(known, stuck);
  const bool missing = (issuer && !issuer->first.self_signed()) || result.error_depth <= 0;
  // Under a root BEMS does not trust, the missing intermediate is part of a
  // CA hierarchy BEMS lacks: the finding that blames the root names its
  // files together, one import.
  const std::optional<tls::ChainVerification>* full =
      cross ? (side.side == Side::bems ? &cross->bems_by_bems : &cross->lync_by_bems) : nullptr;
  if (missing && full && *full && ends_at_untrusted_root(**full)) {
    const FindingId owner =
        side.side == Side::lync && cross->separate_pkis()
            ? FindingId::trust_mutual
            : for_side(side.side, FindingId::bems_chain_trusted, FindingId::lync_chain_trusted);
    return skip(
        f, in_quotes(stuck.issuer) + " is not in BEMS's intermediate/, but the chain ends at " +
               in_quotes((*full)->chain.back().subject()) + ", a root BEMS does not trust: " +
               id_text(owner) + " names every CA file of that hierarchy to import");
  }
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
  if (issuer && !issuer->first.self_signed()) {
    return fail(f,
                "Intermediate CA " + in_quotes(stuck.issuer) + " (issuer of " +
                    in_quotes(stuck.subject) +
                    ") is not in BEMS's intermediate/; a copy was found in " + issuer->second + ".",
                "Import the CA certificate " + in_quotes(stuck.issuer) + " from " + issuer->second +
                    extract_hint(issuer->second) +
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
    if (stored.certificate.self_signed()) continue;
    about(f, stored.certificate.info());
    return fail(
        f,
        in_quotes(stored.certificate.subject()) + " in trusted-root/ (" + stored.file.string() +
            ") is not self-signed: it is not a root.",
        "Move it to intermediate/ (Windows: drag it from Trusted Root Certification Authorities to "
        "Intermediate Certification Authorities). On Windows Server 2012 and later a "
        "non-self-signed certificate among the trusted roots stops the Lync/Skype Front End "
        "services from starting.");
  }
  for (const auto& stored : store->intermediates) {
    if (!stored.certificate.self_signed()) continue;
    about(f, stored.certificate.info());
    return warn(
        f,
        "Root " + in_quotes(stored.certificate.subject()) + " sits in intermediate/ (" +
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
  for (const auto& stored : bems.trusted_roots) size += 2 + stored.certificate.subject_der().size();
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
                             const tls::Store& bems_store, const tls::Store* lync_store,
                             const KnownCertificates& known, const CrossTrust& cross) {
  auto f =
      finding(FindingId::trust_mutual,
              "Each side's issuing CA chain is trusted by the other side's trusted-root store");
  if (!lync_store)
    return skip(f,
                "no Lync/Skype pool store given (--peer-store): the other side's trust is unknown");
  if (!bems.leaf || !lync.leaf || !cross.bems_by_pool || !cross.lync_by_bems)
    return skip(f, "needs both the BEMS and the Lync/Skype pool certificate");
  about(f, bems.leaf->info());
  const tls::ChainVerification& pool_view = *cross.bems_by_pool;  // the pool judging BEMS
  const tls::ChainVerification& bems_view = *cross.lync_by_bems;  // BEMS judging the pool
  const std::string bems_trusted_id = id_text(FindingId::bems_chain_trusted);
  const std::string lync_trusted_id = id_text(FindingId::lync_chain_trusted);
  const std::string either_way =
      " Or have both certificates issued by one CA that both sides trust.";
  if (pool_view.trusted && bems_view.trusted) {
    return pass(f, "The Lync/Skype pool trusts BEMS through " +
                       in_quotes(pool_view.chain.back().subject()) +
                       " and BEMS trusts the pool through " +
                       in_quotes(bems_view.chain.back().subject()) + ".");
  }
  const std::string pool_needs = missing_anchor(pool_view, known);
  if (cross.separate_pkis()) {
    const auto& pool_root = bems_view.chain.back().info();
    std::string pool_root_file = source_of(known, pool_root.sha256);
    std::string lacking = intermediates_lacking(bems_view, bems_store, known);
    return fail(
        f,
        "The two sides trust separate CAs: the Lync/Skype pool's trusted-root/ lacks BEMS's "
        "root " +
            pool_needs + ", and BEMS's trusted-root/ lacks the pool's root " +
            in_quotes(pool_root.subject) + ". Each side refuses the other's certificate.",
        "After confirming each SHA-256 fingerprint with the CA's owner, import " + pool_needs +
            " into " + judge_store_name(Side::lync) + ", and " + in_quotes(pool_root.subject) +
            (pool_root_file.empty() ? "" : " (" + pool_root_file + ")") + " into " +
            judge_store_name(Side::bems) +
            (lacking.empty() ? std::string() : " with " + lacking + " in BEMS's intermediate/") +
            "." + either_way);
  }
  if (!pool_view.trusted && cross.bems_by_bems && cross.bems_by_bems->trusted) {
    // BEMS trusts its own chain and the pool does not: only this finding sees it.
    return fail(f,
                "The Lync/Skype pool does not trust the BEMS certificate (issuer " +
                    in_quotes(bems.leaf->info().issuer) + "): " + pool_view.error + "." +
                    (bems_view.trusted
                         ? std::string()
                         : " BEMS's distrust of the pool's chain is " + lync_trusted_id + "'s."),
                "After confirming its SHA-256 fingerprint with the CA's owner, import " +
                    pool_needs + " into " +
                    (root_untrusted(pool_view)
                         ? judge_store_name(Side::lync)
                         : std::string("the Lync/Skype pool's intermediate/ (Intermediate "
                                       "Certification Authorities), and have BEMS send it")) +
                    "." + either_way);
  }
  // Every distrust left is blamed by a chain finding; point to it.
  std::string reason;
  if (pool_view.trusted)
    reason =
        "the Lync/Skype pool trusts BEMS through " + in_quotes(pool_view.chain.back().subject());
  else
    reason = cross.bems_root_missing_in_both()
                 ? "the Lync/Skype pool does not trust the BEMS chain, whose root is in neither "
                   "store: " +
                       bems_trusted_id + " blames it, with the fix for both stores"
                 : "the BEMS chain does not verify even against BEMS's own store: " +
                       (cross.bems_by_bems && !cross.bems_by_bems->trusted &&
                                cross.bems_by_bems->reason == tls::ChainError::issuer_not_found &&
                                cross.bems_by_bems->error_depth == 0
                            ? id_text(FindingId::bems_chain_intermediates)
                            : bems_trusted_id) +
                       " blames it";
  if (!bems_view.trusted)
    reason += "; BEMS's trust of the pool's chain is judged by " + lync_trusted_id;
  else
    reason += "; BEMS trusts the pool through " + in_quotes(bems_view.chain.back().subject());
  return skip(f, reason);
}

}  // namespace probe::rules
