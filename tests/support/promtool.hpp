#pragma once
// `promtool check metrics` (Debian's prometheus package) on an exposition:
// the format and Prometheus's naming lint, as the real parser sees them.
#include <string>

#include "tests/support/process.hpp"

namespace testing {

// Empty when promtool accepts `exposition` without a remark; else what it said.
inline std::string promtool_problems(const std::string& exposition) {
  auto result =
      run_process({"promtool", "check", "metrics"}, std::chrono::seconds(30), {}, exposition);
  if (result.exit_code == 0 && result.out.empty() && result.err.empty()) return "";
  return "promtool exit " + std::to_string(result.exit_code) + ": " + result.out + result.err;
}

}  // namespace testing
