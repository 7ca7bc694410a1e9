#include "report/target_stream.hpp"

#include <algorithm>
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
    spool(streamed::text_target(target, header_, text_));
  } else if (format_ == Format::json) {
    out_ << streamed::json_target(target, streamed_ == 0) << std::flush;
  } else {
    out_ << streamed::junit_target(target, header_) << std::flush;
  }
  ++streamed_;
  if (fails(target, header_.strict)) ++streamed_failing_;
}

void TargetStream::spool(const std::string& text) {
  if (text.empty()) return;
  if (!spool_tried_) {
    spool_tried_ = true;
    spool_.reset(std::tmpfile());
  }
  if (spool_ && unspooled_.empty() &&
      std::fwrite(text.data(), 1, text.size(), spool_.get()) == text.size()) {
    spooled_bytes_ += static_cast<long>(text.size());
    return;
  }
  // What a failed write left in the file is past spooled_bytes_ and never
  // copied out; from here on the text stays in memory, after the file's.
  unspooled_ += text;
}

void TargetStream::copy_spool() {
  if (spool_ && std::fflush(spool_.get()) == 0 && std::fseek(spool_.get(), 0, SEEK_SET) == 0) {
    char buffer[64 * 1024];
    long left = spooled_bytes_;
    while (left > 0) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<long>(left, static_cast<long>(sizeof buffer)));
      const std::size_t got = std::fread(buffer, 1, want, spool_.get());
      if (got == 0) break;
      out_.write(buffer, static_cast<std::streamsize>(got));
      left -= static_cast<long>(got);
    }
  }
  spool_.reset();
  out_ << unspooled_;
  unspooled_.clear();
}

Report TargetStream::finish(Report run) {
  start();
  run.strict = header_.strict;
  run.targets.clear();
  run.streamed_targets = streamed_;
  run.streamed_failing = streamed_failing_;
  if (format_ == Format::text) {
    out_ << streamed::text_head(run, text_);
    copy_spool();
    out_ << streamed::text_tail(run, text_);
  } else if (format_ == Format::json) {
    out_ << streamed::json_tail(run, streamed_ > 0);
  } else {
    out_ << streamed::junit_tail(run, streamed_ > 0);
  }
  out_.flush();
  return run;
}

}  // namespace report
