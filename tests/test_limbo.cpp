// Scores tls::verify_chain, the verification `check` and `connect` use, on
// the x509-limbo suite (tests/data/x509-limbo). Every case runs with the
// suite's roots as the only anchors; where our stated policy knowingly
// differs from the suite's answer, expectations.txt says so with a reason.
// The test fails on any other disagreement and on stale expectations.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "tests/support/temp_dir.hpp"
#include "tls/chain.hpp"

namespace {

namespace json = boost::json;

const std::filesystem::path kLimboDir =
    std::filesystem::path(MTLSPROBE_SOURCE_DIR) / "tests" / "data" / "x509-limbo";

struct Expectation {
  std::string our_result;  // "SUCCESS" or "FAILURE"
  std::string reason;
};

// expectations.txt: "<case id> <SUCCESS|FAILURE> <reason>", '#' starts a comment line.
std::map<std::string, Expectation> load_expectations(const std::filesystem::path& file) {
  std::map<std::string, Expectation> expectations;
  std::istringstream lines(testing::read_file(file));
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string id, result, reason;
    fields >> id >> result;
    std::getline(fields >> std::ws, reason);
    if ((result != "SUCCESS" && result != "FAILURE") || reason.empty())
      FAIL(file.string() << ":" << number << ": expected '<id> <SUCCESS|FAILURE> <reason>'");
    if (!expectations.emplace(id, Expectation{result, reason}).second)
      FAIL(file.string() << ":" << number << ": " << id << " is listed twice");
  }
  return expectations;
}

// The suite writes RFC 3339 times in UTC ("2024-01-01T00:00:00+00:00" or
// "...Z", seconds maybe with a fraction). Verification works in whole seconds,
// so a fraction is dropped, as OpenSSL's time_t-based check would.
std::optional<tls::Clock::time_point> parse_utc_time(const std::string& text) {
  std::tm parts{};
  std::istringstream stream(text);
  stream >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
  if (stream.fail()) return std::nullopt;
  std::string zone;
  stream >> zone;
  if (!zone.empty() && zone[0] == '.') zone.erase(0, zone.find_first_not_of("0123456789", 1));
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  return tls::Clock::from_time_t(timegm(&parts));
}

struct CaseOutcome {
  std::string result;  // our verdict: "SUCCESS" or "FAILURE"
  std::string detail;  // why, when it failed
};

mtls::Result<std::vector<tls::Certificate>> parse_certificates(const json::value& list) {
  std::vector<tls::Certificate> certificates;
  for (const json::value& pem : list.as_array()) {
    auto certificate = tls::Certificate::from_pem(std::string(pem.as_string()));
    if (!certificate) return certificate.error();
    certificates.push_back(*certificate);
  }
  return certificates;
}

CaseOutcome run_case(const json::object& testcase) {
  auto leaf = tls::Certificate::from_pem(std::string(testcase.at("peer_certificate").as_string()));
  if (!leaf) return {"FAILURE", "peer certificate: " + leaf.error().message};
  auto roots = parse_certificates(testcase.at("trusted_certs"));
  if (!roots) return {"FAILURE", "trusted certificate: " + roots.error().message};
  auto intermediates = parse_certificates(testcase.at("untrusted_intermediates"));
  if (!intermediates) return {"FAILURE", "intermediate: " + intermediates.error().message};

  tls::VerifyPolicy policy;
  policy.purpose = testcase.at("validation_kind").as_string() == "CLIENT"
                       ? tls::Purpose::client_auth
                       : tls::Purpose::server_auth;
  if (const json::value& time = testcase.at("validation_time"); !time.is_null()) {
    policy.at = parse_utc_time(std::string(time.as_string()));
    REQUIRE_MESSAGE(policy.at.has_value(), "unreadable validation_time " << time);
  }
  if (const json::value& name = testcase.at("expected_peer_name"); !name.is_null())
    policy.peer_name = std::string(name.at("value").as_string());
  if (const json::value& depth = testcase.at("max_chain_depth"); !depth.is_null())
    policy.max_depth = static_cast<int>(depth.as_int64());
  for (const json::value& crl : testcase.at("crls").as_array()) {
    auto der = tls::crl_der_from_pem(std::string(crl.as_string()));
    if (!der) return {"FAILURE", "CRL: " + der.error().message};
    policy.crls_der.push_back(*der);
  }

  tls::ChainVerification verdict = tls::verify_chain(*leaf, *intermediates, *roots, policy);
  if (verdict.trusted) return {"SUCCESS", {}};
  return {"FAILURE", verdict.error + " (depth " + std::to_string(verdict.error_depth) + ")"};
}

