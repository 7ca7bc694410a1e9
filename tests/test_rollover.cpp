// `mtlsprobe rollover` offline: each renewal a lab makes with `pki reissue`,
// judged beside the lab's current certificate.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <optional>
#include <stdexcept>

#include "probe/diagnosis/facts.hpp"
#include "probe/lab/pki.hpp"
#include "probe/rules/rollover.hpp"
#include "probe/rules/rules.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/issuer.hpp"

namespace fs = std::filesystem;
using testing::change_of;
using testing::mentions;
using testing::run_mtlsprobe;
using testing::status_of;
using testing::string_field;

namespace {

// A lab and its next certificate, made for one test.
struct Renewal {
  testing::TempDir dir;
  explicit Renewal(const probe::ReissueOptions& next, probe::LabOptions lab = {}) {
    auto built = probe::build_lab(dir.path(), lab);
    REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));
    auto reissued = probe::reissue_lab(dir.path(), next);
    REQUIRE_MESSAGE(reissued.ok(), (reissued.ok() ? "" : reissued.error().message));
  }
  std::vector<std::string> args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> all{"rollover",
                                 "--store",
                                 (dir / "bems").string(),
                                 "--next-store",
                                 (dir / "next").string(),
                                 "--peer-store",
                                 (dir / "lync").string(),
                                 "--no-revocation",
                                 "--no-aia"};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }
};

probe::ReissueOptions with_flaw(const std::string& flaw) {
  probe::ReissueOptions options;
  options.flaw = flaw;
  return options;
}

struct Run {
  int exit_code;
  boost::json::value report;
};

Run rollover_json(const Renewal& renewal, std::vector<std::string> extra = {}) {
  extra.insert(extra.end(), {"--format", "json"});
  auto result = run_mtlsprobe(renewal.args(extra));
  INFO(result.err);
  REQUIRE(result.exit_code != 2);
  return {result.exit_code, boost::json::parse(result.out)};
}

std::string finding_text(const boost::json::value& report, const std::string& id) {
  for (const auto& finding : report.at("findings").as_array())
    if (finding.at("id").as_string() == id)
      return string_field(finding.as_object(), "detail") + " | " +
             string_field(finding.as_object(), "remedy");
  return {};
}

std::vector<std::string> breaking_fields(const boost::json::value& report) {
  std::vector<std::string> fields;
  for (const auto& change : report.at("changes").as_array())
    if (change.at("class").as_string() == "breaking")
      fields.emplace_back(change.at("field").as_string());
  return fields;
}

std::string days_from_now(int days) {
  return probe::rfc3339(tls::Clock::now() + std::chrono::hours(24 * days)).substr(0, 10);
}

}  // namespace

TEST_CASE("a renewal from the same CA is safe: exit 0, nothing breaking, every rule passes") {
  Renewal renewal{probe::ReissueOptions{}};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 0);
  CHECK(breaking_fields(run.report).empty());
  for (const char* id : {"bems.chain.trusted", "bems.chain.intermediates", "trust.mutual",
                         "bems.san.instances", "bems.eku", "bems.validity", "bems.key.matches",
                         "rollover.peer-intermediate", "rollover.risky"}) {
    CAPTURE(id);
    CHECK(status_of(run.report, id) == "pass");
  }
  CHECK(status_of(run.report, "rollover.switch-date") == "skip");
  // Both certificates are in the report, and the validity difference is neutral.
  CHECK(run.report.at("current").at("certificate").at("subject").as_string() ==
        run.report.at("next").at("certificate").at("subject").as_string());
  CHECK(run.report.at("current").at("certificate").at("sha256") !=
        run.report.at("next").at("certificate").at("sha256"));
  // Issued within the same second (a fast machine), the two validity periods
  // are equal and there is no validity row at all; otherwise it is neutral.
  if (!change_of(run.report, "validity").empty()) {
    CHECK(string_field(change_of(run.report, "validity"), "class") == "neutral");
    CHECK(mentions(string_field(change_of(run.report, "validity"), "reason"), "Overlap"));
  }
  CHECK(change_of(run.report, "issuing CA").empty());
  // The lab issues from an AD CS template under an issuance policy, both kept.
  CHECK(!run.report.at("next").at("certificate").at("template").as_string().empty());
  CHECK(!run.report.at("next").at("certificate").at("policies").as_array().empty());
  CHECK(change_of(run.report, "certificate template").empty());
  CHECK(change_of(run.report, "certificate policies").empty());
}

