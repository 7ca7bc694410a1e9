// Properties of single certificates: names, dates, purposes, key strength
// and published revocation data.
#include <algorithm>
#include <ctime>

#include "probe/diagnosis/facts.hpp"
#include "probe/rules/rules.hpp"
#include "tls/text.hpp"

namespace probe::rules {
namespace {

// DNS names compare without case and without a trailing root dot.
std::string comparable_name(std::string_view name) {
  std::string text = tls::ascii_lower(name);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  return items.empty() ? "(none)" : tls::joined(items);
}

enum class Coverage { explicit_name, wildcard, none };

Coverage coverage(const tls::Certificate& leaf, const std::string& name) {
  const std::string wanted = comparable_name(name);
  for (const auto& dns : leaf.info().san_dns)
    if (comparable_name(dns) == wanted) return Coverage::explicit_name;
  return tls::certificate_covers_name(leaf, name) ? Coverage::wildcard : Coverage::none;
}

// The CN to reissue with: the pool given, else a CN that is a valid FQDN
// (the CN rule judges it), never a CN that rule fails.
std::string reissue_hint(const tls::CertificateInfo& leaf, const std::optional<std::string>& pool) {
  const std::string cn = pool                                   ? *pool
                         : tls::is_valid_fqdn(leaf.common_name) ? leaf.common_name
                                                                : std::string("<pool FQDN>");
  return "Reissue the certificate with SAN DNS entries for the pool FQDN and every BEMS instance "
         "FQDN (Subject CN=" +
         cn + "), then import it with its key into personal/.";
}

bool below_root(const tls::Certificate& certificate) { return !certificate.self_signed(); }

}  // namespace

report::Finding subject_cn(const tls::CertificateInfo& leaf,
                           const std::optional<std::string>& pool) {
  auto f = finding(FindingId::bems_subject_cn_fqdn,
                   "Subject CN is a valid FQDN" + std::string(pool ? ": the pool name" : ""));
  about(f, leaf);
  const std::string example = pool ? *pool : std::string("bemsapppool.example.com");
  if (leaf.common_name.empty()) {
    return fail(f, "The subject " + in_quotes(leaf.subject) + " has no CN.",
                "Reissue the certificate with Subject CN=" + example +
                    " (the trusted application pool FQDN from New-CsTrustedApplicationPool).");
  }
  // "pool.example.com.": the root label's dot, valid in DNS and never in a
  // certificate name (RFC 5280 4.2.1.6's preferred name syntax); peers
  // compare names as written, so it is not the pool FQDN to them.
  if (leaf.common_name.size() > 1 && leaf.common_name.back() == '.' &&
      tls::is_valid_dns_name(leaf.common_name.substr(0, leaf.common_name.size() - 1)))
    return fail(
        f,
        "CN " + in_quotes(leaf.common_name) +
            " ends with a dot: certificate names are written without the DNS root's dot, "
            "and peers compare them as written, so it does not match " +
            in_quotes(pool ? *pool : leaf.common_name.substr(0, leaf.common_name.size() - 1)) + ".",
        "Reissue the certificate with Subject CN=" +
            (pool ? *pool : leaf.common_name.substr(0, leaf.common_name.size() - 1)) +
            " (no final dot), and the same in the SAN.");
  if (!tls::is_valid_dns_name(leaf.common_name)) {
    return fail(f,
                "CN " + in_quotes(leaf.common_name) +
                    " is not a valid host name: each label may hold only letters, digits and "
                    "inner hyphens (no underscore, no space, no empty label)." +
                    std::string(std::any_of(leaf.san_dns.begin(), leaf.san_dns.end(),
                                            [&](const std::string& name) {
                                              return tls::iequals(name, leaf.common_name);
                                            })
                                    ? " The SAN repeats it."
                                    : ""),
                "Reissue the certificate with Subject CN=" + example +
                    " and the same name in the SAN; rename the pool in the topology first if its "
                    "FQDN is not a host name.");
  }
  if (!tls::is_valid_fqdn(leaf.common_name)) {
    return fail(f, "CN " + in_quotes(leaf.common_name) + " is not a fully qualified domain name.",
                "Reissue the certificate with Subject CN=" + example +
                    " (the trusted application pool FQDN, e.g. CN=bemsapppool.example.com).");
  }
  if (pool && comparable_name(leaf.common_name) != comparable_name(*pool)) {
    return fail(f,
                "CN " + in_quotes(leaf.common_name) + " is not the trusted application pool FQDN " +
                    in_quotes(*pool) + ".",
                "Reissue the certificate with Subject CN=" + *pool +
                    ", or check --pool against Get-CsTrustedApplicationPool.");
  }
  return pass(f, "CN " + in_quotes(leaf.common_name) + " is a valid FQDN" +
                     (pool ? " and the pool name." : "."));
}

report::Finding san_pool(const tls::Certificate& leaf, const std::string& pool, bool pool_from_cn) {
  auto f = finding(FindingId::bems_san_pool, "SAN lists the trusted application pool FQDN");
  about(f, leaf.info());
  const std::string source =
      pool_from_cn ? " (pool name taken from the CN; give --pool to be explicit)" : "";
  // A pool taken from the CN is not one to tell the reader to keep.
  const std::optional<std::string> given_pool =
      pool_from_cn ? std::nullopt : std::optional<std::string>(pool);
  if (!leaf.info().has_san) {
    return fail(f, "The certificate has no Subject Alternative Name extension" + source + ".",
                reissue_hint(leaf.info(), given_pool));
  }
  switch (coverage(leaf, pool)) {
    case Coverage::explicit_name: {
      // Listed only with a final dot, as the CN is: the CN rule blames the
      // dot once, for both.
      const std::string& cn = leaf.info().common_name;
      const auto& names = leaf.info().san_dns;
      const bool undotted = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
        return tls::iequals(name, pool);
      });
      if (!undotted && !cn.empty() && cn.back() == '.' &&
          comparable_name(cn) == comparable_name(pool))
        return skip(f, "SAN lists " + in_quotes(cn) +
                           " with a final dot, as the CN does: blamed by " +
                           id_text(FindingId::bems_subject_cn_fqdn));
      return pass(f, "SAN lists " + in_quotes(pool) + source + ".");
    }
    case Coverage::wildcard:
      return warn(f,
                  "Only a wildcard SAN covers " + in_quotes(pool) +
                      "; Lync/Skype match trusted application "
                      "pools against explicit names.",
                  reissue_hint(leaf.info(), given_pool));
    case Coverage::none:
      break;
  }
  return fail(f,
              "SAN lists " + joined(leaf.info().san_dns) + " but not the pool FQDN " +
                  in_quotes(pool) + source + ".",
              reissue_hint(leaf.info(), given_pool));
}

