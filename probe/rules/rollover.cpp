#include "probe/rules/rollover.hpp"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include <boost/url/parse.hpp>

#include "probe/diagnosis/facts.hpp"
#include "probe/rules/rules.hpp"
#include "tls/dns_name.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

using report::ChangeClass;
using report::ComparisonRow;
using report::Status;
using rules::in_quotes;

// A DNS name as names compare: case-insensitive, the root's trailing dot ignored.
std::string lower(const std::string& name) {
  std::string text = tls::ascii_lower(name);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  return items.empty() ? "(none)" : tls::joined(items);
}

bool contains_name(const std::vector<std::string>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return lower(n) == lower(name); });
}

// Names in `from` that `other` does not list (case-insensitive, as DNS is).
std::vector<std::string> missing_from(const std::vector<std::string>& from,
                                      const std::vector<std::string>& other) {
  std::vector<std::string> out;
  for (const auto& name : from)
    if (!contains_name(other, name)) out.push_back(name);
  return out;
}

int severity(ChangeClass c) {
  switch (c) {
    case ChangeClass::breaking:
      return 2;
    case ChangeClass::risky:
      return 1;
    case ChangeClass::neutral:
      return 0;
  }
  return 0;
}

// A row's class is the worst of its parts; its reason lists each part.
struct Judgement {
  std::optional<ChangeClass> worst;
  std::vector<std::string> reasons;
  void add(ChangeClass c, std::string reason) {
    if (!worst || severity(c) > severity(*worst)) worst = c;
    reasons.push_back(std::move(reason));
  }
};

ComparisonRow row(std::string field, std::string before, std::string after) {
  return {std::move(field), std::move(before), std::move(after), std::nullopt, {}};
}

void settle(ComparisonRow& row, const Judgement& judgement) {
  if (row.before == row.after && !judgement.worst) return;
  row.change = judgement.worst.value_or(ChangeClass::neutral);
  std::string reason;
  for (const auto& part : judgement.reasons) reason += (reason.empty() ? "" : " ") + part;
  row.reason = reason;
}

std::string key_text(const tls::CertificateInfo& info) {
  std::string text = info.key_type + " " + std::to_string(info.key_bits);
  if (!info.curve.empty()) text += " (" + info.curve + ")";
  return text;
}

std::string validity_text(const tls::CertificateInfo& info) {
  return rfc3339(info.not_before) + " to " + rfc3339(info.not_after);
}

std::string url_host(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return url;
  return lower(std::string(parsed->host()));
}

bool weak_key(const tls::CertificateInfo& info) {
  bool rsa_like = info.key_type == "RSA" || info.key_type == "RSA-PSS" || info.key_type == "DSA";
  return (rsa_like && info.key_bits < 2048) || (info.key_type == "EC" && info.key_bits < 256);
}

bool weak_signature(const tls::CertificateInfo& info) {
  return info.signature_is_pss || info.signature_digest == "SHA1" || info.signature_digest == "MD5";
}

std::string signature_family(const tls::CertificateInfo& info) {
  const std::string& name = info.signature_algorithm;
  if (name.find("ecdsa") != std::string::npos || name.find("ECDSA") != std::string::npos)
    return "ECDSA";
  if (info.signature_is_pss) return "RSASSA-PSS";
  if (name.find("RSA") != std::string::npos || name.find("rsa") != std::string::npos) return "RSA";
  return name;
}

// Which CA of a chain a row is about: the issuing CA (depth 1), the root (a
// self-signed top) and any CA between them by depth.
std::vector<std::pair<std::string, const tls::Certificate*>> ca_roles(
    const std::vector<tls::Certificate>& chain) {
  std::vector<std::pair<std::string, const tls::Certificate*>> roles;
  for (std::size_t depth = 1; depth < chain.size(); ++depth) {
    const tls::Certificate& ca = chain[depth];
    std::string role;
    if (ca.self_signed())
      role = "root CA";
    else if (depth == 1)
      role = "issuing CA";
    else
      role = "CA at depth " + std::to_string(depth);
    roles.emplace_back(role, &ca);
  }
  return roles;
}

bool in_chain(const std::vector<tls::Certificate>& chain, const tls::Certificate& certificate) {
  return std::any_of(chain.begin(), chain.end(),
                     [&](const tls::Certificate& c) { return c.sha256() == certificate.sha256(); });
}

// The key usages TLS needs of a leaf with this key: every handshake
// signature needs digitalSignature (CertificateVerify as a client, ECDHE and
// TLS 1.3 as a server); RSA key exchange (TLS_RSA_* suites) encrypts the
// premaster secret to the key, so an RSA key needs keyEncipherment as well.
std::vector<std::string> needed_key_usages(const tls::CertificateInfo& info) {
  if (info.key_type == "RSA") return {"digitalSignature", "keyEncipherment"};
  return {"digitalSignature"};
}

// No keyUsage extension allows every usage (RFC 5280 4.2.1.3).
bool allows_usage(const tls::CertificateInfo& info, const std::string& usage) {
  return !info.has_key_usage ||
         std::find(info.key_usage.begin(), info.key_usage.end(), usage) != info.key_usage.end();
}

// What TLS needs of the next key that the next certificate does not allow.
// `lacking_today`: those the current certificate, needing them too, lacks as
// well (the switch changes nothing there); the rest are lost by the switch.
std::vector<std::string> missing_key_usages(const tls::CertificateInfo& current,
                                            const tls::CertificateInfo& next, bool lacking_today) {
  const auto today = needed_key_usages(current);
  std::vector<std::string> missing;
  for (const auto& usage : needed_key_usages(next)) {
    if (allows_usage(next, usage)) continue;
    const bool lacks_today = std::find(today.begin(), today.end(), usage) != today.end() &&
                             !allows_usage(current, usage);
    if (lacks_today == lacking_today) missing.push_back(usage);
  }
  return missing;
}

// Application policies, when present, are the purposes schannel allows
// (it intersects them with the EKU).
bool policies_allow(const tls::CertificateInfo& info, const char* purpose) {
  return !info.has_application_policies ||
         std::find(info.application_policies.begin(), info.application_policies.end(), purpose) !=
             info.application_policies.end();
}

class Judge {
 public:
  explicit Judge(const RolloverInputs& inputs) : in_(inputs) {
    for (const auto& f : in_.current.findings) current_[f.id] = &f;
    for (const auto& f : in_.next.findings) next_[f.id] = &f;
  }