TEST_CASE("another template without the lab's policy is risky, with the reason; nothing breaks") {
  probe::ReissueOptions next;
  next.other_template = true;
  Renewal renewal{next};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 0);
  CHECK(breaking_fields(run.report).empty());
  auto issued_from = change_of(run.report, "certificate template");
  CHECK(string_field(issued_from, "class") == "risky");
  CHECK(mentions(string_field(issued_from, "before"),
                 "1.3.6.1.4.1.311.21.8.7340081.4710341.1.1.101 v100.1"));
  CHECK(mentions(string_field(issued_from, "after"),
                 "1.3.6.1.4.1.311.21.8.7340081.4710341.1.1.102 v100.0"));
  CHECK(mentions(string_field(issued_from, "reason"), "key usage"));
  auto policies = change_of(run.report, "certificate policies");
  CHECK(string_field(policies, "class") == "risky");
  CHECK(string_field(policies, "after") == "(none)");
  CHECK(mentions(string_field(policies, "reason"),
                 "Drops 1.3.6.1.4.1.311.21.8.7340081.4710341.1.2.1"));
  CHECK(status_of(run.report, "rollover.risky") == "warn");
  CHECK(mentions(finding_text(run.report, "rollover.risky"), "certificate template"));
  CHECK(rollover_json(renewal, {"--strict"}).exit_code == 1);
}

TEST_CASE(
    "a new issuing CA missing from the pool's intermediate store is breaking, with the file") {
  probe::ReissueOptions next;
  next.new_issuing_ca = true;
  Renewal renewal{next};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 1);
  CHECK(status_of(run.report, "rollover.peer-intermediate") == "fail");
  const auto explained = finding_text(run.report, "rollover.peer-intermediate");
  CHECK(mentions(explained, "mtlsprobe Lab Issuing CA 2"));
  CHECK(mentions(explained, "--peer-store " + (renewal.dir / "lync").string()));
  CHECK(mentions(explained,
                 (renewal.dir / "next" / "intermediate" / "lab-issuing-ca-2.crt").string()));
  auto issuing = change_of(run.report, "issuing CA");
  CHECK(string_field(issuing, "class") == "breaking");
  CHECK(mentions(string_field(issuing, "after"), "[new]"));
  CHECK(mentions(string_field(issuing, "reason"), "intermediate/"));
  // The root stays the same: no row for it, and the pool still trusts the chain.
  CHECK(change_of(run.report, "root CA").empty());
  CHECK(status_of(run.report, "trust.mutual") == "pass");
}

TEST_CASE("a new root the pool does not trust is breaking through trust.mutual") {
  probe::ReissueOptions next;
  next.new_root = true;
  Renewal renewal{next};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 1);
  CHECK(status_of(run.report, "trust.mutual") == "fail");
  CHECK(mentions(finding_text(run.report, "trust.mutual"), "switch breaks it"));
  auto root = change_of(run.report, "root CA");
  CHECK(string_field(root, "class") == "breaking");
  CHECK(mentions(string_field(root, "after"), "mtlsprobe Lab Root CA 2"));
  CHECK(mentions(string_field(root, "reason"), "trusted-root/"));
  CHECK(mentions(string_field(root, "reason"), "trust.mutual"));
}

