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

std::string_view to_string(ChangeClass change_class) {
  switch (change_class) {
    case ChangeClass::breaking:
      return "breaking";
    case ChangeClass::risky:
      return "risky";
    case ChangeClass::neutral:
      return "neutral";
  }
  return "neutral";
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

bool fails_run(const Report& report, const Finding& finding) {
  return finding.status == Status::fail || (report.strict && finding.status == Status::warn);
}

bool fails(const Report& report, bool strict) {
  for (const Finding& finding : report.findings)
    if (finding.status == Status::fail || (strict && finding.status == Status::warn)) return true;
  for (const Report& target : report.targets)
    if (fails(target, strict)) return true;
  return report.streamed_failing > 0;
}

std::size_t target_count(const Report& report) {
  return report.targets.size() + report.streamed_targets;
}

std::size_t failing_targets(const Report& report) {
  std::size_t failing = report.streamed_failing;
  for (const Report& target : report.targets)
    if (fails(target, report.strict)) ++failing;
  return failing;
}

Status overall(const Report& report) {
  return fails(report, report.strict) ? Status::fail : Status::pass;
}

int exit_code(const Report& report) {
  return overall(report) == Status::fail ? kExitFail : kExitPass;
}

}  // namespace report