  RolloverVerdict run() {
    RolloverVerdict verdict;
    verdict.comparison.before = side_json(in_.current);
    verdict.comparison.after = side_json(in_.next);
    if (!current_leaf() || !next_leaf()) {
      verdict.findings = rule_findings();
      return verdict;
    }
    auto& rows = verdict.comparison.rows;
    rows.push_back(subject_cn());
    rows.push_back(subject());
    rows.push_back(san_dns());
    if (!cur().san_ip.empty() || !nxt().san_ip.empty() || !cur().san_other.empty() ||
        !nxt().san_other.empty())
      rows.push_back(san_other());
    rows.push_back(eku());
    rows.push_back(key_usage());
    if (cur().has_application_policies || nxt().has_application_policies)
      rows.push_back(application_policies());
    rows.push_back(key());
    rows.push_back(signature());
    for (auto& ca : ca_rows()) rows.push_back(std::move(ca));
    rows.push_back(validity());
    rows.push_back(urls("CRL URLs", cur().crl_urls, nxt().crl_urls, true));
    rows.push_back(urls("OCSP URLs", cur().ocsp_urls, nxt().ocsp_urls, true));
    rows.push_back(urls("CA issuers URLs", cur().ca_issuer_urls, nxt().ca_issuer_urls, false));
    if (!cur().template_id.empty() || !nxt().template_id.empty())
      rows.push_back(certificate_template());
    if (!cur().policies.empty() || !nxt().policies.empty()) rows.push_back(policies());
    for (auto& unexplained : rule_rows()) rows.push_back(std::move(unexplained));

    verdict.findings = rule_findings();
    verdict.findings.push_back(key_usage_finding());
    verdict.findings.push_back(peer_intermediate_finding());
    verdict.findings.push_back(switch_date_finding());
    verdict.findings.push_back(risky_finding(rows));
    return verdict;
  }

 private:
  const tls::Certificate* current_leaf() const {
    return in_.current.chain.empty() ? nullptr : &in_.current.chain.front();
  }
  const tls::Certificate* next_leaf() const {
    return in_.next.chain.empty() ? nullptr : &in_.next.chain.front();
  }
  const tls::CertificateInfo& cur() const { return current_leaf()->info(); }
  const tls::CertificateInfo& nxt() const { return next_leaf()->info(); }

  Status status(const std::map<std::string, const report::Finding*>& side,
                const std::string& id) const {
    auto it = side.find(id);
    return it == side.end() ? Status::skip : it->second->status;
  }

  // The rule passes (or is not judged) today and fails with the next certificate.
  bool breaks(FindingId id) const {
    return status(next_, id_text(id)) == Status::fail &&
           status(current_, id_text(id)) != Status::fail;
  }

  // A row names `id` as the reason it breaks, so no row of its own repeats it.
  void blame(Judgement& j, FindingId id, const std::string& reason) {
    explained_.insert(id_text(id));
    j.add(ChangeClass::breaking, reason + ": " + id_text(id) + " fails with the next certificate.");
  }

  std::string next_detail(const std::string& id) const {
    auto it = next_.find(id);
    return it == next_.end() ? std::string() : it->second->detail;
  }

  std::string switch_text() const {
    return in_.switch_at ? "the switch on " + rfc3339(*in_.switch_at) : "a switch now";
  }

  boost::json::object side_json(const RolloverSide& side) const {
    boost::json::object out;
    if (side.chain.empty()) {
      out["certificate"] = nullptr;
    } else {
      out["certificate"] = certificate_json(side.chain.front().info());
    }
    boost::json::array chain;
    for (const auto& certificate : side.chain)
      chain.push_back(certificate_json(certificate.info()));
    out["chain"] = std::move(chain);
    return out;
  }

  ComparisonRow subject_cn() {
    auto r = row("subject CN", cur().common_name, nxt().common_name);
    Judgement j;
    if (lower(r.before) != lower(r.after)) {
      if (breaks(FindingId::bems_subject_cn_fqdn))
        blame(j, FindingId::bems_subject_cn_fqdn,
              "The Lync/Skype pool knows BEMS as the trusted application pool " +
                  in_quotes(in_.pool) + " and matches it against the CN");
      else
        j.add(ChangeClass::neutral,
              "The next CN is still a valid FQDN and the pool name " + in_quotes(in_.pool) + ".");
    }
    settle(r, j);
    return r;
  }

  ComparisonRow subject() {
    auto r = row("subject", cur().subject, nxt().subject);
    Judgement j;
    if (r.before != r.after)
      j.add(ChangeClass::neutral,
            "Lync/Skype match the CN (row above) and the SAN, not the other subject attributes.");
    settle(r, j);
    return r;
  }

  ComparisonRow san_dns() {
    auto r = row("SAN DNS", joined(cur().san_dns), joined(nxt().san_dns));
    Judgement j;
    const auto removed = missing_from(cur().san_dns, nxt().san_dns);
    const auto added = missing_from(nxt().san_dns, cur().san_dns);
    const bool pool_breaks = breaks(FindingId::bems_san_pool);
    const bool instance_breaks = breaks(FindingId::bems_san_instances);
    for (const auto& name : removed) {
      const bool is_pool = lower(name) == lower(in_.pool);
      const bool is_instance = contains_name(in_.instances, name);
      if (is_pool && pool_breaks) {
        blame(j, FindingId::bems_san_pool, "Removes the pool FQDN " + in_quotes(name));
      } else if (is_instance && instance_breaks) {
        blame(j, FindingId::bems_san_instances,
              "Removes " + in_quotes(name) + ", a BEMS instance (" +
                  (in_.instances_from_current ? "named by the current certificate's SAN"
                                              : "--instance") +
                  "): a peer that reaches that server refuses the next certificate");
      } else if (next_leaf() && tls::certificate_covers_name(*next_leaf(), name)) {
        j.add(ChangeClass::risky, "Removes " + in_quotes(name) +
                                      ", now covered only by a wildcard; Lync/Skype match "
                                      "trusted application pools against explicit names.");
      } else {
        j.add(ChangeClass::risky,
              "Removes " + in_quotes(name) +
                  ": a peer that reaches BEMS under that name refuses the next certificate.");
      }
    }
    if (!added.empty())
      j.add(ChangeClass::neutral, "Adds " + joined(added) + ": a name more breaks nothing.");
    settle(r, j);
    return r;
  }