TEST_CASE("a SAN that drops an instance is breaking, also when the instances come from the SAN") {
  Renewal renewal{with_flaw("san-missing-instance")};
  for (bool named : {false, true}) {
    CAPTURE(named);
    std::vector<std::string> extra;
    if (named)
      extra = {"--instance", "bemsserver01.example.com", "--instance", "bemsserver02.example.com"};
    auto run = rollover_json(renewal, extra);
    CHECK(run.exit_code == 1);
    CHECK(status_of(run.report, "bems.san.instances") == "fail");
    auto san = change_of(run.report, "SAN DNS");
    CHECK(string_field(san, "class") == "breaking");
    CHECK(mentions(string_field(san, "reason"), "bemsserver01.example.com"));
    CHECK(mentions(string_field(san, "reason"), "bems.san.instances"));
    // One defect, one row: the rule is not repeated as a row of its own.
    CHECK(change_of(run.report, "rule bems.san.instances").empty());
  }
}

TEST_CASE("an EKU that loses clientAuth is breaking and names the 2026 change") {
  Renewal renewal{with_flaw("no-client-auth-eku")};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 1);
  CHECK(status_of(run.report, "bems.eku") == "fail");
  auto eku = change_of(run.report, "EKU");
  CHECK(string_field(eku, "class") == "breaking");
  CHECK(string_field(eku, "before") == "serverAuth, clientAuth");
  CHECK(string_field(eku, "after") == "serverAuth");
  CHECK(mentions(string_field(eku, "reason"), "2026"));
  CHECK(mentions(string_field(eku, "reason"), "clientAuth"));
}

TEST_CASE("RSA-2048 to P-256 is risky with the reason, not breaking; --strict fails on it") {
  probe::ReissueOptions next;
  next.key_type = probe::LabKeyType::ecdsa_p256;
  Renewal renewal{next};
  auto run = rollover_json(renewal);
  CHECK(run.exit_code == 0);
  auto key = change_of(run.report, "key");
  CHECK(string_field(key, "before") == "RSA 2048");
  CHECK(mentions(string_field(key, "after"), "EC 256"));
  CHECK(string_field(key, "class") == "risky");
  CHECK(mentions(string_field(key, "reason"), "ECDSA"));
  CHECK(breaking_fields(run.report).empty());
  CHECK(status_of(run.report, "rollover.risky") == "warn");
  CHECK(rollover_json(renewal, {"--strict"}).exit_code == 1);
}

TEST_CASE("a next certificate not yet valid at --at is breaking; valid at a later date it is not") {
  Renewal renewal{with_flaw("not-yet-valid")};  // valid from 10 days from now
  auto early = rollover_json(renewal, {"--at", days_from_now(5)});
  CHECK(early.exit_code == 1);
  CHECK(status_of(early.report, "bems.validity") == "fail");
  auto validity = change_of(early.report, "validity");
  CHECK(string_field(validity, "class") == "breaking");
  CHECK(mentions(string_field(validity, "reason"), "not valid until"));
  auto later = rollover_json(renewal, {"--at", days_from_now(12)});
  CHECK(later.exit_code == 0);
  CHECK(status_of(later.report, "bems.validity") == "pass");
  CHECK(status_of(later.report, "rollover.switch-date") == "pass");
}

TEST_CASE("a current certificate that expires before --at is named") {
  probe::ReissueOptions next;
  next.days = 800;
  Renewal renewal{next};  // the current one lasts 365 days
  auto run = rollover_json(renewal, {"--at", days_from_now(400)});
  CHECK(run.exit_code == 1);
  CHECK(status_of(run.report, "rollover.switch-date") == "fail");
  CHECK(status_of(run.report, "bems.validity") == "pass");
  CHECK(string_field(change_of(run.report, "validity"), "class") == "breaking");
}