report::Finding san_instances(const tls::Certificate& leaf,
                              const std::vector<std::string>& instances,
                              const std::optional<std::string>& pool) {
  auto f = finding(FindingId::bems_san_instances, "SAN lists the FQDN of every BEMS instance");
  about(f, leaf.info());
  if (instances.empty())
    return skip(
        f, "no --instance given: name every BEMS server FQDN with --instance to check the SAN");
  std::vector<std::string> missing, wildcard_only;
  for (const auto& instance : instances) {
    switch (coverage(leaf, instance)) {
      case Coverage::explicit_name:
        break;
      case Coverage::wildcard:
        wildcard_only.push_back(instance);
        break;
      case Coverage::none:
        missing.push_back(instance);
        break;
    }
  }
  if (!missing.empty()) {
    return fail(f,
                "SAN lacks " + joined(missing) + " (it lists " + joined(leaf.info().san_dns) + ").",
                reissue_hint(leaf.info(), pool));
  }
  if (!wildcard_only.empty()) {
    return warn(
        f, "Only a wildcard covers " + joined(wildcard_only) + "; list each instance explicitly.",
        reissue_hint(leaf.info(), pool));
  }
  return pass(f, "SAN lists all " + std::to_string(instances.size()) +
                     " instance(s): " + joined(instances) + ".");
}