  ComparisonRow san_other() {
    std::vector<std::string> before = cur().san_ip, after = nxt().san_ip;
    before.insert(before.end(), cur().san_other.begin(), cur().san_other.end());
    after.insert(after.end(), nxt().san_other.begin(), nxt().san_other.end());
    auto r = row("SAN other", joined(before), joined(after));
    Judgement j;
    if (r.before != r.after)
      j.add(ChangeClass::neutral,
            "Lync/Skype and BEMS match DNS names; IP, e-mail and URI entries play no part in "
            "MTLS between them.");
    settle(r, j);
    return r;
  }

  ComparisonRow eku() {
    auto text = [](const tls::CertificateInfo& info) {
      return info.has_eku ? joined(info.eku) : std::string("(no EKU extension)");
    };
    auto r = row("EKU", text(cur()), text(nxt()));
    Judgement j;
    if (r.before != r.after) {
      auto has = [](const tls::CertificateInfo& info, const char* usage) {
        return !info.has_eku ||
               std::find(info.eku.begin(), info.eku.end(), usage) != info.eku.end();
      };
      const bool loses_client = has(cur(), "clientAuth") && !has(nxt(), "clientAuth");
      const bool loses_server = has(cur(), "serverAuth") && !has(nxt(), "serverAuth");
      const bool rule_breaks = breaks(FindingId::bems_eku);
      if (loses_client && rule_breaks)
        blame(j, FindingId::bems_eku,
              "Loses clientAuth: BEMS sends this certificate as its client certificate when it "
              "dials the pool, and the pool refuses it. Public CAs stopped issuing "
              "clientAuth certificates in 2026, so a renewal from a public CA is where this "
              "happens: issue the next certificate from a private CA both sides trust.");
      if (loses_server && rule_breaks)
        blame(j, FindingId::bems_eku, "Loses serverAuth: the pool refuses it when it dials BEMS");
      if (!nxt().has_eku && cur().has_eku)
        j.add(ChangeClass::risky,
              "The next certificate has no EKU extension: most stacks accept it for any "
              "purpose, but policies and some peers expect serverAuth and clientAuth.");
      if (!j.worst)
        j.add(ChangeClass::neutral,
              "serverAuth and clientAuth are kept; other purposes do not "
              "matter to MTLS between BEMS and Lync/Skype.");
    }
    settle(r, j);
    return r;
  }

  ComparisonRow key_usage() {
    auto text = [](const tls::CertificateInfo& info) {
      return info.has_key_usage ? joined(info.key_usage) : std::string("(no key usage extension)");
    };
    auto r = row("key usage", text(cur()), text(nxt()));
    Judgement j;
    if (r.before != r.after) {
      const auto lost = missing_key_usages(cur(), nxt(), false);
      const auto lacking = missing_key_usages(cur(), nxt(), true);
      const bool digital_signature =
          std::find(lost.begin(), lost.end(), "digitalSignature") != lost.end();
      // A certificate without digitalSignature fails bems.eku (its key must
      // sign in every handshake); where a chain rule fails for it instead,
      // that one is blamed.
      std::optional<FindingId> chain_rule;
      if (digital_signature && breaks(FindingId::bems_eku))
        chain_rule = FindingId::bems_eku;
      else if (digital_signature && breaks(FindingId::trust_mutual))
        chain_rule = FindingId::trust_mutual;
      else if (digital_signature && breaks(FindingId::bems_chain_trusted))
        chain_rule = FindingId::bems_chain_trusted;
      if (!lost.empty()) {
        const std::string reason =
            "Loses " + joined(lost) + ", which TLS needs of an " + nxt().key_type + " key" +
            (digital_signature ? ": BEMS signs its handshake with it (CertificateVerify as a "
                                 "client, ECDHE and TLS 1.3 as a server)"
                               : "") +
            (std::find(lost.begin(), lost.end(), "keyEncipherment") != lost.end()
                 ? std::string(digital_signature ? "; " : ": ") +
                       "RSA key exchange (the TLS_RSA_* suites a pool hardened to RSA suites "
                       "negotiates) encrypts to it, and schannel refuses the certificate for "
                       "those suites"
                 : std::string());
        if (chain_rule) {
          blame(j, *chain_rule, reason);
          lost_usages_ = lost;
          key_usage_owner_ = chain_rule;
        } else {
          lost_usages_ = lost;
          explained_.insert(id_text(FindingId::rollover_key_usage));
          j.add(ChangeClass::breaking,
                reason + " (" + id_text(FindingId::rollover_key_usage) + ").");
        }
      }
      if (!j.worst && !lacking.empty())
        j.add(ChangeClass::neutral, "Lacks " + joined(lacking) +
                                        " as the current certificate does: the switch changes "
                                        "nothing there.");
      else if (!j.worst && !nxt().has_key_usage)
        j.add(ChangeClass::neutral,
              "No key usage extension: every usage is allowed (RFC 5280 4.2.1.3).");
      else if (!j.worst && allows_usage(cur(), "keyEncipherment") &&
               !allows_usage(nxt(), "keyEncipherment") && nxt().key_type != "RSA")
        j.add(ChangeClass::neutral, "keyEncipherment is for RSA key exchange; an " +
                                        nxt().key_type + " key does not need it.");
      else if (!j.worst)
        j.add(ChangeClass::neutral, "Keeps " + joined(needed_key_usages(nxt())) + ", what TLS " +
                                        "needs of an " + nxt().key_type +
                                        " key; other usages play no part in MTLS.");
    }
    settle(r, j);
    return r;
  }

  ComparisonRow application_policies() {
    auto text = [](const tls::CertificateInfo& info) {
      return info.has_application_policies ? joined(info.application_policies)
                                           : std::string("(none)");
    };
    auto r = row("application policies", text(cur()), text(nxt()));
    Judgement j;
    if (r.before != r.after) {
      std::vector<std::string> refused;
      for (const char* purpose : {"clientAuth", "serverAuth"})
        if (policies_allow(cur(), purpose) && !policies_allow(nxt(), purpose))
          refused.push_back(purpose);
      if (!refused.empty() && breaks(FindingId::bems_eku))
        blame(j, FindingId::bems_eku,
              "The next certificate's application policies do not name " + joined(refused) +
                  ": schannel enforces them as the EKU when they are present, so Lync/Skype "
                  "refuses it for that purpose whatever its EKU says");
      else if (!refused.empty())
        j.add(ChangeClass::risky,
              "The next certificate's application policies do not name " + joined(refused) +
                  ", which the current certificate's EKU or policies already lack.");
      else
        j.add(ChangeClass::risky,
              "Application policies changed: schannel enforces them as the EKU when they are "
              "present, so what a Windows peer accepts the certificate for may change; "
              "clientAuth and serverAuth are still allowed.");
    }
    settle(r, j);
    return r;
  }