TEST_CASE("the text report shows both certificates side by side with each change's class") {
  Renewal renewal{with_flaw("no-client-auth-eku")};
  auto result = run_mtlsprobe(renewal.args({"--no-color"}));
  CHECK(result.exit_code == 1);
  CHECK(mentions(result.out, "Changes from the current to the next certificate"));
  CHECK(mentions(result.out, "BREAKING"));
  CHECK(mentions(result.out, "FAIL  bems.eku"));
  CHECK(mentions(result.out, "subject CN"));
  auto junit = run_mtlsprobe(renewal.args({"--format", "junit"}));
  CHECK(junit.exit_code == 1);
  CHECK(mentions(junit.out, "name=\"bems.eku\""));
  CHECK(mentions(junit.out, "<failure"));
}

TEST_CASE("rollover refuses bad input with one line and exit 2") {
  Renewal renewal{probe::ReissueOptions{}};
  auto no_next = run_mtlsprobe({"rollover", "--store", (renewal.dir / "bems").string()});
  CHECK(no_next.exit_code == 2);
  CHECK(mentions(no_next.err, "--next-store"));
  auto bad_date = run_mtlsprobe(renewal.args({"--at", "next tuesday"}));
  CHECK(bad_date.exit_code == 2);
  CHECK(mentions(bad_date.err, "--at next tuesday"));
  testing::write_file(renewal.dir / "garbage.pfx", "not a pfx");
  auto garbage = run_mtlsprobe({"rollover", "--store", (renewal.dir / "bems").string(),
                                "--next-pfx", (renewal.dir / "garbage.pfx").string()});
  CHECK(garbage.exit_code == 2);
  CHECK(mentions(garbage.err, "garbage.pfx"));
}

TEST_CASE("a next .pfx alone is judged with the current store's roots and intermediates") {
  probe::ReissueOptions next;
  next.new_issuing_ca = true;
  Renewal renewal{next};
  auto result = run_mtlsprobe({"rollover", "--store", (renewal.dir / "bems").string(), "--next-pfx",
                               (renewal.dir / "next.pfx").string(), "--no-revocation", "--no-aia",
                               "--format", "json"});
  CHECK(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  // The new issuing CA came in the .pfx only: BEMS's intermediate/ lacks it.
  CHECK(status_of(report, "bems.chain.intermediates") == "fail");
  CHECK(mentions(finding_text(report, "bems.chain.intermediates"), "next.pfx"));
  CHECK(status_of(report, "rollover.peer-intermediate") == "skip");
  CHECK(string_field(change_of(report, "issuing CA"), "class") == "breaking");
}

TEST_CASE("pki reissue refuses a flaw a next certificate cannot have and a folder without a lab") {
  testing::TempDir dir;
  auto missing = run_mtlsprobe({"pki", "reissue", dir.path().string()});
  CHECK(missing.exit_code == 2);
  CHECK(mentions(missing.err, "lab.json"));
  REQUIRE(probe::build_lab(dir.path(), {}).ok());
  auto wrong =
      run_mtlsprobe({"pki", "reissue", dir.path().string(), "--flaw", "separate-untrusted-cas"});
  CHECK(wrong.exit_code == 2);
  CHECK(mentions(wrong.err, "separate-untrusted-cas"));
  auto made = run_mtlsprobe({"pki", "reissue", dir.path().string(), "--new-issuing-ca"});
  CHECK_MESSAGE(made.exit_code == 0, made.err);
  CHECK(fs::exists(dir / "next" / "personal" / "bems.crt"));
  CHECK(fs::exists(dir / "ca" / "lab-issuing-ca-2.key"));
  CHECK(mentions(made.out, "mtlsprobe rollover"));
}

TEST_CASE("switch dates are a day or an instant in UTC") {
  CHECK(probe::parse_switch_date("2027-03-01").has_value());
  CHECK(probe::rfc3339(*probe::parse_switch_date("2027-03-01")) == "2027-03-01T00:00:00Z");
  CHECK(probe::rfc3339(*probe::parse_switch_date("2027-03-01T08:30:00Z")) ==
        "2027-03-01T08:30:00Z");
  for (std::string bad : {"", "2027-03", "01/03/2027", "2027-03-01T08:30:00", "2027-03-01 junk",
                          "2027-03-01T08:30:0Zx", "2027-13-01", "2027-03-01T08:30:00+"}) {
    CAPTURE(bad);
    CHECK_FALSE(probe::parse_switch_date(bad).has_value());
  }
}

namespace {

// Two leaves from one hand-made CA, judged by judge_rollover alone: no check
// rule ran, so each row's class comes from the comparison itself.
struct HandMade {
  tls::PrivateKey ca_key = testing::ec_key();
  std::optional<tls::Certificate> ca;
  tls::Store store;
  HandMade() {
    tls::CertificateSpec spec;
    spec.common_name = "Hand-made CA";
    spec.is_ca = true;
    ca = tls::issue_certificate(spec, ca_key, nullptr, ca_key).value();
  }
  static tls::CertificateSpec leaf_spec() {
    tls::CertificateSpec spec;
    spec.common_name = "bemsapppool.example.com";
    spec.dns_names = {"bemsapppool.example.com"};
    spec.eku = {"serverAuth", "clientAuth"};
    return spec;
  }
  tls::Certificate leaf(const tls::CertificateSpec& spec, const tls::PrivateKey& key) const {
    auto issued = tls::issue_certificate(spec, key, &*ca, ca_key);
    REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().message));
    return *issued;
  }
  probe::RolloverVerdict judge(const tls::Certificate& current,
                               const tls::Certificate& next) const {
    probe::RolloverInputs inputs;
    // The EKU rule as `check` judges each certificate: rows blame it by id.
    inputs.current = {
        &store, {current, *ca}, {probe::rules::eku(probe::Side::bems, current.info())}};
    inputs.next = {&store, {next, *ca}, {probe::rules::eku(probe::Side::bems, next.info())}};
    inputs.pool = "bemsapppool.example.com";
    return probe::judge_rollover(inputs);
  }
};

