#pragma once
// A report over many targets (every address of a pool, SRV targets, a targets
// file) written while its targets finish, so that memory does not grow with
// the targets already done: JSON and JUnit write each finished target's part
// at once and keep only its verdict. Text opens with the table, which needs
// every target, so each detailed target's text (the failing ones, every one
// under --verbose) goes to an unnamed temporary file as it finishes and is
// copied out after the table. Not thread-safe: the caller serialises.
#include <cstddef>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>

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
  void spool(const std::string& text);
  void copy_spool();
  Format format_;
  TextOptions text_;
  Report header_;  // the run's header fields and strict, no findings
  std::ostream& out_;
  std::size_t streamed_ = 0, streamed_failing_ = 0;
  bool started_ = false;
  // Text: the details written so far. The file has no name (std::tmpfile),
  // so it goes when the run ends however it ends. Without one (no writable
  // temporary folder, a failed write) the rest is kept in `unspooled_`.
  struct CloseFile {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, CloseFile> spool_;
  bool spool_tried_ = false;
  long spooled_bytes_ = 0;
  std::string unspooled_;
};

}  // namespace report