  ComparisonRow key() {
    auto r = row("key", key_text(cur()), key_text(nxt()));
    Judgement j;
    if (r.before != r.after) {
      if (weak_key(nxt()) && breaks(FindingId::bems_key_strength)) {
        blame(j, FindingId::bems_key_strength, "The next key is below RSA 2048 / EC 256");
      } else if (cur().key_type != "EC" && nxt().key_type == "EC") {
        j.add(ChangeClass::risky,
              "RSA to ECDSA: every peer must offer ECDSA (TLS 1.2 ECDHE-ECDSA cipher suites and "
              "ECDSA signature algorithms). Windows Server 2012 and later do by default, but Lync "
              "Server 2010 and servers whose cipher-suite order was hardened to RSA suites only "
              "fail the handshake. Rehearse it against the pool (--live) or keep RSA 2048.");
      } else if (cur().key_type == nxt().key_type && nxt().key_bits >= cur().key_bits) {
        j.add(ChangeClass::neutral, "A stronger key of the same type: every peer supports it.");
      } else {
        j.add(ChangeClass::neutral,
              "Still at or above RSA 2048 / EC 256 and a type every Lync/Skype version supports.");
      }
    }
    settle(r, j);
    return r;
  }

  ComparisonRow signature() {
    auto r = row("signature", cur().signature_algorithm, nxt().signature_algorithm);
    Judgement j;
    if (r.before != r.after) {
      if (weak_signature(nxt()) && breaks(FindingId::bems_key_strength)) {
        blame(j, FindingId::bems_key_strength,
              "The next certificate is signed with " + nxt().signature_algorithm +
                  ", which peers refuse");
      } else if (signature_family(cur()) != signature_family(nxt())) {
        j.add(ChangeClass::risky, "The issuing CA now signs with " + signature_family(nxt()) +
                                      ": the pool must verify " + signature_family(nxt()) +
                                      " signatures (Lync Server 2010 on Windows Server 2008 R2 "
                                      "is the usual exception).");
      } else {
        j.add(ChangeClass::neutral, "The same signature family with another digest.");
      }
    }
    settle(r, j);
    return r;
  }

  // Whether the pool's intermediate/ holds a certificate that issued `child`.
  bool peer_has_issuer_of(const tls::Certificate& child) const {
    if (!in_.peer) return false;
    for (const auto& stored : in_.peer->intermediates)
      if (child.issued_by(stored.certificate)) return true;
    for (const auto& stored : in_.peer->trusted_roots)
      if (child.issued_by(stored.certificate)) return true;
    return false;
  }

  bool peer_has_root(const tls::Certificate& root) const {
    if (!in_.peer) return false;
    for (const auto& stored : in_.peer->trusted_roots)
      if (stored.certificate.sha256() == root.sha256()) return true;
    return false;
  }

  // The file the next store holds `ca` in, to name what to copy.
  std::string next_file_of(const tls::Certificate& ca) const {
    const tls::Store& store = *in_.next.store;
    for (const auto* list : {&store.intermediates, &store.personal_extras, &store.trusted_roots})
      for (const auto& stored : *list)
        if (stored.certificate.sha256() == ca.sha256()) return stored.file.string();
    return {};
  }

  std::vector<ComparisonRow> ca_rows() {
    auto before = ca_roles(in_.current.chain);
    auto after = ca_roles(in_.next.chain);
    std::vector<std::string> order;
    for (const auto& [role, ca] : after) order.push_back(role);
    for (const auto& [role, ca] : before)
      if (std::find(order.begin(), order.end(), role) == order.end()) order.push_back(role);
    // The root goes last, whichever chain had it.
    std::stable_partition(order.begin(), order.end(),
                          [](const std::string& role) { return role != "root CA"; });
    if (after.empty() || !after.back().second->self_signed())
      if (std::find(order.begin(), order.end(), "root CA") == order.end())
        order.push_back("root CA");

    auto find = [](const auto& roles, const std::string& role) -> const tls::Certificate* {
      for (const auto& [r, ca] : roles)
        if (r == role) return ca;
      return nullptr;
    };
    const bool trust_breaks = breaks(FindingId::trust_mutual);
    const bool bems_trust_breaks = breaks(FindingId::bems_chain_trusted);
    const bool bems_intermediates_break = breaks(FindingId::bems_chain_intermediates);

    std::vector<ComparisonRow> rows;
    for (const auto& role : order) {
      const tls::Certificate* old_ca = find(before, role);
      const tls::Certificate* new_ca = find(after, role);
      const bool same = new_ca && in_chain(in_.current.chain, *new_ca);
      std::string after_text = "(not found in any store)";
      if (new_ca) after_text = new_ca->subject() + (same ? " [same]" : " [new]");
      auto r = row(role, old_ca ? old_ca->subject() : std::string("(not found in any store)"),
                   after_text);
      Judgement j;
      if (new_ca && !same) {
        const std::string name = in_quotes(new_ca->subject());
        if (new_ca->self_signed()) {
          if (trust_breaks)
            blame(j, FindingId::trust_mutual,
                  "New root " + name + ": not in the Lync/Skype pool's trusted-root/ (" +
                      in_.peer_store_name + "), so the pool refuses the next certificate");
          // A root in neither store is bems.chain.trusted's alone (its fix names
          // both stores; trust.mutual then points to it).
          if (bems_trust_breaks)
            blame(j, FindingId::bems_chain_trusted,
                  "New root " + name + ": not in BEMS's trusted-root/" +
                      (in_.peer && !peer_has_root(*new_ca)
                           ? " nor in the Lync/Skype pool's (" + in_.peer_store_name + ")"
                           : std::string()));
          if (!in_.peer)
            j.add(ChangeClass::risky,
                  "New root " + name +
                      ": the Lync/Skype pool must trust it; give --peer-store to know.");
          if (!j.worst)
            j.add(ChangeClass::neutral, "New root " + name + ", trusted by both sides.");
        } else {
          const std::size_t depth =
              static_cast<std::size_t>(std::find_if(in_.next.chain.begin(), in_.next.chain.end(),
                                                    [&](const tls::Certificate& c) {
                                                      return c.sha256() == new_ca->sha256();
                                                    }) -
                                       in_.next.chain.begin());
          const tls::Certificate& child = in_.next.chain[depth - 1];
          if (in_.peer && !peer_has_issuer_of(child)) {
            missing_in_peer_.push_back({*new_ca, next_file_of(*new_ca)});
            j.add(ChangeClass::breaking, "New " + role + " " + name +
                                             ": not in the Lync/Skype pool's intermediate/ (" +
                                             in_.peer_store_name + ") (" +
                                             id_text(FindingId::rollover_peer_intermediate) + ").");
          }
          if (bems_intermediates_break)
            blame(j, FindingId::bems_chain_intermediates,
                  "New " + role + " " + name +
                      ": not in BEMS's intermediate/: "
                      "bems.chain.intermediates fails.");
          if (!in_.peer)
            j.add(ChangeClass::risky, "New " + role + " " + name +
                                          ": the Lync/Skype pool needs it in its intermediate/; "
                                          "give --peer-store to know whether it has it.");
          if (!j.worst)
            j.add(ChangeClass::neutral,
                  "New " + role + " " + name + ", already in both sides' stores.");
        }
      } else if (!new_ca && old_ca) {
        if (old_ca->self_signed() && bems_trust_breaks)
          blame(j, FindingId::bems_chain_trusted,
                "The next chain reaches no root in any store given");
        else if (old_ca->self_signed())
          j.add(ChangeClass::risky, "The next chain reaches no root in any store given.");
        else
          j.add(ChangeClass::neutral,
                "The next chain no longer needs " + in_quotes(old_ca->subject()) + ".");
      }
      const bool unchanged = old_ca && new_ca && old_ca->sha256() == new_ca->sha256();
      if (!unchanged) settle(r, j);
      rows.push_back(std::move(r));
    }
    return rows;
  }

