#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "report/render.hpp"
#include "report/utf8.hpp"

namespace report {
namespace {

constexpr std::size_t kWidth = 100;
constexpr std::size_t kFindingIndent = 2;
constexpr std::size_t kDetailIndent = 8;  // under the id, past "  FAIL  "

// Certificate fields and peer-supplied text reach a terminal here. Control characters are
// shown as \xNN so an ESC in a subject cannot move the cursor or recolour the screen, and
// format characters as \uXXXX so a right-to-left override cannot make a forged CN read as
// the real pool name; a reader still sees that something odd is there. Newlines are kept:
// callers split on them.
std::string printable(std::string_view raw) {
  // Most text is plain ASCII with nothing to escape: copied as it is.
  if (std::all_of(raw.begin(), raw.end(),
                  [](char c) { return (c >= 0x20 && c < 0x7F) || c == '\n'; }))
    return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t pos = 0; pos < raw.size();) {
    const char32_t c = next_code_point(raw, pos);
    if (c == '\n') {
      out += '\n';
    } else if (c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned>(c));
      out += escaped;
    } else if (is_format_character(c)) {
      char escaped[12];
      if (c > 0xFFFF)
        std::snprintf(escaped, sizeof escaped, "\\U%08X", static_cast<unsigned>(c));
      else
        std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(c));
      out += escaped;
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

// Terminal columns a printable string takes: CJK names take two per character, combining
// accents none.
std::size_t columns(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; }))
    return text.size();
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < text.size();) count += display_width(next_code_point(text, pos));
  return count;
}

std::string pad(std::string_view text, std::size_t width) {
  std::string out(text);
  const std::size_t used = columns(text);
  if (used < width) out.append(width - used, ' ');
  return out;
}

// Word-wraps `text` to kWidth with every line indented by `indent`; the first line starts
// with `lead` in place of indentation (so "fix: " can hang). Explicit newlines start new lines.
// A word longer than a line is left whole: breaking a hash or a DN helps nobody.
std::string wrap(std::string_view text, std::size_t indent, std::string_view lead = "") {
  const std::string margin(indent, ' ');
  const std::string hanging(indent + columns(lead), ' ');
  std::string out;
  std::string line = margin + std::string(lead);
  std::size_t line_columns = indent + columns(lead);
  bool line_has_words = false;
  auto flush = [&] {
    line.erase(line.find_last_not_of(' ') + 1);  // npos + 1 == 0 clears an all-blank line
    out += line;
    out += '\n';
    line = hanging;
    line_columns = hanging.size();
    line_has_words = false;
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view paragraph = text.substr(start, end - start);
    std::size_t word_start = 0;
    while (word_start < paragraph.size()) {
      if (paragraph[word_start] == ' ') {
        ++word_start;
        continue;
      }
      std::size_t word_end = paragraph.find(' ', word_start);
      if (word_end == std::string_view::npos) word_end = paragraph.size();
      std::string_view word = paragraph.substr(word_start, word_end - word_start);
      const std::size_t word_columns = columns(word);
      if (line_has_words && line_columns + 1 + word_columns > kWidth) flush();
      if (line_has_words) {
        line += ' ';
        ++line_columns;
      }
      line += word;
      line_columns += word_columns;
      line_has_words = true;
      word_start = word_end;
    }
    flush();
    start = end + 1;
  }
  return out;
}

std::string_view status_word(Status status) {
  switch (status) {
    case Status::pass:
      return "PASS";
    case Status::warn:
      return "WARN";
    case Status::fail:
      return "FAIL";
    case Status::skip:
      return "SKIP";
  }
  return "SKIP";
}

std::string_view status_colour(Status status) {
  switch (status) {
    case Status::pass:
      return "\x1b[32m";  // green
    case Status::warn:
      return "\x1b[33m";  // yellow
    case Status::fail:
      return "\x1b[31m";  // red
    case Status::skip:
      return "\x1b[90m";  // grey
  }
  return "";
}

std::string coloured(Status status, const TextOptions& options) {
  std::string word(status_word(status));
  if (!options.color) return word;
  return std::string(status_colour(status)) + word + "\x1b[0m";
}

void write_section(std::string& out, const Section& section) {
  out += '\n';
  out += printable(section.title) + '\n';
  std::size_t key_width = 0;
  for (const auto& [key, value] : section.lines) {
    key_width = std::max(key_width, columns(printable(key)) + 1);
  }
  for (const auto& [key, value] : section.lines) {
    // An empty key continues the previous line's list (e.g. a chain, a CA list).
    out += wrap(printable(value), kFindingIndent,
                pad(key.empty() ? std::string() : printable(key) + ":", key_width + 2));
  }
}

