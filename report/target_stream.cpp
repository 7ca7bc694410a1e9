#include "report/target_stream.hpp"

#include <utility>

namespace report {

TargetStream::TargetStream(Format format, const TextOptions& text, const Report& run,
                           std::ostream& out)
    : format_(format), text_(text), out_(out) {
  header_.tool = run.tool;
  header_.version = run.version;
  header_.command = run.command;
  header_.generated_at = run.generated_at;
  header_.strict = run.strict;
}

void TargetStream::start() {
  if (started_) return;
  started_ = true;
  if (format_ == Format::json) out_ << streamed::json_head(header_);
  if (format_ == Format::junit) out_ << streamed::junit_head(header_);
}

void TargetStream::add(Report target) {
  start();
  target.strict = header_.strict;
  if (format_ == Format::text) {
    if (fails(target, header_.strict) || text_.verbose) {
      kept_.push_back(std::move(target));
      return;
    }
  } else if (format_ == Format::json) {
    out_ << streamed::json_target(target, streamed_ == 0) << std::flush;
  } else {
    out_ << streamed::junit_target(target, header_) << std::flush;
  }
  ++streamed_;
  if (fails(target, header_.strict)) ++streamed_failing_;
}

Report TargetStream::finish(Report run) {
  start();
  run.strict = header_.strict;
  run.targets = std::move(kept_);
  run.streamed_targets = streamed_;
  run.streamed_failing = streamed_failing_;
  if (format_ == Format::text) {
    out_ << render_text(run, text_);
  } else if (format_ == Format::json) {
    out_ << streamed::json_tail(run, streamed_ > 0);
  } else {
    out_ << streamed::junit_tail(run, streamed_ > 0);
  }
  out_.flush();
  return run;
}

}  // namespace report