  ComparisonRow validity() {
    auto r = row("validity", validity_text(cur()), validity_text(nxt()));
    Judgement j;
    const bool rule_breaks = breaks(FindingId::bems_validity);
    const auto switch_time = in_.switch_at.value_or(in_.now);
    if (rule_breaks && switch_time < nxt().not_before)
      blame(j, FindingId::bems_validity,
            "The next certificate is not valid until " + rfc3339(nxt().not_before) + ", after " +
                switch_text());
    else if (rule_breaks)
      blame(j, FindingId::bems_validity, "The next chain is not valid at " + switch_text());
    if (in_.switch_at && cur().not_after < *in_.switch_at)
      j.add(ChangeClass::breaking, "The current certificate expires on " +
                                       rfc3339(cur().not_after) + ", before " + switch_text() +
                                       " (" + id_text(FindingId::rollover_switch_date) + ").");
    if (nxt().not_before > cur().not_after) {
      j.add(ChangeClass::risky, "No overlap: from " + rfc3339(cur().not_after) + " to " +
                                    rfc3339(nxt().not_before) +
                                    " neither certificate is valid, so the switch must happen "
                                    "exactly at the boundary.");
    } else {
      // In whole seconds: nanosecond time points past 2262 or before 1678 are
      // clamped, and their difference would overflow.
      const auto seconds = [](tls::Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
      };
      const auto overlap =
          (seconds(std::min(cur().not_after, nxt().not_after)) - seconds(nxt().not_before))
              .count() /
          86400;
      if (r.before != r.after)
        j.add(ChangeClass::neutral,
              "Overlap with the current certificate: " + std::to_string(overlap) +
                  " day(s), from " + rfc3339(nxt().not_before) + " to " +
                  rfc3339(std::min(cur().not_after, nxt().not_after)) +
                  "; the switch can happen any time in it.");
    }
    if (nxt().not_after < cur().not_after)
      j.add(ChangeClass::risky, "The next certificate expires before the current one (" +
                                    rfc3339(nxt().not_after) + "): the renewal shortens.");
    settle(r, j);
    return r;
  }

  ComparisonRow urls(const std::string& field, const std::vector<std::string>& before,
                     const std::vector<std::string>& after, bool revocation) {
    auto r = row(field, joined(before), joined(after));
    Judgement j;
    if (r.before != r.after) {
      if (revocation && after.empty() && !before.empty()) {
        j.add(ChangeClass::risky,
              "The next certificate publishes no " + field +
                  " any more: Lync/Skype fail MTLS when revocation cannot be checked "
                  "(" +
                  id_text(FindingId::bems_revocation_published) + ").");
      } else {
        std::set<std::string> known;
        for (const auto& url : before) known.insert(url_host(url));
        std::vector<std::string> new_hosts;
        for (const auto& url : after)
          if (!known.count(url_host(url))) new_hosts.push_back(url);
        if (!new_hosts.empty() && revocation)
          j.add(ChangeClass::risky,
                "A new server: the Lync/Skype pool must reach " + joined(new_hosts) +
                    " through its proxy and firewall, or it fails MTLS when it checks "
                    "revocation.");
        else if (!new_hosts.empty())
          j.add(ChangeClass::neutral, "A new server for the CA certificates: " + joined(new_hosts) +
                                          " (used to find a missing CA).");
        else
          j.add(ChangeClass::neutral, "The same server" + std::string(after.empty() ? "" : "s") +
                                          ", other paths (as a new CA publishes).");
      }
    }
    settle(r, j);
    return r;
  }

  // Lync/Skype never read the template extension; what it decides (EKU, key
  // usage, application policies, key, names) has rows of its own.
  ComparisonRow certificate_template() {
    auto text = [](const tls::CertificateInfo& info) {
      const std::string t = template_text(info);
      return t.empty() ? std::string("(none)") : t;
    };
    auto r = row("certificate template", text(cur()), text(nxt()));
    Judgement j;
    if (r.before != r.after) {
      if (nxt().template_id.empty())
        j.add(ChangeClass::risky,
              "The next certificate names no AD CS template: it does not come from the "
              "enterprise CA's template the current one was issued from but from a CA with its "
              "own profile (a public or standalone CA), which decides EKU, key usage and "
              "application policies (compared above). Rehearse it against the pool (--live).");
      else if (cur().template_id.empty())
        j.add(ChangeClass::neutral,
              "Now issued from an AD CS template; Lync/Skype do not read it, and what it "
              "decides (EKU, key usage, application policies, key, names) is compared in the "
              "rows above.");
      else if (cur().template_id == nxt().template_id)
        j.add(ChangeClass::neutral,
              "The same template in another version: its settings were edited, and what they "
              "decide (EKU, key usage, application policies, key, names) is compared in the "
              "rows above.");
      else
        j.add(ChangeClass::risky,
              "Issued from another template: Lync/Skype do not read the template, but it "
              "decides EKU, key usage, application policies, key size and names (compared "
              "above) and more no row compares. Check that " +
                  in_quotes(nxt().template_id) +
                  " is the template meant for MTLS, or rehearse it against the pool (--live).");
    }
    settle(r, j);
    return r;
  }

