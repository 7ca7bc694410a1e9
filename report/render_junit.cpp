#include <string>
#include <string_view>

#include "report/render.hpp"
#include "report/utf8.hpp"

namespace report {
namespace {

// XML 1.0 section 2.2: characters a document may contain at all. Everything else (most C0
// controls, lone surrogates, U+FFFE/U+FFFF) makes CI parsers reject the whole file, so it is
// replaced rather than escaped: character references to them are just as invalid.
bool allowed_in_xml(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

enum class XmlContext { text, attribute };

std::string xml_escape(std::string_view raw, XmlContext context) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t pos = 0; pos < raw.size();) {
    const char32_t c = next_code_point(raw, pos);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&apos;";
        continue;
    }
    // Attribute-value normalisation would turn raw tabs and newlines into spaces, and a parser
    // folds a raw CR in text to LF; references keep them as they were.
    if (c == '\r' || (context == XmlContext::attribute && (c == '\n' || c == '\t'))) {
      out += "&#" + std::to_string(static_cast<unsigned>(c)) + ";";
      continue;
    }
    append_utf8(out, allowed_in_xml(c) ? c : kReplacementCharacter);
  }
  return out;
}

std::string attribute(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value, XmlContext::attribute) + "\"";
}

std::string attribute(std::string_view name, int value) {
  return attribute(name, std::to_string(value));
}

// CI shows the class name as the group; findings carry their requirement, and without one the
// id's first component ("bems" of "bems.san.pool") still groups related checks.
std::string class_name(const Finding& finding) {
  if (!finding.requirement.empty()) return finding.requirement;
  const std::size_t dot = finding.id.find('.');
  return dot == std::string::npos ? finding.id : finding.id.substr(0, dot);
}

std::string explanation(const Finding& finding, std::string_view separator) {
  std::string text = finding.detail;
  if (!finding.remedy.empty()) {
    if (!text.empty()) text += separator;
    text += "fix: " + finding.remedy;
  }
  if (finding.certificate) {
    const CertificateRef& cert = *finding.certificate;
    if (!text.empty()) text += separator;
    text += "certificate: " + cert.subject + " (serial " + cert.serial + ", SHA-256 " +
            cert.sha256 + ")";
  }
  return text;
}

void write_testcase(std::string& out, const Report& report, const Finding& finding) {
  out += "    <testcase" + attribute("classname", class_name(finding)) +
         attribute("name", finding.id) + attribute("time", "0");
  // Under --strict a warning fails the run, so CI must show it red as well.
  if (finding.status == Status::warn && fails_run(report, finding)) {
    out += ">\n      <failure" + attribute("message", finding.title) + attribute("type", "warn") +
           ">" + xml_escape("WARN (--strict): " + explanation(finding, "\n"), XmlContext::text) +
           "</failure>\n    </testcase>\n";
    return;
  }
  switch (finding.status) {
    case Status::pass:
      out += "/>\n";
      return;
    case Status::fail:
      out += ">\n      <failure" + attribute("message", finding.title) + attribute("type", "fail") +
             ">" + xml_escape(explanation(finding, "\n"), XmlContext::text) + "</failure>\n";
      break;
    case Status::skip:
      out += ">\n      <skipped" + attribute("message", finding.detail) + "/>\n";
      break;
    case Status::warn:
      // JUnit has no "warning" outcome; a warning passes and says so where CI shows output.
      out += ">\n      <system-out>" +
             xml_escape("WARN: " + explanation(finding, " "), XmlContext::text) + "</system-out>\n";
      break;
  }
  out += "    </testcase>\n";
}

// `run` decides whether a warning fails (--strict) for every suite of it.
void write_testsuite(std::string& out, const std::string& name, const Report& report,
                     const Report& run) {
  const Counts counts = count(report);
  const int tests = static_cast<int>(report.findings.size());
  int failures = 0;
  for (const Finding& finding : report.findings)
    if (fails_run(run, finding)) ++failures;
  out += "  <testsuite" + attribute("name", name) + attribute("tests", tests) +
         attribute("failures", failures) + attribute("errors", 0) +
         attribute("skipped", counts.skip) + attribute("timestamp", run.generated_at) + ">\n";
  for (const Finding& finding : report.findings) write_testcase(out, run, finding);
  out += "  </testsuite>\n";
}

}  // namespace

// A run over many targets has one testsuite for the run's own findings and
// one per target, named after it, so CI lists each server on its own.
std::string render_junit(const Report& report) {
  int tests = 0, failures = 0, skipped = 0;
  auto add = [&](const Report& part) {
    tests += static_cast<int>(part.findings.size());
    skipped += count(part).skip;
    for (const Finding& finding : part.findings)
      if (fails_run(report, finding)) ++failures;
  };
  add(report);
  for (const Report& target : report.targets) add(target);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attribute("name", report.tool) + attribute("tests", tests) +
         attribute("failures", failures) + attribute("errors", 0) + attribute("skipped", skipped) +
         ">\n";
  const std::string suite = report.tool + " " + report.command;
  if (report.targets.empty() || !report.findings.empty())
    write_testsuite(out, suite, report, report);
  for (const Report& target : report.targets)
    write_testsuite(out, suite + " " + target.target, target, report);
  out += "</testsuites>\n";
  return out;
}

// Streamed, the totals are not known when <testsuites> opens; it carries
// none (they are optional there) and each <testsuite> has its own.
namespace streamed {

std::string junit_head(const Report& run) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" + attribute("name", run.tool) +
         ">\n";
}

std::string junit_target(const Report& target, const Report& run) {
  std::string out;
  write_testsuite(out, run.tool + " " + run.command + " " + target.target, target, run);
  return out;
}

std::string junit_tail(const Report& run, bool any_target) {
  std::string out;
  if (!any_target || !run.findings.empty())
    write_testsuite(out, run.tool + " " + run.command, run, run);
  return out + "</testsuites>\n";
}

}  // namespace streamed

}  // namespace report