void write_certificate(std::string& out, const CertificateRef& cert) {
  const std::string margin(kDetailIndent, ' ');
  out += margin + "certificate: " + printable(cert.subject) + '\n';
  if (!cert.serial.empty()) out += margin + "  serial:  " + printable(cert.serial) + '\n';
  if (!cert.sha256.empty()) out += margin + "  SHA-256: " + printable(cert.sha256) + '\n';
}

void write_finding(std::string& out, const Finding& finding, std::size_t id_width,
                   const TextOptions& options) {
  out += std::string(kFindingIndent, ' ') + coloured(finding.status, options) + "  " +
         pad(printable(finding.id), id_width) + "  " + printable(finding.title) + '\n';
  const bool explain = finding.status != Status::pass || options.verbose;
  if (!explain) return;
  if (!finding.detail.empty()) out += wrap(printable(finding.detail), kDetailIndent);
  if (finding.status == Status::pass) return;
  if (!finding.remedy.empty()) out += wrap(printable(finding.remedy), kDetailIndent, "fix: ");
  if (finding.certificate) write_certificate(out, *finding.certificate);
}

// Splits `text` into lines of at most `width` columns at spaces; a word longer than a
// column is cut, since a side-by-side cell cannot overflow into its neighbour.
std::vector<std::string> cell_lines(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t line_columns = 0;
  auto flush = [&] {
    lines.push_back(line);
    line.clear();
    line_columns = 0;
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end;
    while (!word.empty()) {
      const std::size_t word_columns = columns(word);
      if (line_columns > 0 && line_columns + 1 + word_columns <= width) {
        line += ' ';
        line += word;
        line_columns += 1 + word_columns;
        break;
      }
      if (line_columns > 0) flush();
      if (word_columns <= width) {
        line = std::string(word);
        line_columns = word_columns;
        break;
      }
      std::size_t cut = 0;
      for (std::size_t taken = 0; taken < width && cut < word.size(); ++taken)
        next_code_point(word, cut);
      // A distinguished name reads best cut after one of its commas.
      const std::size_t comma = word.substr(0, cut).rfind(',');
      if (comma != std::string_view::npos && comma > 0) cut = comma + 1;
      line = std::string(word.substr(0, cut));
      line_columns = columns(line);
      word.remove_prefix(cut);
      flush();
    }
  }
  if (line_columns > 0 || lines.empty()) flush();
  return lines;
}

std::string change_word(const std::optional<ChangeClass>& change, const TextOptions& options) {
  if (!change) return "same";
  switch (*change) {
    case ChangeClass::breaking:
      return options.color ? "\x1b[31mBREAKING\x1b[0m" : "BREAKING";
    case ChangeClass::risky:
      return options.color ? "\x1b[33mrisky\x1b[0m" : "risky";
    case ChangeClass::neutral:
      return "neutral";
  }
  return "neutral";
}

// Field | before | after | class, each cell wrapped in its column, and the reason for a
// change on the lines below it.
void write_comparison(std::string& out, const Comparison& comparison, const TextOptions& options) {
  constexpr std::size_t kGap = 2;
  constexpr std::size_t kClassWidth = 8;
  std::size_t field_width = columns(printable("field"));
  for (const ComparisonRow& row : comparison.rows)
    field_width = std::max(field_width, columns(printable(row.field)));
  field_width = std::min<std::size_t>(field_width, 18);
  const std::size_t side_width =
      (kWidth - kFindingIndent - field_width - kClassWidth - 3 * kGap) / 2;
  const std::string margin(kFindingIndent, ' ');
  const std::string gap(kGap, ' ');

  out += '\n';
  out += printable("Changes from the " + comparison.before_name + " to the " +
                   comparison.after_name + " certificate") +
         '\n';
  out += margin + pad("field", field_width) + gap +
         pad(printable(comparison.before_name), side_width) + gap +
         pad(printable(comparison.after_name), side_width) + gap + "class\n";
  for (const ComparisonRow& row : comparison.rows) {
    auto field = cell_lines(printable(row.field), field_width);
    auto before = cell_lines(printable(row.before), side_width);
    auto after = cell_lines(printable(row.after), side_width);
    const std::size_t height = std::max({field.size(), before.size(), after.size()});
    for (std::size_t i = 0; i < height; ++i) {
      std::string line = margin + pad(i < field.size() ? field[i] : "", field_width) + gap +
                         pad(i < before.size() ? before[i] : "", side_width) + gap +
                         pad(i < after.size() ? after[i] : "", side_width);
      if (i == 0) line += gap + change_word(row.change, options);
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + '\n';
    }
    if (row.change && !row.reason.empty())
      out += wrap(printable(row.reason), kFindingIndent + field_width + kGap, "-> ");
  }
}

