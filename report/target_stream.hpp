#pragma once
// A report over many targets (every address of a pool, SRV targets, a targets
// file) written while its targets finish, so that memory does not grow with
// the targets already done: JSON and JUnit write each finished target's part
// at once and keep only its verdict; text, which opens with the table, keeps
// the table rows and the targets it details (the failing ones, every one under
// --verbose) and writes at the end. Not thread-safe: the caller serialises.
#include <cstddef>
#include <ostream>
#include <vector>

#include "report/model.hpp"
#include "report/render.hpp"

namespace report {

class TargetStream {
 public:
  // `run` is the header (tool, version, command, generated_at, strict);
  // nothing is written before the first target or finish(), so a run that
  // stops before its targets (a DNS option refused) leaves no half report.
  TargetStream(Format format, const TextOptions& text, const Report& run, std::ostream& out);

  // One finished target, in the order they finish.
  void add(Report target);

  // `run` holds what is about the run as a whole (tables, findings, facts)
  // and no targets; the rest of the report is written. Returns the run as
  // rendered, counting every target added, for the exit code.
  Report finish(Report run);

 private:
  void start();  // the head, once
  Format format_;
  TextOptions text_;
  Report header_;  // the run's header fields and strict, no findings
  std::ostream& out_;
  std::size_t streamed_ = 0, streamed_failing_ = 0;
  bool started_ = false;
  std::vector<Report> kept_;  // text: the targets it details
};

}  // namespace report
