#include "probe/rules/rules.hpp"

namespace probe::rules {

report::Finding finding(std::string id, const char* requirement, std::string title) {
  report::Finding f;
  f.id = std::move(id);
  f.requirement = requirement;
  f.title = std::move(title);
  return f;
}

report::Finding& about(report::Finding& f, const tls::CertificateInfo& info) {
  f.certificate = certificate_ref(info);
  return f;
}

report::Finding& pass(report::Finding& f, std::string detail) {
  f.status = report::Status::pass;
  f.detail = std::move(detail);
  f.remedy.clear();
  return f;
}

report::Finding& warn(report::Finding& f, std::string detail, std::string remedy) {
  f.status = report::Status::warn;
  f.detail = std::move(detail);
  f.remedy = std::move(remedy);
  return f;
}

report::Finding& fail(report::Finding& f, std::string detail, std::string remedy) {
  f.status = report::Status::fail;
  f.detail = std::move(detail);
  f.remedy = std::move(remedy);
  return f;
}

report::Finding& skip(report::Finding& f, std::string reason) {
  f.status = report::Status::skip;
  f.detail = std::move(reason);
  f.remedy.clear();
  return f;
}

tls::VerifyPolicy structural_policy(const tls::Store& judge) {
  tls::VerifyPolicy policy;
  policy.check_time = false;
  policy.strict = false;
  policy.system_roots = judge.system_roots;
  return policy;
}

std::string in_quotes(const std::string& name) { return "'" + name + "'"; }

KnownCertificates collect_known(const OfflineInputs& inputs) {
  KnownCertificates known;
  auto add = [&](const tls::StoredCertificate& stored) {
    known.all.push_back(stored.certificate);
    known.with_source.emplace_back(stored.certificate, stored.file.string());
  };
  for (const tls::Store* store : {inputs.bems, inputs.lync}) {
    if (!store) continue;
    for (const auto& stored : store->personal_extras) add(stored);
    for (const auto& stored : store->intermediates) add(stored);
    for (const auto& stored : store->trusted_roots) add(stored);
  }
  return known;
}

}  // namespace probe::rules