// "1 failed, 2 warnings, 3 passed, 0 skipped", for the summary lines.
std::string counts_line(const Report& report) {
  const Counts counts = count(report);
  const bool warnings_failed = report.strict && counts.warn > 0;
  return std::to_string(counts.fail) + " failed, " + std::to_string(counts.warn) +
         (counts.warn == 1 ? " warning" : " warnings") +
         (warnings_failed ? " (failing under --strict), " : ", ") + std::to_string(counts.pass) +
         " passed, " + std::to_string(counts.skip) + " skipped\n";
}

std::string summary(const Report& report, const TextOptions& options) {
  return "Result: " + coloured(overall(report), options) + " - " + counts_line(report);
}

void write_table(std::string& out, const Table& table) {
  out += '\n';
  out += printable(table.title) + '\n';
  std::vector<std::size_t> widths(table.columns.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], columns(printable(row[i])));
  };
  measure(table.columns);
  for (const auto& row : table.rows) measure(row);
  auto write_row = [&](const std::vector<std::string>& row) {
    std::string line(kFindingIndent, ' ');
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      line += pad(printable(row[i]), widths[i] + 2);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  };
  write_row(table.columns);
  for (const auto& row : table.rows) write_row(row);
}

// Findings grouped by requirement, in the order each requirement first
// appears, so the command decides the order. `all`: passing ones too.
void write_findings(std::string& out, const std::vector<Finding>& findings,
                    const TextOptions& options, bool all) {
  std::vector<std::string> requirements;
  std::size_t id_width = 0;
  for (const Finding& finding : findings) {
    if (!all && finding.status == Status::pass) continue;
    if (std::find(requirements.begin(), requirements.end(), finding.requirement) ==
        requirements.end()) {
      requirements.push_back(finding.requirement);
    }
    id_width = std::max(id_width, columns(printable(finding.id)));
  }
  for (const std::string& requirement : requirements) {
    out += '\n';
    out += wrap(printable(requirement.empty() ? "Other findings" : requirement), 0);
    for (const Finding& finding : findings) {
      if (finding.requirement != requirement) continue;
      if (!all && finding.status == Status::pass) continue;
      write_finding(out, finding, id_width, options);
    }
  }
}

std::string fleet_summary(const Report& report, const TextOptions& options) {
  return "Result: " + coloured(overall(report), options) + " - " +
         std::to_string(failing_targets(report)) + " of " + std::to_string(target_count(report)) +
         " targets fail; checks of the run: " + counts_line(report);
}

}  // namespace

std::string render_text(const Report& report, const TextOptions& options) {
  std::string out = streamed::text_head(report, options);
  for (const Report& target : report.targets) out += streamed::text_target(target, report, options);
  return out + streamed::text_tail(report, options);
}

namespace streamed {

std::string text_head(const Report& run, const TextOptions& options) {
  std::string out = printable(run.tool);
  for (const std::string& part : {run.version, run.command, run.generated_at}) {
    if (!part.empty()) out += " - " + printable(part);
  }
  out += '\n';

  for (const Table& table : run.tables) write_table(out, table);
  for (const Section& section : run.sections) write_section(out, section);
  if (run.comparison) write_comparison(out, *run.comparison, options);
  write_findings(out, run.findings, options, true);
  return out;
}

// Targets that pass are a table row; the others get their details.
std::string text_target(const Report& target, const Report& run, const TextOptions& options) {
  if (!fails(target, run.strict) && !options.verbose) return {};
  std::string out = "\n== " + printable(target.target) + " ==\n";
  for (const Section& section : target.sections) write_section(out, section);
  write_findings(out, target.findings, options, options.verbose);
  return out;
}

std::string text_tail(const Report& run, const TextOptions& options) {
  return "\n" + (target_count(run) == 0 && run.tables.empty() ? summary(run, options)
                                                              : fleet_summary(run, options));
}

}  // namespace streamed

}  // namespace report
