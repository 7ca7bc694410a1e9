#pragma once
// The vendor's MTLS certificate requirements as rules: store facts in,
// findings out. No I/O here: stores are loaded by the caller.
#include <optional>
#include <string>
#include <vector>

#include "probe/findings.hpp"
#include "report/model.hpp"
#include "tls/certificate.hpp"
#include "tls/dns_name.hpp"
#include "tls/store.hpp"

namespace probe {

struct OfflineInputs {
  const tls::Store* bems = nullptr;  // our side; required
  const tls::Store* lync = nullptr;  // the Lync/Skype pool's store; optional
  std::optional<std::string> pool;   // trusted application pool FQDN (default: the BEMS CN)
  std::vector<std::string> instances;
  int warn_days = 30;
  tls::Clock::time_point now = tls::Clock::now();
};

std::vector<report::Finding> evaluate_offline(const OfflineInputs& inputs);

// The chain of one side (leaf first) as far as every store given can build it.
std::vector<tls::Certificate> side_chain(const OfflineInputs& inputs, Side side);

}  // namespace probe
