#include "probe/rules/rules.hpp"

namespace probe::rules {

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