  ComparisonRow policies() {
    auto r = row("certificate policies", joined(cur().policies), joined(nxt().policies));
    Judgement j;
    if (r.before != r.after) {
      const auto dropped = missing_from(cur().policies, nxt().policies);
      const auto added = missing_from(nxt().policies, cur().policies);
      if (!dropped.empty())
        j.add(ChangeClass::risky,
              "Drops " + joined(dropped) +
                  ": Lync/Skype require no policy by default, but a peer that does (a CA of its "
                  "trust with requireExplicitPolicy, a Windows qualified subordination, an "
                  "issuance policy in a trust rule) refuses the next certificate.");
      if (!added.empty())
        j.add(ChangeClass::neutral,
              "Adds " + joined(added) + ": a policy more restricts nothing a peer checks.");
    }
    settle(r, j);
    return r;
  }

  // Rules that break without a field above saying why: one row each.
  std::vector<ComparisonRow> rule_rows() {
    std::vector<ComparisonRow> rows;
    for (const auto& f : in_.next.findings) {
      if (f.status != Status::fail || status(current_, f.id) == Status::fail) continue;
      if (explained_.count(f.id)) continue;
      auto r = row("rule " + f.id, std::string(report::to_string(status(current_, f.id))), "fail");
      r.change = ChangeClass::breaking;
      r.reason = f.requirement + ": " + f.detail;
      rows.push_back(std::move(r));
    }
    return rows;
  }

  // The check rules, judged as a rollover: what fails only with the next
  // certificate fails; what fails with both is a warning the switch does not change.
  std::vector<report::Finding> rule_findings() const {
    std::vector<report::Finding> out;
    for (const auto& next : in_.next.findings) {
      report::Finding f = next;
      const Status today = status(current_, f.id);
      if (next.status == Status::fail && today == Status::fail) {
        f.status = Status::warn;
        f.detail = "Fails today too, so the switch does not change it: " + next.detail;
      } else if (next.status == Status::fail) {
        f.detail = next.detail + " Today this " +
                   (today == Status::skip ? "is not judged" : std::string("passes")) +
                   ": the switch breaks it.";
      } else if (today == Status::fail) {
        auto it = current_.find(f.id);
        f.detail = next.detail +
                   " (The next certificate fixes what fails today: " + it->second->detail + ")";
      }
      out.push_back(std::move(f));
    }
    return out;
  }

  report::Finding key_usage_finding() const {
    auto f = finding(FindingId::rollover_key_usage,
                     "The next certificate keeps the key usages TLS needs for its key");
    about(f, nxt());
    if (lost_usages_.empty())
      return pass(f, "The next certificate allows " + joined(needed_key_usages(nxt())) +
                         " wherever the current one does.");
    if (key_usage_owner_)
      return skip(f, "The next certificate's key usage lacks " + joined(lost_usages_) +
                         ", which the current one has: " + id_text(*key_usage_owner_) +
                         " fails for it with the next certificate and is the finding to fix.");
    return fail(f,
                "The next certificate's key usage lacks " + joined(lost_usages_) +
                    ", which TLS needs of its " + nxt().key_type +
                    " key and the current certificate does not lack: a peer refuses the next "
                    "certificate in a handshake that needs it.",
                "Reissue the next certificate from a template whose key usage includes " +
                    joined(needed_key_usages(nxt())) +
                    " (AD CS: the template's Extensions > Key Usage; the Web Server and "
                    "Computer templates have it).");
  }

  report::Finding peer_intermediate_finding() const {
    auto f = finding(FindingId::rollover_peer_intermediate,
                     "Every new CA of the next chain is in the Lync/Skype pool's "
                     "intermediate/ store");
    about(f, nxt());
    if (!in_.peer)
      return skip(f,
                  "no Lync/Skype pool store given (--peer-store): whether the pool holds "
                  "the next chain's CAs is unknown");
    if (missing_in_peer_.empty())
      return pass(f, "The next chain brings no intermediate CA the pool lacks.");
    std::string names, files;
    for (const auto& [ca, file] : missing_in_peer_) {
      names +=
          (names.empty() ? "" : ", ") + in_quotes(ca.subject()) + " (SHA-256 " + ca.sha256() + ")";
      files += (files.empty() ? "" : ", ") +
               (file.empty() ? in_quotes(ca.subject()) : std::string(file));
    }
    about(f, missing_in_peer_.front().first.info());
    return fail(
        f,
        "The next certificate is issued under " + names +
            ", which the Lync/Skype pool's intermediate/ (" + in_.peer_store_name +
            ") does not hold; a pool that gets only BEMS's leaf, or builds chains from its own "
            "store as Windows does for certificates it must trust, cannot build the chain.",
        "Before the switch, copy " + files + " into the pool's intermediate/ (" +
            in_.peer_store_name +
            "): on every Front End server, Intermediate Certification Authorities > "
            "Certificates (certlm.msc, or Import-Certificate -CertStoreLocation "
            "Cert:\\LocalMachine\\CA).");
  }

  report::Finding switch_date_finding() const {
    auto f = finding(FindingId::rollover_switch_date,
                     "The current certificate lasts until the switch date");
    about(f, cur());
    if (!in_.switch_at) return skip(f, "no --at DATE: the switch is judged as happening now");
    if (cur().not_after < *in_.switch_at)
      return fail(f,
                  "The current certificate expires on " + rfc3339(cur().not_after) +
                      ", before the switch on " + rfc3339(*in_.switch_at) +
                      ": BEMS has no valid certificate in between.",
                  "Switch no later than " + rfc3339(cur().not_after) +
                      " (Set-CsCertificate -Roll -EffectiveDate on the Lync side, the "
                      "Personal store on BEMS).");
    return pass(f, "The current certificate is valid until " + rfc3339(cur().not_after) +
                       ", after the switch on " + rfc3339(*in_.switch_at) + ".");
  }

