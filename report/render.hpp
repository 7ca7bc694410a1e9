#pragma once
// Renderers of the one result model.
#include <string>

#include "report/model.hpp"

namespace report {

enum class Format { text, json, junit, prometheus };

struct TextOptions {
  bool color = false;    // ANSI colour; the caller decides (terminal and no --no-color)
  bool verbose = false;  // also print passing findings' details
};

std::string render_text(const Report& report, const TextOptions& options);
std::string render_json(const Report& report);   // pretty-printed, stable field names
std::string render_junit(const Report& report);  // one <testcase> per finding

// The pieces of a report over many targets written while its targets finish
// (report/target_stream.hpp): the head, one piece per target as it finishes,
// then the tail with what depends on every target. `run` has no `targets`.
namespace streamed {
// Text: the head (tables and the run's own findings), each target's details
// (empty for a passing target unless verbose), then the summary line.
std::string text_head(const Report& run, const TextOptions& options);
std::string text_target(const Report& target, const Report& run, const TextOptions& options);
std::string text_tail(const Report& run, const TextOptions& options);
std::string json_head(const Report& run);
std::string json_target(const Report& target, bool first);
std::string json_tail(const Report& run, bool any_target);
std::string junit_head(const Report& run);
std::string junit_target(const Report& target, const Report& run);
std::string junit_tail(const Report& run, bool any_target);
}  // namespace streamed

}  // namespace report
