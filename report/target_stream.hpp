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
  void spool(std::size_t order, const std::string& text);
  void copy_spool();
  Format format_;
  TextOptions text_;
  Report header_;  // the run's header fields and strict, no findings
  std::ostream& out_;
  std::size_t streamed_ = 0, streamed_failing_ = 0;
  bool started_ = false;
  // Text and JUnit: the details (suites) written so far. The file has no name (std::tmpfile),
  // so it goes when the run ends however it ends. Each detailed target keeps
  // only where its text lies, so that finish() copies them out in the order
  // of the table (Report::index) whatever order they finished in. Without a
  // file (no writable temporary folder, a failed write) the rest is kept in
  // memory.
  struct CloseFile {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  struct Spooled {
    std::size_t order = 0;  // the target's index, else the order it came in
    long offset = 0;        // in the file, when `text` is empty
    std::size_t length = 0;
    std::string text;  // kept in memory
  };
  std::unique_ptr<std::FILE, CloseFile> spool_;
  bool spool_tried_ = false, spool_failed_ = false;
  long spooled_bytes_ = 0;
  std::vector<Spooled> spooled_;
};

}  // namespace report