  report::Finding risky_finding(const std::vector<ComparisonRow>& rows) const {
    auto f = finding(FindingId::rollover_risky, "No change that some peers may refuse");
    about(f, nxt());
    std::string risky;
    for (const auto& r : rows)
      if (r.change == ChangeClass::risky)
        risky += (risky.empty() ? "" : " ") + r.field + ": " + r.reason;
    if (risky.empty()) return pass(f, "Every change is breaking (judged above) or neutral.");
    return warn(f, risky,
                "Rehearse the switch against the real pool (mtlsprobe rollover --live) "
                "before the date, or remove the change from the next certificate.");
  }

  const RolloverInputs& in_;
  std::map<std::string, const report::Finding*> current_, next_;
  std::set<std::string> explained_;
  std::vector<std::string> lost_usages_;  // lost by the switch
  // The requirement finding that fails for lost_usages_ with the next
  // certificate (bems.eku for digitalSignature); none: rollover.key-usage.
  std::optional<FindingId> key_usage_owner_;
  std::vector<std::pair<tls::Certificate, std::string>> missing_in_peer_;
};

// One live observation, as a table cell and whether it went well.
struct Observed {
  bool ok = false;
  std::string text;
};

const report::Finding* find_in(const report::Report& report, FindingId id) {
  const std::string text = id_text(id);
  for (const auto& f : report.findings)
    if (f.id == text) return &f;
  return nullptr;
}

// The first sentence of a finding's detail: a table cell, not the whole story.
std::string first_sentence(const std::string& detail) {
  const auto end = detail.find(". ");
  return end == std::string::npos ? detail : detail.substr(0, end + 1);
}

Observed handshake_outcome(const report::Report& report) {
  for (FindingId id :
       {FindingId::handshake_tcp, FindingId::handshake_protocol,
        FindingId::handshake_no_client_cert, FindingId::handshake_peer_rejected_us}) {
    const report::Finding* f = find_in(report, id);
    if (f && f->status == Status::fail)
      return {false, (id == FindingId::handshake_peer_rejected_us ? "rejected: " : "failed: ") +
                         first_sentence(f->detail) + " (" + f->id + ")"};
  }
  const report::Finding* verdict = find_in(report, FindingId::handshake_peer_rejected_us);
  if (verdict && verdict->status == Status::skip)
    return {true, "completed; the peer's verdict was not waited for"};
  return {true, "accepted"};
}

// `skip_ok`: a skipped finding is no failure (an empty acceptable-CA list is
// Windows Server 2012's default); for SIP a skip means no answer came.
Observed finding_outcome(const report::Report& report, FindingId id, const std::string& good,
                         bool skip_ok) {
  const report::Finding* f = find_in(report, id);
  if (!f) return {false, "(not judged)"};
  if (f->status == Status::pass) return {true, good};
  return {f->status == Status::warn || (skip_ok && f->status == Status::skip),
          std::string(report::to_string(f->status)) + ": " + first_sentence(f->detail)};
}

}  // namespace

namespace {

struct LiveRow {
  std::string field;
  Observed before, after;
  std::string breaks;  // why the next failing where the current passed breaks the switch
};

std::vector<LiveRow> live_rows_of(const LiveRehearsal& live) {
  std::vector<LiveRow> live_rows;
  live_rows.push_back({"live: handshake", handshake_outcome(*live.current),
                       handshake_outcome(*live.next),
                       "The pool accepts the current certificate and refuses the next one."});
  live_rows.push_back(
      {"live: acceptable CAs",
       finding_outcome(*live.current, FindingId::handshake_ca_list, "names our issuer or root",
                       true),
       finding_outcome(*live.next, FindingId::handshake_ca_list, "names our issuer or root", true),
       "The pool's acceptable-CA list names neither the next issuer nor its root: clients that "
       "honour it (schannel, Java) do not offer the next certificate at all."});
  if (live.sip)
    live_rows.push_back(
        {"live: SIP OPTIONS",
         finding_outcome(*live.current, FindingId::sip_options, "200 OK", false),
         finding_outcome(*live.next, FindingId::sip_options, "200 OK", false),
         "SIP OPTIONS over MTLS gets its answer with the current certificate, not with the next."});
  return live_rows;
}

}  // namespace

namespace {

// Why the pool's store refused BEMS's chain, naming the CA it lacks as what
// it is in BEMS's own chain (a root to trust, an intermediate to add).
std::string pool_refusal(const tls::ChainVerification& verification,
                         const std::vector<tls::Certificate>* chain) {
  const auto& at = verification.error_certificate;
  if (at && verification.reason == tls::ChainError::untrusted_self_signed)
    return "the pool does not trust the root " + in_quotes(at->subject);
  if (at && verification.reason == tls::ChainError::issuer_not_found) {
    const tls::Certificate* issuer = nullptr;
    if (chain)
      for (const auto& c : *chain)
        if (c.subject() == at->issuer) issuer = &c;
    if (issuer && issuer->self_signed())
      return "the pool does not trust the root " + in_quotes(at->issuer);
    if (issuer)
      return "the pool's intermediate/ lacks " + in_quotes(at->issuer) +
             " and BEMS does not send it";
    return "the pool finds no issuer " + in_quotes(at->issuer) + " in its store";
  }
  return "the pool refuses BEMS's certificate: " + verification.error;
}

struct ReverseObserved : Observed {
  bool bems_refuses_pool = false;  // the fix is then in BEMS's next store, not in the pool
};

ReverseObserved reverse_outcome(const ReverseDial& dial) {
  const tls::HandshakeRecord& pool = *dial.pool;
  std::vector<std::string> refusals;
  if (pool.peer_verification && !pool.peer_verification->trusted)
    refusals.push_back(pool_refusal(*pool.peer_verification, dial.chain));
  // TLS 1.3 tells the client BEMS's verdict late or not at all; the
  // server's own record has it.
  const bool bems_distrusts =
      dial.bems && dial.bems->peer_verification && !dial.bems->peer_verification->trusted;
  if (bems_distrusts)
    refusals.push_back("BEMS refuses the pool's certificate: " +
                       dial.bems->peer_verification->error);
  else if (pool.peer_rejected_us)
    refusals.push_back(
        "BEMS refuses the pool's certificate" +
        (pool.rejection_alert ? " with " + pool.rejection_alert->name : std::string()));
  ReverseObserved observed;
  observed.bems_refuses_pool = bems_distrusts || pool.peer_rejected_us;
  if (!refusals.empty())
    observed.text = "refused: " + tls::joined(refusals, "; ");
  else if (!pool.ok())
    observed.text = "failed: " + pool.error_message;
  else
    observed = {{true, "accepted"}, false};
  return observed;
}

}  // namespace

