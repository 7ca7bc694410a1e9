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
    spool(target.index.value_or(streamed_), streamed::text_target(target, header_, text_));
  } else if (format_ == Format::json) {
    out_ << streamed::json_target(target, streamed_ == 0) << std::flush;
  } else {
    // Suites in the table's order too (CI views list them as written).
    spool(target.index.value_or(streamed_), streamed::junit_target(target, header_));
  }
  ++streamed_;
  if (fails(target, header_.strict)) ++streamed_failing_;
}

void TargetStream::spool(std::size_t order, const std::string& text) {
  if (text.empty()) return;
  if (!spool_tried_) {
    spool_tried_ = true;
    spool_.reset(std::tmpfile());
  }
  Spooled entry{order, spooled_bytes_, text.size(), {}};
  if (spool_ && !spool_failed_ &&
      std::fwrite(text.data(), 1, text.size(), spool_.get()) == text.size()) {
    spooled_bytes_ += static_cast<long>(text.size());
  } else {
    // What a failed write left in the file lies past every entry's text;
    // from here on the text stays in memory.
    spool_failed_ = true;
    entry.text = text;
  }
  spooled_.push_back(std::move(entry));
}

void TargetStream::copy_spool() {
  std::stable_sort(spooled_.begin(), spooled_.end(),
                   [](const Spooled& a, const Spooled& b) { return a.order < b.order; });
  const bool readable = spool_ && std::fflush(spool_.get()) == 0;
  char buffer[64 * 1024];
  for (const Spooled& entry : spooled_) {
    if (!entry.text.empty()) {
      out_ << entry.text;
      continue;
    }
    if (!readable || std::fseek(spool_.get(), entry.offset, SEEK_SET) != 0) continue;
    for (std::size_t left = entry.length; left > 0;) {
      const std::size_t got = std::fread(buffer, 1, std::min(left, sizeof buffer), spool_.get());
      if (got == 0) break;
      out_.write(buffer, static_cast<std::streamsize>(got));
      left -= got;
    }
  }
  spool_.reset();
  spooled_.clear();
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
    copy_spool();
    out_ << streamed::junit_tail(run, streamed_ > 0);
  }
  out_.flush();
  return run;
}

}  // namespace report
