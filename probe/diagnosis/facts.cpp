#include "probe/diagnosis/facts.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <ctime>

namespace probe {
namespace {

boost::json::array strings(const std::vector<std::string>& items) {
  boost::json::array array;
  for (const auto& item : items) array.emplace_back(item);
  return array;
}

}  // namespace

std::string rfc3339(tls::Clock::time_point when) {
  // tls/ clamps dates past 2262 (the clock's end) to max(): show them as
  // RFC 5280's "no well-defined expiry" date, not as 2262-04-11.
  if (when == tls::Clock::time_point::max()) return "9999-12-31T23:59:59Z";
  std::time_t t = tls::Clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

std::string milliseconds_text(double milliseconds) {
  return std::to_string(static_cast<long long>(milliseconds + 0.5)) + " ms";
}

std::string age_text(std::chrono::seconds age) {
  const long long s = std::max<long long>(0, age.count());
  if (s < 120) return std::to_string(s) + " s";
  if (s < 2 * 3600) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

std::string template_text(const tls::CertificateInfo& info) {
  if (info.template_id.empty()) return {};
  if (info.template_major < 0) return info.template_id;
  return info.template_id + " v" + std::to_string(info.template_major) +
         (info.template_minor < 0 ? std::string() : "." + std::to_string(info.template_minor));
}

boost::json::object certificate_json(const tls::CertificateInfo& info) {
  boost::json::object object;
  object["subject"] = info.subject;
  object["issuer"] = info.issuer;
  object["serial"] = info.serial_hex;
  object["sha256"] = info.sha256;
  object["not_before"] = rfc3339(info.not_before);
  object["not_after"] = rfc3339(info.not_after);
  object["san_dns"] = strings(info.san_dns);
  object["san_ip"] = strings(info.san_ip);
  object["eku"] = strings(info.eku);
  object["key_usage"] = strings(info.key_usage);
  object["application_policies"] = strings(info.application_policies);
  object["key"] = info.key_type + (info.curve.empty() ? "" : " " + info.curve) + " " +
                  std::to_string(info.key_bits);
  object["signature"] = info.signature_algorithm;
  object["is_ca"] = info.is_ca;
  object["self_signed"] = info.self_signed;
  object["crl_urls"] = strings(info.crl_urls);
  object["ocsp_urls"] = strings(info.ocsp_urls);
  object["policies"] = strings(info.policies);
  object["template"] = template_text(info);
  return object;
}

boost::json::object revocation_json(const tls::RevocationStatus& status) {
  boost::json::object o;
  auto when = [](const std::optional<tls::Clock::time_point>& time) -> boost::json::value {
    if (!time) return nullptr;
    return boost::json::value(rfc3339(*time));
  };
  o["status"] = tls::to_string(status.kind);
  o["source"] = tls::to_string(status.source);
  o["url"] = status.url;
  o["this_update"] = when(status.this_update);
  o["next_update"] = when(status.next_update);
  o["age_seconds"] = status.this_update ? boost::json::value(status.age.count()) : nullptr;
  o["stale"] = status.stale;
  o["revocation_time"] = when(status.revocation_time);
  o["reason"] = status.reason;
  o["error"] = status.error;
  o["elapsed_ms"] = status.elapsed.count();
  boost::json::array attempts;
  for (const auto& attempt : status.attempts) {
    boost::json::object a;
    a["source"] = tls::to_string(attempt.source);
    a["url"] = attempt.url;
    a["outcome"] = tls::to_string(attempt.outcome);
    a["error"] = attempt.error;
    a["elapsed_ms"] = attempt.elapsed.count();
    a["from_cache"] = attempt.from_cache;
    attempts.push_back(std::move(a));
  }
  o["attempts"] = std::move(attempts);
  return o;
}

std::string revocation_text(const tls::RevocationStatus& status) {
  const std::string source = tls::to_string(status.source);
  const std::string age = status.this_update ? age_text(status.age) + " old" : "";
  switch (status.kind) {
    case tls::RevocationStatus::good:
      return "good (" + source + (age.empty() ? "" : ", " + age) + ")";
    case tls::RevocationStatus::revoked:
      return "REVOKED" +
             (status.revocation_time ? " since " + rfc3339(*status.revocation_time) : "") +
             (status.reason.empty() ? "" : ", reason " + status.reason) + " (" + source + ")";
    default:
      return tls::to_string(status.kind) + (status.error.empty() ? "" : ": " + status.error);
  }
}

boost::json::object store_json(const tls::Store& store) {
  boost::json::object object;
  if (store.leaf) {
    object["certificate"] = certificate_json(store.leaf->certificate.info());
    object["certificate_file"] = store.leaf->file.string();
  } else {
    object["certificate"] = nullptr;
  }
  object["key_file"] = store.key_file ? boost::json::value(store.key_file->string()) : nullptr;
  auto list = [](const std::vector<tls::StoredCertificate>& stored) {
    boost::json::array array;
    for (const auto& entry : stored) {
      boost::json::object item;
      item["subject"] = entry.certificate.subject();
      item["sha256"] = entry.certificate.sha256();
      item["file"] = entry.file.string();
      array.push_back(std::move(item));
    }
    return array;
  };
  object["trusted_roots"] = list(store.trusted_roots);
  object["intermediates"] = list(store.intermediates);
  object["personal_extras"] = list(store.personal_extras);
  object["system_roots"] = store.system_roots;
  return object;
}

report::Section store_section(const std::string& title, const tls::Store& store) {
  report::Section section{title, {}};
  if (store.leaf) {
    const auto& info = store.leaf->certificate.info();
    section.lines.emplace_back("certificate",
                               info.subject + "  (" + store.leaf->file.string() + ")");
    section.lines.emplace_back("issuer", info.issuer);
    section.lines.emplace_back("valid",
                               rfc3339(info.not_before) + " .. " + rfc3339(info.not_after));
    std::string san;
    for (const auto& name : info.san_dns) san += (san.empty() ? "" : ", ") + name;
    section.lines.emplace_back("SAN", san.empty() ? "(none)" : san);
  } else {
    section.lines.emplace_back("certificate", "(none found)");
  }
  section.lines.emplace_back("private key",
                             store.key_file ? store.key_file->string() : "(none found)");
  section.lines.emplace_back("trusted roots", std::to_string(store.trusted_roots.size()) +
                                                  (store.system_roots ? " + system roots" : ""));
  section.lines.emplace_back("intermediates", std::to_string(store.intermediates.size()));
  return section;
}

}  // namespace probe