const tls::PrivateKey& rsa_key() {
  static const tls::PrivateKey key = tls::generate_key(tls::KeySpec{}).value();
  return key;
}

report::ComparisonRow row_of(const probe::RolloverVerdict& verdict, const std::string& field) {
  for (const auto& row : verdict.comparison.rows)
    if (row.field == field) return row;
  FAIL("no row " << field);
  return {};
}

const report::Finding& finding_of(const probe::RolloverVerdict& verdict, const std::string& id) {
  for (const auto& finding : verdict.findings)
    if (finding.id == id) return finding;
  FAIL("no finding " << id);
  throw std::logic_error(id);
}

}  // namespace

TEST_CASE("OpenSSL reads the application policies AD CS adds beside the EKU") {
  HandMade pki;
  auto spec = HandMade::leaf_spec();
  spec.application_policies = {"clientAuth", "serverAuth", "1.3.6.1.4.1.311.10.3.12"};
  const auto with = pki.leaf(spec, testing::ec_key()).info();
  CHECK(with.has_application_policies);
  CHECK(with.application_policies ==
        std::vector<std::string>{"clientAuth", "serverAuth", "1.3.6.1.4.1.311.10.3.12"});
  const auto without = pki.leaf(HandMade::leaf_spec(), testing::ec_key()).info();
  CHECK_FALSE(without.has_application_policies);
  CHECK(without.application_policies.empty());
}