struct Tally {
  int agreed = 0;
  int total = 0;
  void add(bool agree) {
    ++total;
    if (agree) ++agreed;
  }
};

std::string percent(const Tally& tally) {
  std::ostringstream text;
  text << tally.agreed << "/" << tally.total << " (" << std::fixed << std::setprecision(1)
       << (tally.total ? 100.0 * tally.agreed / tally.total : 0.0) << "%)";
  return text.str();
}

}  // namespace

TEST_CASE("every x509-limbo case agrees with the suite or is a listed policy difference") {
  json::value corpus = json::parse(testing::read_file(kLimboDir / "limbo-native.json"));
  std::map<std::string, Expectation> expectations =
      load_expectations(kLimboDir / "expectations.txt");

  Tally overall, untagged_server, client;
  std::map<std::string, Tally> groups;
  std::vector<std::string> unexpected, stale, wrong_listing;
  std::map<std::string, bool> seen;

  for (const json::value& item : corpus.at("testcases").as_array()) {
    const json::object& testcase = item.as_object();
    std::string id(testcase.at("id").as_string());
    std::string expected(testcase.at("expected_result").as_string());
    CaseOutcome outcome = run_case(testcase);
    bool agree = outcome.result == expected;

    overall.add(agree);
    groups[id.substr(0, id.find("::")) + "::"].add(agree);
    bool is_client = testcase.at("validation_kind").as_string() == "CLIENT";
    if (is_client) client.add(agree);
    if (!is_client && testcase.at("features").as_array().empty()) untagged_server.add(agree);

    auto listed = expectations.find(id);
    seen[id] = true;
    std::string line = id + ": suite " + expected + ", ours " + outcome.result +
                       (outcome.detail.empty() ? "" : " - " + outcome.detail);
    if (listed == expectations.end()) {
      if (!agree) unexpected.push_back(line);
    } else if (agree) {
      stale.push_back(id + ": listed as differing, but now agrees with the suite (" + expected +
                      "); remove it");
    } else if (listed->second.our_result != outcome.result) {
      wrong_listing.push_back(line + " (listed as " + listed->second.our_result + ")");
    }
  }
  for (const auto& [id, expectation] : expectations)
    if (!seen.count(id)) stale.push_back(id + ": listed, but no such case in the corpus");

  std::cout << "x509-limbo score (agreed/total):\n"
            << "  overall          " << percent(overall) << "\n"
            << "  untagged SERVER  " << percent(untagged_server) << "\n"
            << "  CLIENT           " << percent(client) << "\n";
  for (const auto& [group, tally] : groups)
    std::cout << "  " << std::left << std::setw(17) << group << percent(tally) << "\n";
  std::cout << "  listed policy differences: " << expectations.size() << "\n";
  for (const std::string& line : unexpected) std::cout << "UNEXPECTED " << line << "\n";
  for (const std::string& line : wrong_listing) std::cout << "WRONG LISTING " << line << "\n";
  for (const std::string& line : stale) std::cout << "STALE " << line << "\n";
  std::cout.flush();

  CHECK_MESSAGE(unexpected.empty(), unexpected.size() << " unlisted disagreements (UNEXPECTED)");
  CHECK_MESSAGE(wrong_listing.empty(), wrong_listing.size() << " listings with the wrong result");
  CHECK_MESSAGE(stale.empty(), stale.size() << " stale expectations (STALE)");
}
