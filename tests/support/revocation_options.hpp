#pragma once
// Revocation options for loopback tests: no proxy from the environment, and a
// 5 s per-request timeout so a broken test server cannot stall the suite.
#include "tls/revocation.hpp"

namespace testing {

inline tls::RevocationOptions quick_revocation(tls::RevocationMode mode) {
  tls::RevocationOptions options;
  options.mode = mode;
  options.http.proxy = "";
  options.http.timeout = std::chrono::seconds(5);
  return options;
}

}  // namespace testing