report::Finding validity(Side side, const std::vector<tls::Certificate>& chain,
                         tls::Clock::time_point now, int warn_days) {
  auto f = finding(
      for_side(side, FindingId::bems_validity, FindingId::lync_validity),
      "Every certificate of the " + side_name(side) + " chain is within its validity period");
  if (chain.empty()) return skip(f, "no " + side_name(side) + " certificate to inspect");
  about(f, chain.front().info());
  const std::string store = side == Side::bems ? "BEMS's stores" : "the Lync/Skype pool's stores";
  for (const auto& certificate : chain) {
    const auto& info = certificate.info();
    if (now < info.not_before) {
      about(f, info);
      return fail(f,
                  in_quotes(info.subject) + " is not valid until " + rfc3339(info.not_before) +
                      " (now " + rfc3339(now) + ").",
                  "Check the clocks of the CA and of this machine, or wait until the certificate "
                  "becomes valid.");
    }
    if (now > info.not_after) {
      about(f, info);
      return fail(f, in_quotes(info.subject) + " expired on " + rfc3339(info.not_after) + ".",
                  "Renew " + in_quotes(info.subject) + " and replace it in " + store +
                      " (a renewed leaf goes with its key into personal/).");
    }
  }
  auto first = std::min_element(chain.begin(), chain.end(), [](const auto& a, const auto& b) {
    return a.info().not_after < b.info().not_after;
  });
  // In whole seconds: a clamped date (past 2262) minus now must not overflow.
  using std::chrono::seconds;
  auto days_left =
      (std::chrono::duration_cast<seconds>(first->info().not_after.time_since_epoch()) -
       std::chrono::duration_cast<seconds>(now.time_since_epoch()))
          .count() /
      86400;
  if (days_left < warn_days) {
    about(f, first->info());
    return warn(f,
                in_quotes(first->subject()) + " expires in " + std::to_string(days_left) +
                    " day(s), on " + rfc3339(first->info().not_after) + ".",
                "Renew it before then and replace it in " + store + ".");
  }
  return pass(f, "All " + std::to_string(chain.size()) +
                     " certificate(s) valid; the first to expire is " +
                     in_quotes(first->subject()) + " on " + rfc3339(first->info().not_after) + ".");
}

report::Finding eku(Side side, const tls::CertificateInfo& leaf) {
  auto f = finding(for_side(side, FindingId::bems_eku, FindingId::lync_eku),
                   side_name(side) + " certificate is valid for server and client authentication");
  about(f, leaf);
  const std::string remedy =
      "Reissue from a template with both Server Authentication (1.3.6.1.5.5.7.3.1) and Client "
      "Authentication (1.3.6.1.5.5.7.3.2). Public CAs stopped issuing clientAuth certificates in "
      "2026, so "
      "use a private (enterprise) CA that both sides trust.";
  // AD CS templates add Microsoft Application Policies beside the EKU;
  // schannel (CryptoAPI's chain engine) enforces them as the EKU when they
  // are present, so a purpose they omit is refused by a Windows peer.
  if (leaf.has_application_policies) {
    auto allowed = [&](const char* purpose) {
      const auto& policies = leaf.application_policies;
      return std::find(policies.begin(), policies.end(), purpose) != policies.end() ||
             std::find(policies.begin(), policies.end(), "anyExtendedKeyUsage") != policies.end();
    };
    std::vector<std::string> refused;
    for (const char* purpose : {"serverAuth", "clientAuth"})
      if (!allowed(purpose)) refused.push_back(purpose);
    if (!refused.empty())
      return fail(f,
                  "The Microsoft Application Policies extension (1.3.6.1.4.1.311.21.10) names " +
                      (leaf.application_policies.empty() ? std::string("no purpose")
                                                         : joined(leaf.application_policies)) +
                      " but not " + joined(refused) +
                      ": Windows schannel enforces application policies as the EKU when they "
                      "are present, so Lync/Skype refuses the certificate for that purpose "
                      "whatever its EKU says.",
                  "Reissue from an AD CS template whose Application Policies include Server "
                  "Authentication and Client Authentication (or that adds none).");
  }
  // RFC 5246 7.4.2 and RFC 8446 4.4.2.2: the key signs in the handshake
  // (CertificateVerify as a client; ECDHE and TLS 1.3 as a server), so a key
  // usage extension must allow digitalSignature. OpenSSL accepts a client
  // certificate with keyAgreement instead; schannel, Java and GnuTLS refuse it.
  if (leaf.has_key_usage && std::find(leaf.key_usage.begin(), leaf.key_usage.end(),
                                      "digitalSignature") == leaf.key_usage.end())
    return fail(f,
                "The Key Usage (" +
                    (leaf.key_usage.empty() ? std::string("empty") : joined(leaf.key_usage)) +
                    ") lacks digitalSignature, which every TLS handshake needs of this "
                    "certificate's key: it signs the CertificateVerify when this endpoint is the "
                    "client, and the key exchange (ECDHE, TLS 1.3) when it is the server. Peers "
                    "refuse it: OpenSSL-based ones with alert 43 unsupported_certificate when it "
                    "is a client certificate without keyAgreement, schannel, Java and GnuTLS "
                    "with a key usage error.",
                "Reissue from a template whose Key Usage includes Digital Signature (with Key "
                "Encipherment for an RSA key).");
  if (!leaf.has_eku) {
    return warn(f,
                "The certificate has no Extended Key Usage; most stacks accept it for any purpose, "
                "but policies and some peers expect serverAuth and clientAuth to be named.",
                remedy);
  }
  auto has = [&](const char* usage) {
    return std::find(leaf.eku.begin(), leaf.eku.end(), usage) != leaf.eku.end();
  };
  if (!has("serverAuth")) {
    return fail(f,
                "The Extended Key Usage (" + joined(leaf.eku) +
                    ") lacks serverAuth: peers refuse it as a "
                    "TLS server certificate.",
                remedy);
  }
  if (!has("clientAuth")) {
    return fail(
        f,
        "The Extended Key Usage (" + joined(leaf.eku) +
            ") lacks clientAuth: the same certificate is sent as a client certificate when this "
            "endpoint dials out, and peers refuse it: OpenSSL-based ones (Kamailio, s_server) "
            "with alert 43 unsupported_certificate, Java with 46 certificate_unknown, Go and "
            "GnuTLS with 42 bad_certificate; Windows schannel refuses it too.",
        remedy);
  }
  return pass(f,
              "Extended Key Usage names serverAuth and clientAuth" +
                  std::string(leaf.has_key_usage ? "; Key Usage allows digitalSignature." : "."));
}

