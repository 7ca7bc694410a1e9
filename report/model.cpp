#include "report/model.hpp"

namespace report {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::skip:
      return "skip";
  }
  return "skip";
}

Counts count(const Report& report) {
  Counts counts;
  for (const Finding& finding : report.findings) {
    switch (finding.status) {
      case Status::pass:
        ++counts.pass;
        break;
      case Status::warn:
        ++counts.warn;
        break;
      case Status::fail:
        ++counts.fail;
        break;
      case Status::skip:
        ++counts.skip;
        break;
    }
  }
  return counts;
}

int exit_code(const Report& report, bool strict) {
  Counts counts = count(report);
  if (counts.fail > 0 || (strict && counts.warn > 0)) return kExitFail;
  return kExitPass;
}

}  // namespace report
