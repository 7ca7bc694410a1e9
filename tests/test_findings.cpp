// The catalogue of finding ids: the README's id tables list exactly its ids,
// and every finding a report emits is one of them.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "probe/diagnosis/sip_findings.hpp"
#include "probe/findings.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::stringstream in(row.substr(1));
  std::string cell;
  while (std::getline(in, cell, '|')) {
    auto begin = cell.find_first_not_of(' ');
    auto end = cell.find_last_not_of(' ');
    out.push_back(begin == std::string::npos ? "" : cell.substr(begin, end - begin + 1));
  }
  return out;
}

// The backquoted ids in the column headed "id" of every Markdown table.
std::set<std::string> readme_ids() {
  std::ifstream file(std::string(MTLSPROBE_SOURCE_DIR) + "/README.md");
  REQUIRE(file);
  std::set<std::string> ids;
  const std::regex quoted("`([^`]+)`");
  bool in_table = false;
  std::size_t id_column = 0;  // past the last cell for a table without ids
  std::string line;
  while (std::getline(file, line)) {
    if (!line.starts_with("|")) {
      in_table = false;
      continue;
    }
    auto row = cells(line);
    if (!in_table) {  // a table's header row
      in_table = true;
      id_column = static_cast<std::size_t>(std::find(row.begin(), row.end(), "id") - row.begin());
      continue;
    }
    if (id_column >= row.size()) continue;
    const std::string& cell = row[id_column];
    for (std::sregex_iterator m(cell.begin(), cell.end(), quoted), end; m != end; ++m)
      ids.insert((*m)[1]);
  }
  return ids;
}

std::set<std::string> catalogue_ids() {
  std::set<std::string> ids;
  for (const auto& kind : probe::finding_catalogue()) ids.insert(std::string(kind.text));
  return ids;
}

// A report id without `pair`'s direction and server-view prefixes.
std::string without_pair_prefix(std::string id) {
  for (const char* direction : {"bems-to-lync.", "lync-to-bems."})
    if (id.starts_with(direction)) id.erase(0, std::string_view(direction).size());
  if (id.starts_with("server.")) id.erase(0, std::string_view("server.").size());
  return id;
}

std::set<std::string> report_ids(const std::string& json) {
  std::set<std::string> ids;
  const boost::json::value report = boost::json::parse(json);
  for (const auto& finding : report.at("findings").as_array())
    ids.insert(std::string(finding.at("id").as_string()));
  return ids;
}

// The rows of README's "Which finding blames which defect" table: flaw ->
// the ids blamed, one per defect row.
std::map<std::string, std::multiset<std::string>> readme_blame_table() {
  std::ifstream file(std::string(MTLSPROBE_SOURCE_DIR) + "/README.md");
  REQUIRE(file);
  std::map<std::string, std::multiset<std::string>> table;
  const std::regex quoted("`([^`]+)`");
  bool in_section = false;
  std::string line;
  while (std::getline(file, line)) {
    if (line.starts_with("#")) in_section = line == "### Which finding blames which defect";
    if (!in_section || !line.starts_with("| `")) continue;
    auto row = cells(line);
    REQUIRE(row.size() >= 3);
    std::smatch flaw;
    REQUIRE(std::regex_search(row[0], flaw, quoted));
    std::vector<std::string> ids;
    for (std::sregex_iterator m(row[2].begin(), row[2].end(), quoted), end; m != end; ++m)
      ids.push_back((*m)[1]);
    CHECK_MESSAGE(ids.size() == 1, line);  // one finding blames each defect
    for (const auto& id : ids) table[flaw[1]].insert(id);
  }
  return table;
}

}  // namespace

TEST_CASE("every catalogued finding id has a row in the README's id tables") {
  auto readme = readme_ids();
  for (const auto& id : catalogue_ids()) CHECK_MESSAGE(readme.count(id) == 1, id);
}

TEST_CASE("every id in the README's id tables is in the catalogue") {
  auto catalogue = catalogue_ids();
  auto readme = readme_ids();
  CHECK(readme.size() >= 30);
  for (const auto& id : readme) CHECK_MESSAGE(catalogue.count(id) == 1, id);
}

TEST_CASE("each catalogued id is declared once, with a requirement and a meaning") {
  std::set<std::string> seen;
  for (const auto& kind : probe::finding_catalogue()) {
    CHECK_MESSAGE(seen.insert(std::string(kind.text)).second, kind.text);
    CHECK(std::string_view(kind.requirement).size() > 10);
    CHECK(kind.meaning.size() > 10);
    CHECK(probe::find_finding_kind(kind.text) == &kind);
    CHECK(&probe::finding_kind(kind.id) == &kind);
  }
  CHECK(probe::find_finding_kind("bems.no-such-id") == nullptr);
}