void judge_live(const std::string& name, const std::vector<LiveRehearsal>& rehearsals,
                const std::optional<ReverseRehearsal>& reverse, RolloverVerdict& verdict) {
  const bool several = rehearsals.size() > 1;
  std::vector<std::string> broken, both_failed, accepting;
  bool sip = false;
  for (const auto& live : rehearsals) {
    sip = sip || live.sip;
    const std::string at = several ? " at " + live.address : std::string();
    std::vector<std::string> broken_here;
    bool fails_here = false;
    for (const auto& live_row : live_rows_of(live)) {
      fails_here = fails_here || !live_row.after.ok;
      ComparisonRow r = row(live_row.field + at, live_row.before.text, live_row.after.text);
      if (live_row.before.ok && !live_row.after.ok) {
        r.change = ChangeClass::breaking;
        r.reason = live_row.breaks + " (" + id_text(FindingId::rollover_live) + ")";
        broken_here.push_back(live_row.field + ": " + live_row.after.text);
      } else if (r.before != r.after) {
        r.change = ChangeClass::neutral;
        r.reason = live_row.after.ok ? "The next certificate does at least as well as the current."
                                     : "Fails with the current certificate too.";
        if (!live_row.after.ok) both_failed.push_back(r.field);
      } else if (!live_row.after.ok) {
        both_failed.push_back(r.field);
      }
      verdict.comparison.rows.push_back(std::move(r));
    }
    if (!broken_here.empty())
      broken.push_back((several ? live.target + ": " : std::string()) +
                       tls::joined(broken_here, "; "));
    else if (!fails_here)
      accepting.push_back(live.address);
  }

  // Both directions' defects in one finding: an untrusted next root fails
  // them both, and it is one defect.
  std::string reverse_broken, reverse_note;
  bool bems_refuses_pool = false;
  if (reverse) {
    const ReverseObserved before = reverse_outcome(reverse->current);
    const ReverseObserved after = reverse_outcome(reverse->next);
    ComparisonRow r = row("live: pool -> BEMS handshake", before.text, after.text);
    if (before.ok && !after.ok) {
      r.change = ChangeClass::breaking;
      r.reason = "With its own store (" + reverse->peer_store_name +
                 "), the pool dialling BEMS accepts the current certificate and refuses the "
                 "next one (" +
                 id_text(FindingId::rollover_live) + ").";
      reverse_broken = after.text;
    } else if (r.before != r.after) {
      r.change = ChangeClass::neutral;
      r.reason = after.ok ? "The next certificate does at least as well as the current."
                          : "Fails with the current certificate too.";
    }
    if (!after.ok && reverse_broken.empty()) both_failed.push_back(r.field);
    bems_refuses_pool = after.bems_refuses_pool && !before.bems_refuses_pool;
    reverse_note = " When the pool dials BEMS (a loopback rehearsal with the pool's store, " +
                   reverse->peer_store_name + ")";
    verdict.comparison.rows.push_back(std::move(r));
  }

  auto f = finding(FindingId::rollover_live,
                   "The real pool accepts the next certificate as it accepts the current one");
  if (!broken.empty() || !reverse_broken.empty()) {
    // Some servers of one pool refusing is a pool whose Front Ends differ.
    const std::string others =
        several && !accepting.empty()
            ? " The other addresses (" + tls::joined(accepting) +
                  ") accept the next certificate: the pool's servers do not trust the same CAs."
            : std::string();
    std::string detail;
    if (!broken.empty())
      detail = "Against " + name + ", with the next certificate: " + tls::joined(broken, "; ") +
               ". With the current certificate the same steps succeed." + others;
    if (!reverse_broken.empty())
      detail += (detail.empty() ? reverse_note.substr(1) : reverse_note) +
                ", with the next certificate: " + reverse_broken +
                ". With the current certificate it succeeds.";
    fail(f, detail,
         "Do not switch yet: make the pool trust the next chain (its root in the pool's Trusted "
         "Root Certification Authorities, its issuing CA in Intermediate Certification "
         "Authorities, on every Front End)" +
             std::string(bems_refuses_pool
                             ? ", and give BEMS's next store the pool's root (trusted-root/) "
                               "and intermediates (intermediate/)"
                             : "") +
             ", then rehearse again.");
  } else if (!both_failed.empty()) {
    warn(f,
         "Against " + name + ", " + tls::joined(both_failed) +
             " fail with the current certificate too, so the switch does not change them.",
         "See the handshake findings of `mtlsprobe connect` against the same target.");
  } else {
    pass(f, "Against " + name +
                (several ? " (every address: " + tls::joined(accepting) + ")" : "") +
                ", the pool accepts the next certificate as it accepts the current one" +
                (sip ? ", and SIP OPTIONS gets its answer with both." : ".") +
                (reverse ? reverse_note + ", it accepts the next certificate too." : ""));
  }
  verdict.findings.push_back(std::move(f));
}

RolloverVerdict judge_rollover(const RolloverInputs& inputs) { return Judge(inputs).run(); }

std::vector<std::string> instances_from_san(const tls::CertificateInfo& current,
                                            const std::string& pool) {
  std::vector<std::string> instances;
  for (const auto& name : current.san_dns)
    if (lower(name) != lower(pool) && name.find('*') == std::string::npos &&
        tls::is_valid_fqdn(name) && !contains_name(instances, name))
      instances.push_back(name);
  return instances;
}

std::optional<tls::Clock::time_point> parse_switch_date(const std::string& text) {
  // std::get_time accepts an input cut short at its end, so the length decides the form.
  const bool instant = text.size() == 20 && text.back() == 'Z';
  if (text.size() != 10 && !instant) return std::nullopt;
  std::tm parts{};
  std::istringstream stream(instant ? text.substr(0, 19) : text);
  stream >> std::get_time(&parts, instant ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d");
  if (stream.fail() || stream.peek() != std::char_traits<char>::eof()) return std::nullopt;
  const std::time_t seconds = timegm(&parts);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return tls::Clock::from_time_t(seconds);
}

}  // namespace probe
