#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "report/pretty_json.hpp"
#include "report/render.hpp"

namespace report {
namespace {

boost::json::value certificate_json(const std::optional<CertificateRef>& certificate) {
  if (!certificate) return nullptr;
  return boost::json::object{{"subject", certificate->subject},
                             {"issuer", certificate->issuer},
                             {"serial", certificate->serial},
                             {"sha256", certificate->sha256}};
}

boost::json::object finding_json(const Finding& finding) {
  boost::json::object out;
  out["id"] = finding.id;
  out["requirement"] = finding.requirement;
  out["status"] = to_string(finding.status);
  out["title"] = finding.title;
  out["detail"] = finding.detail;
  out["remedy"] = finding.remedy;
  out["certificate"] = certificate_json(finding.certificate);
  return out;
}

boost::json::object section_json(const Section& section) {
  boost::json::array lines;
  for (const auto& [key, value] : section.lines) {
    lines.push_back(boost::json::object{{"key", key}, {"value", value}});
  }
  boost::json::object out;
  out["title"] = section.title;
  out["lines"] = std::move(lines);
  return out;
}

boost::json::object table_json(const Table& table) {
  boost::json::array columns(table.columns.begin(), table.columns.end());
  boost::json::array rows;
  for (const auto& row : table.rows) {
    boost::json::object cells;
    for (std::size_t i = 0; i < row.size() && i < table.columns.size(); ++i)
      cells[table.columns[i]] = row[i];
    rows.push_back(std::move(cells));
  }
  return boost::json::object{
      {"title", table.title}, {"columns", std::move(columns)}, {"rows", std::move(rows)}};
}

// Only the rows that differ: a script asks "what changes", the text shows the rest.
boost::json::array changes_json(const Comparison& comparison) {
  boost::json::array changes;
  for (const ComparisonRow& row : comparison.rows) {
    if (!row.change) continue;
    changes.push_back(boost::json::object{{"field", row.field},
                                          {"before", row.before},
                                          {"after", row.after},
                                          {"class", to_string(*row.change)},
                                          {"reason", row.reason}});
  }
  return changes;
}

// Field names here are the documented interface for scripts; add fields, never rename.
boost::json::object report_json(const Report& report) {
  const Counts counts = count(report);
  boost::json::object root;
  root["tool"] = report.tool;
  root["version"] = report.version;
  root["command"] = report.command;
  root["generated_at"] = report.generated_at;
  root["result"] = to_string(overall(report));
  root["strict"] = report.strict;
  root["counts"] = boost::json::object{
      {"pass", counts.pass}, {"warn", counts.warn}, {"fail", counts.fail}, {"skip", counts.skip}};
  boost::json::array sections;
  for (const Section& section : report.sections) sections.push_back(section_json(section));
  root["sections"] = std::move(sections);
  root["facts"] = report.facts;
  boost::json::array findings;
  for (const Finding& finding : report.findings) findings.push_back(finding_json(finding));
  root["findings"] = std::move(findings);
  if (report.comparison) {
    root[report.comparison->before_name] = report.comparison->before;
    root[report.comparison->after_name] = report.comparison->after;
    root["changes"] = changes_json(*report.comparison);
  }
  if (!report.target.empty()) root["target"] = report.target;
  if (report.index) root["index"] = *report.index;
  if (report.tables.empty() && target_count(report) == 0) return root;
  // A run over many targets: `result` and the summary count the targets.
  boost::json::array tables;
  for (const Table& table : report.tables) tables.push_back(table_json(table));
  root["tables"] = std::move(tables);
  const std::size_t total = target_count(report), failing = failing_targets(report);
  root["summary"] =
      boost::json::object{{"targets", total}, {"pass", total - failing}, {"fail", failing}};
  boost::json::array targets;
  for (const Report& target : report.targets) targets.push_back(report_json(target));
  root["targets"] = std::move(targets);
  return root;
}

}  // namespace

std::string render_json(const Report& report) { return pretty_json(report_json(report)); }

// The streamed document puts `targets` right after the header, the rest of the
// run (which depends on every target) after them; JSON readers do not care
// about member order.
namespace streamed {

namespace {
constexpr const char* kHeaderFields[] = {"tool", "version", "command", "generated_at"};
}  // namespace

std::string json_head(const Report& run) {
  const boost::json::object root = report_json(run);
  std::string out = "{";
  for (const char* field : kHeaderFields)
    out += "\n  " + boost::json::serialize(boost::json::string(field)) + ": " +
           pretty_json_nested(root.at(field), 1) + ",";
  return out + "\n  \"targets\": [";
}

std::string json_target(const Report& target, bool first) {
  return std::string(first ? "" : ",") + "\n    " + pretty_json_nested(report_json(target), 2);
}

std::string json_tail(const Report& run, bool any_target) {
  boost::json::object root = report_json(run);
  for (const char* field : kHeaderFields) root.erase(field);
  root.erase("targets");
  std::string out = any_target ? "\n  ]" : "]";
  for (const auto& member : root)
    out += ",\n  " + boost::json::serialize(boost::json::string(member.key())) + ": " +
           pretty_json_nested(member.value(), 1);
  return out + "\n}\n";
}

}  // namespace streamed

}  // namespace report