TEST_CASE("a finding takes its id and requirement from the catalogue") {
  auto f = probe::finding(probe::FindingId::lync_eku, "title");
  CHECK(f.id == "lync.eku");
  CHECK(f.requirement == probe::requirement::kValidity);
  CHECK(probe::for_side(probe::Side::bems, probe::FindingId::bems_eku,
                        probe::FindingId::lync_eku) == probe::FindingId::bems_eku);
}

TEST_CASE("every finding check and pair emit is in the catalogue") {
  testing::TempDir dir;
  const std::string lab = (dir / "lab").string();
  auto init = testing::run_mtlsprobe({"pki", "init", lab, "--key-type", "ecdsa-p256"});
  REQUIRE_MESSAGE(init.exit_code == 0, init.err);
  auto check = testing::run_mtlsprobe({"check", "--store", lab + "/bems", "--peer-store",
                                       lab + "/lync", "--no-revocation", "--format", "json"});
  REQUIRE_MESSAGE(check.exit_code == 0, check.err);
  auto pair = testing::run_mtlsprobe({"pair", "--flaw", "untrusted-root", "--format", "json"});
  REQUIRE_MESSAGE(!pair.out.empty(), pair.err);

  std::set<std::string> emitted = report_ids(check.out);
  CHECK(emitted.size() >= 20);
  std::set<std::string> seen_in_pair;
  for (const auto& id : report_ids(pair.out)) {
    // pair prefixes every handshake id with its direction; each certificate
    // is judged once, so those ids are unprefixed.
    const std::string bare = without_pair_prefix(id);
    if (bare.starts_with("handshake.") || bare == "peer.name") CHECK_MESSAGE(id != bare, id);
    seen_in_pair.insert(without_pair_prefix(id));
  }
  CHECK(seen_in_pair.count("handshake.peer-rejected-us") == 1);
  emitted.insert(seen_in_pair.begin(), seen_in_pair.end());
  for (const auto& id : emitted) CHECK_MESSAGE(probe::find_finding_kind(id) != nullptr, id);
}

TEST_CASE("the SIP findings are in the catalogue") {
  tls::HandshakeRecord record;
  for (const auto& finding :
       {probe::sip_options_finding(std::nullopt, record),
        probe::sip_presence_finding(std::nullopt, "user@example.com", record),
        probe::sip_trusted_application_finding(record, std::nullopt, {}, {}),
        probe::sip_requests_finding(record, std::nullopt, std::chrono::milliseconds(0))})
    CHECK_MESSAGE(probe::find_finding_kind(finding.id) != nullptr, finding.id);
}

TEST_CASE(
    "the README's blame table: each flaw's defects, each blamed by exactly the finding named") {
  auto table = readme_blame_table();
  auto flaws = testing::run_mtlsprobe({"pki", "flaws"});
  REQUIRE(flaws.exit_code == 0);
  std::set<std::string> listed;
  std::istringstream lines(flaws.out);
  std::string line;
  std::getline(lines, line);  // the heading
  while (lines >> line) {
    listed.insert(line);  // the name, then the rest of the line is its description
    std::getline(lines, line);
  }
  CHECK(listed.size() >= 16);
  for (const auto& flaw : listed) CHECK_MESSAGE(table.count(flaw) == 1, flaw);
  for (const auto& [flaw, ids] : table) {
    CAPTURE(flaw);
    CHECK(listed.count(flaw) == 1);
    for (const auto& id : ids) CHECK_MESSAGE(probe::find_finding_kind(id) != nullptr, id);
    // `check` on a lab with this flaw fails (or warns) exactly these ids.
    testing::TempDir dir;
    const std::string lab = (dir / "lab").string();
    auto init =
        testing::run_mtlsprobe({"pki", "init", lab, "--key-type", "ecdsa-p256", "--flaw", flaw});
    REQUIRE_MESSAGE(init.exit_code == 0, init.err);
    // The lab's topology, as `pki init` suggests checking it.
    auto check = testing::run_mtlsprobe(
        {"check", "--store", lab + "/bems", "--peer-store", lab + "/lync", "--pool",
         "bemsapppool.example.com", "--instance", "bemsserver01.example.com", "--instance",
         "bemsserver02.example.com", "--no-revocation", "--format", "json"});
    INFO("check: " << check.err);
    const boost::json::value report = boost::json::parse(check.out);
    std::multiset<std::string> not_passing;
    for (const auto& finding : report.at("findings").as_array()) {
      const std::string status(finding.at("status").as_string());
      if (status == "fail" || status == "warn")
        not_passing.insert(std::string(finding.at("id").as_string()));
    }
    std::string expected, seen;
    for (const auto& id : std::set<std::string>(ids.begin(), ids.end())) expected += id + " ";
    for (const auto& id : not_passing) seen += id + " ";
    CHECK(seen == expected);
  }
}