// schannel enforces Application Policies as the EKU when they are present:
// `check` fails bems.eku for a purpose they omit, whatever the EKU says.
TEST_CASE("bems.eku fails when the application policies omit clientAuth or serverAuth") {
  HandMade pki;
  auto judged = [&](std::vector<std::string> policies) {
    auto spec = HandMade::leaf_spec();
    spec.application_policies = std::move(policies);
    return probe::rules::eku(probe::Side::bems, pki.leaf(spec, testing::ec_key()).info());
  };
  auto server_only = judged({"serverAuth"});
  CHECK(report::to_string(server_only.status) == "fail");
  CHECK(mentions(server_only.detail, "but not clientAuth"));
  CHECK(mentions(server_only.remedy, "Application Policies"));
  CHECK(report::to_string(judged({"clientAuth", "serverAuth"}).status) == "pass");
  CHECK(report::to_string(judged({"anyExtendedKeyUsage"}).status) == "pass");
  CHECK(
      report::to_string(probe::rules::eku(probe::Side::bems,
                                          pki.leaf(HandMade::leaf_spec(), testing::ec_key()).info())
                            .status) == "pass");
}

TEST_CASE("key usage rows: losing what the key type needs in TLS is breaking, the rest is not") {
  HandMade pki;
  const auto current = pki.leaf(HandMade::leaf_spec(), rsa_key());  // digitalSignature, keyEnc.
  REQUIRE(current.info().key_usage ==
          std::vector<std::string>{"digitalSignature", "keyEncipherment"});
  struct Case {
    const char* name;
    std::vector<std::string> next_usage;
    bool ec;
    std::optional<report::ChangeClass> change;
    const char* reason;
    const char* finding;
  };
  const Case cases[] = {
      {"RSA without keyEncipherment",
       {"digitalSignature"},
       false,
       report::ChangeClass::breaking,
       "RSA key exchange",
       "fail"},
      {"RSA without digitalSignature",
       {"keyEncipherment"},
       false,
       report::ChangeClass::breaking,
       "signs its handshake",
       "skip"},
      {"EC without keyEncipherment",
       {"digitalSignature"},
       true,
       report::ChangeClass::neutral,
       "does not need it",
       "pass"},
      {"RSA adding nonRepudiation",
       {"digitalSignature", "nonRepudiation", "keyEncipherment"},
       false,
       report::ChangeClass::neutral,
       "other usages play no part",
       "pass"},
      {"RSA, the same usages",
       {"digitalSignature", "keyEncipherment"},
       false,
       std::nullopt,
       "",
       "pass"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto spec = HandMade::leaf_spec();
    spec.key_usage = c.next_usage;
    const auto next = pki.leaf(spec, c.ec ? testing::ec_key() : rsa_key());
    const auto verdict = pki.judge(current, next);
    const auto row = row_of(verdict, "key usage");
    CHECK(row.change == c.change);
    CHECK(mentions(row.reason, c.reason));
    const auto& finding = finding_of(verdict, "rollover.key-usage");
    CHECK(report::to_string(finding.status) == c.finding);
    if (c.change == report::ChangeClass::breaking && c.finding == std::string("fail")) {
      CHECK(mentions(row.reason, "rollover.key-usage"));
      CHECK(mentions(finding.remedy, "template"));
    } else if (c.change == report::ChangeClass::breaking) {
      // bems.eku fails for a key that may not sign; the row and the skipped
      // rollover.key-usage point there, and nothing says the usage is kept.
      CHECK(mentions(row.reason, "bems.eku fails with the next certificate"));
      CHECK(mentions(finding.detail, "bems.eku"));
      CHECK(!mentions(finding.detail, "wherever the current one does"));
    }
  }
}

TEST_CASE(
    "application policies rows: dropping clientAuth breaks bems.eku (schannel), other changes are "
    "risky") {
  HandMade pki;
  auto with_policies = [&](std::vector<std::string> policies) {
    auto spec = HandMade::leaf_spec();
    spec.application_policies = std::move(policies);
    return pki.leaf(spec, testing::ec_key());
  };
  const auto current = with_policies({"clientAuth", "serverAuth"});

  const auto dropped = pki.judge(current, with_policies({"serverAuth"}));
  auto row = row_of(dropped, "application policies");
  CHECK(row.before == "clientAuth, serverAuth");
  CHECK(row.after == "serverAuth");
  CHECK(row.change == report::ChangeClass::breaking);
  CHECK(mentions(row.reason, "do not name clientAuth"));
  CHECK(mentions(row.reason, "schannel enforces them as the EKU"));
  CHECK(mentions(row.reason, "bems.eku fails with the next certificate"));
  // The offline EKU rule owns the defect; the risky summary does not repeat it.
  CHECK(report::to_string(finding_of(dropped, "rollover.risky").status) == "pass");

  const auto more =
      pki.judge(current, with_policies({"clientAuth", "serverAuth", "1.3.6.1.4.1.311.10.3.12"}));
  row = row_of(more, "application policies");
  CHECK(row.change == report::ChangeClass::risky);
  CHECK(mentions(row.reason, "still allowed"));

  // A public CA's certificate has none: every purpose the EKU names is allowed.
  const auto none = pki.judge(current, pki.leaf(HandMade::leaf_spec(), testing::ec_key()));
  row = row_of(none, "application policies");
  CHECK(row.after == "(none)");
  CHECK(row.change == report::ChangeClass::risky);

  const auto same = pki.judge(current, with_policies({"clientAuth", "serverAuth"}));
  CHECK_FALSE(row_of(same, "application policies").change.has_value());
  // Neither certificate has them: no row at all.
  const auto plain = pki.leaf(HandMade::leaf_spec(), testing::ec_key());
  for (const auto& r : pki.judge(plain, plain).comparison.rows)
    CHECK(r.field != "application policies");
}

TEST_CASE("a pool name written with a final dot is blamed once, by bems.subject.cn-fqdn") {
  HandMade pki;
  auto spec = HandMade::leaf_spec();
  spec.common_name = "bemsapppool.example.com.";
  spec.dns_names = {"bemsapppool.example.com.", "bemsserver01.example.com"};
  const auto leaf = pki.leaf(spec, testing::ec_key());
  const std::string pool = "bemsapppool.example.com";
  const auto cn = probe::rules::subject_cn(leaf.info(), pool);
  CHECK(report::to_string(cn.status) == "fail");
  CHECK(mentions(cn.detail, "ends with a dot"));
  CHECK(mentions(cn.remedy, "CN=bemsapppool.example.com (no final dot)"));
  const auto san = probe::rules::san_pool(leaf, pool, false);
  CHECK(report::to_string(san.status) == "skip");
  CHECK(mentions(san.detail, "bems.subject.cn-fqdn"));
  const auto syntax = probe::rules::san_syntax(probe::Side::bems, leaf.info(), &cn);
  CHECK(report::to_string(syntax.status) == "skip");
  // The same names without the dot pass all three.
  spec.common_name = pool;
  spec.dns_names = {pool, "bemsserver01.example.com"};
  const auto plain = pki.leaf(spec, testing::ec_key());
  CHECK(report::to_string(probe::rules::subject_cn(plain.info(), pool).status) == "pass");
  CHECK(report::to_string(probe::rules::san_pool(plain, pool, false).status) == "pass");
}

TEST_CASE("a key usage without digitalSignature fails bems.eku, for RSA and EC keys alike") {
  HandMade pki;
  for (const auto& usages : std::vector<std::vector<std::string>>{
           {"keyEncipherment"}, {"keyAgreement"}, {"nonRepudiation"}}) {
    auto spec = HandMade::leaf_spec();
    spec.key_usage = usages;
    const auto eku = probe::rules::eku(probe::Side::bems, pki.leaf(spec, rsa_key()).info());
    CAPTURE(usages.front());
    CHECK(report::to_string(eku.status) == "fail");
    CHECK(mentions(eku.detail, "lacks digitalSignature"));
  }
  auto spec = HandMade::leaf_spec();
  spec.key_usage = {"digitalSignature"};
  CHECK(
      report::to_string(
          probe::rules::eku(probe::Side::bems, pki.leaf(spec, testing::ec_key()).info()).status) ==
      "pass");
}
