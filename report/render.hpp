#pragma once
// Renderers of the one result model.
#include <string>

#include "report/model.hpp"

namespace report {

enum class Format { text, json, junit };

struct TextOptions {
  bool color = false;    // ANSI colour; the caller decides (terminal and no --no-color)
  bool verbose = false;  // also print passing findings' details
};

std::string render_text(const Report& report, const TextOptions& options);
std::string render_json(const Report& report);   // pretty-printed, stable field names
std::string render_junit(const Report& report);  // one <testcase> per finding

}  // namespace report