report::Finding san_syntax(Side side, const tls::CertificateInfo& leaf, const report::Finding* cn) {
  auto f =
      finding(for_side(side, FindingId::bems_san_syntax, FindingId::lync_san_syntax),
              "Every SAN DNS name of the " + side_name(side) + " certificate is a valid host name");
  about(f, leaf);
  // One policy offline and live: `check`, `connect`, `serve` and `pair` all
  // judge the names with this rule (RFC 5280 4.2.1.6 asks for RFC 1034
  // preferred syntax), while the handshake itself accepts them as OpenSSL
  // does, so a defect is blamed here and never by a refused handshake.
  std::vector<std::string> malformed;
  std::string example;  // the first one, spelled as a host name may be
  // The CN rule already blames a malformed CN; the same name in the SAN is
  // the same defect (renaming the pool fixes both).
  const bool cn_blamed = cn && cn->status == report::Status::fail && !leaf.common_name.empty() &&
                         !tls::is_valid_dns_name(leaf.common_name, true);
  bool repeats_cn = false;
  for (const auto& name : leaf.san_dns) {
    if (tls::is_valid_dns_name(name, true)) continue;
    if (cn_blamed && tls::iequals(name, leaf.common_name)) {
      repeats_cn = true;
      continue;
    }
    malformed.push_back(in_quotes(name));
    if (example.empty()) {
      example = name;
      std::replace(example.begin(), example.end(), '_', '-');
      example = " (e.g. " + in_quotes(example) + " instead of " + in_quotes(name) + ")";
    }
  }
  if (leaf.san_dns.empty()) return pass(f, "The certificate has no SAN DNS name to judge.");
  if (malformed.empty() && repeats_cn)
    return skip(f, "the only malformed SAN name is the CN " + in_quotes(leaf.common_name) +
                       ", blamed by " + cn->id);
  if (malformed.empty())
    return pass(f, "SAN DNS name(s) " + joined(leaf.san_dns) +
                       " are host names of letters, digits and hyphens.");
  return fail(
      f,
      "SAN DNS name(s) " + joined(malformed) +
          " are not valid host names: RFC 5280 (4.2.1.6) allows only letters, digits and "
          "inner hyphens in each label (no underscore, no empty label). OpenSSL's host-name "
          "matching accepts such a name, but verifiers that enforce the syntax (RFC 5280 "
          "path validators, CA/Browser Forum rules, Java's SNI host names) refuse it.",
      "Reissue the certificate with host names of letters, digits and hyphens only" + example +
          "; rename the server in DNS and the topology first if its name has an underscore.");
}

report::Finding key_strength(Side side, const std::vector<tls::Certificate>& chain) {
  auto f =
      finding(for_side(side, FindingId::bems_key_strength, FindingId::lync_key_strength),
              "Keys and signatures of the " + side_name(side) + " chain are strong and supported");
  if (chain.empty()) return skip(f, "no " + side_name(side) + " certificate to inspect");
  about(f, chain.front().info());
  const std::string renew =
      " Reissue it with an RSA 2048+ or ECDSA P-256+ key and a SHA-256 RSA PKCS#1 v1.5 or "
      "ECDSA signature.";
  for (const auto& certificate : chain) {
    const auto& info = certificate.info();
    bool rsa_like = info.key_type == "RSA" || info.key_type == "RSA-PSS" || info.key_type == "DSA";
    if ((rsa_like && info.key_bits < 2048) || (info.key_type == "EC" && info.key_bits < 256)) {
      about(f, info);
      return fail(f,
                  in_quotes(info.subject) + " has a " + std::to_string(info.key_bits) + "-bit " +
                      info.key_type +
                      " key; at least RSA 2048 or EC 256 is required (OpenSSL at its default "
                      "security level refuses it; Java and Windows still accept RSA 1024).",
                  "Replace " + in_quotes(info.subject) + "." + renew);
    }
    if (info.key_type == "RSA-PSS" || (below_root(certificate) && info.signature_is_pss)) {
      about(f, info);
      return fail(f,
                  in_quotes(info.subject) +
                      " uses RSASSA-PSS, which Lync/Skype for Business do not support.",
                  "Replace " + in_quotes(info.subject) + "." + renew);
    }
    if (below_root(certificate) &&
        (info.signature_digest == "SHA1" || info.signature_digest == "MD5")) {
      about(f, info);
      return fail(f,
                  in_quotes(info.subject) + " is signed with " + info.signature_digest + " (" +
                      info.signature_algorithm +
                      "), which OpenSSL at its default security level and browsers refuse; Java "
                      "and Windows still accept it from a private CA, for now.",
                  "Replace " + in_quotes(info.subject) + "." + renew);
    }
  }
  return pass(f, "Leaf key " + chain.front().info().key_type + " " +
                     std::to_string(chain.front().info().key_bits) +
                     " bits; no weak key, SHA-1/MD5 or RSASSA-PSS in the chain.");
}

report::Finding revocation_published(Side side, const std::vector<tls::Certificate>& chain) {
  auto f = finding(
      for_side(side, FindingId::bems_revocation_published, FindingId::lync_revocation_published),
      "Every " + side_name(side) + " certificate below the root publishes an HTTP CRL or OCSP URL");
  if (chain.empty()) return skip(f, "no " + side_name(side) + " certificate to inspect");
  about(f, chain.front().info());
  std::vector<std::string> without;
  for (const auto& certificate : chain) {
    if (!below_root(certificate)) continue;
    const auto& info = certificate.info();
    bool http_crl = std::any_of(
        info.crl_urls.begin(), info.crl_urls.end(),
        [](const std::string& url) { return tls::ascii_lower(url).starts_with("http://"); });
    if (!http_crl && info.ocsp_urls.empty()) without.push_back(in_quotes(info.subject));
  }
  if (!without.empty()) {
    return warn(
        f, joined(without) + " carries neither an HTTP CRL distribution point nor an OCSP URL.",
        "Configure the CA to publish an HTTP CDP (and AIA) reachable from both sides and reissue; "
        "Lync/Skype servers and clients fail MTLS when revocation cannot be checked.");
  }
  return pass(f,
              "Every certificate below the root names an HTTP CRL distribution point or an OCSP "
              "responder.");
}

}  // namespace probe::rules
