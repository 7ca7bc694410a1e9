#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "report/model.hpp"
#include "report/render.hpp"
#include "report/target_stream.hpp"
#include "report/utf8.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

// Text a hostile or careless certificate could carry: markup, quotes, a newline, control
// characters (ESC, BEL, NUL), a byte that is not UTF-8, and real UTF-8.
const std::string kTricky =
    std::string("CN=\"Müller & Söhne\" <pool'01> \x1b[31mred\x07 tab\there\nsecond line ") +
    std::string(1, '\0') + "nul \xff bad ✓";

report::Report sample_report() {
  report::Report report;
  report.version = "0.1.0";
  report.command = "check";
  report.generated_at = "2024-05-01T12:00:00Z";
  report.sections.push_back(
      {"Stores", {{"personal", "store/personal"}, {"trusted root", "3 certificates"}}});
  report.facts["store"] = "store";
  report.facts["certificates"] = 3;

  report::CertificateRef cert{kTricky, "CN=Example Issuing CA", "0A1B2C",
                              "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
                              "67:89:AB:CD:EF:01:23:45:67:89"};
  report.findings.push_back({"bems.san.pool", "Subject Alternative Name", report::Status::pass,
                             "SAN lists the pool FQDN", "SAN has bemsapppool.example.com.", "",
                             std::nullopt});
  report.findings.push_back({"bems.cn.fqdn", "Subject Name", report::Status::fail,
                             "CN is a valid FQDN", kTricky,
                             "Reissue the certificate with CN=bemsapppool.example.com.", cert});
  report.findings.push_back({"bems.san.extra", "Subject Alternative Name", report::Status::warn,
                             "SAN has no unexpected names", "SAN also lists <old> & \"legacy\".",
                             "Remove the legacy name when you next renew.", std::nullopt});
  report.findings.push_back({"lync.chain.intermediate", "Intermediate certificates",
                             report::Status::skip, "Intermediate present in the store",
                             "No Lync certificate was given.", "", std::nullopt});
  report.findings.push_back({"misc.extra", "", report::Status::fail,
                             "A finding with no requirement", "It still renders.",
                             "Give it a requirement.", std::nullopt});
  return report;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("JSON parses back with every documented field and value") {
  const report::Report report = sample_report();
  const std::string json = report::render_json(report);
  boost::json::error_code ec;
  const boost::json::value parsed = boost::json::parse(json, ec);
  REQUIRE_MESSAGE(!ec, ec.message() << "\n" << json);
  const boost::json::object& root = parsed.as_object();

  CHECK(root.at("tool").as_string() == "mtlsprobe");
  CHECK(root.at("version").as_string() == "0.1.0");
  CHECK(root.at("command").as_string() == "check");
  CHECK(root.at("generated_at").as_string() == "2024-05-01T12:00:00Z");
  CHECK(root.at("result").as_string() == "fail");
  const boost::json::object& counts = root.at("counts").as_object();
  CHECK(counts.at("pass").as_int64() == 1);
  CHECK(counts.at("warn").as_int64() == 1);
  CHECK(counts.at("fail").as_int64() == 2);
  CHECK(counts.at("skip").as_int64() == 1);

  const boost::json::object& section = root.at("sections").as_array().at(0).as_object();
  CHECK(section.at("title").as_string() == "Stores");
  CHECK(section.at("lines").as_array().at(1).as_object().at("key").as_string() == "trusted root");
  CHECK(root.at("facts").as_object().at("certificates").as_int64() == 3);

  const boost::json::array& findings = root.at("findings").as_array();
  REQUIRE(findings.size() == 5);
  CHECK(findings.at(0).as_object().at("certificate").is_null());
  const boost::json::object& failed = findings.at(1).as_object();
  CHECK(failed.at("id").as_string() == "bems.cn.fqdn");
  CHECK(failed.at("requirement").as_string() == "Subject Name");
  CHECK(failed.at("status").as_string() == "fail");
  CHECK(failed.at("remedy").as_string() ==
        "Reissue the certificate with CN=bemsapppool.example.com.");
  // Everything but the one non-UTF-8 byte survives the round trip exactly.
  std::string expected = kTricky;
  expected.replace(expected.find('\xff'), 1, "\xEF\xBF\xBD");
  CHECK(failed.at("detail").as_string() == expected);
  const boost::json::object& cert = failed.at("certificate").as_object();
  CHECK(cert.at("subject").as_string() == expected);
  CHECK(cert.at("issuer").as_string() == "CN=Example Issuing CA");
  CHECK(cert.at("serial").as_string() == "0A1B2C");
  CHECK(cert.at("sha256").as_string().size() == 95);
}

TEST_CASE("JSON keeps field order and indents by two spaces") {
  const std::string json = report::render_json(sample_report());
  CHECK(json.rfind("{\n  \"tool\": \"mtlsprobe\",\n  \"version\": \"0.1.0\",\n", 0) == 0);
  CHECK(json.find("\"tool\"") < json.find("\"result\""));
  CHECK(json.find("\"result\"") < json.find("\"counts\""));
  CHECK(json.find("\"facts\"") < json.find("\"findings\""));
  CHECK(json.find("\n    {\n      \"id\": \"bems.san.pool\",\n") != std::string::npos);
  CHECK(json.find("\"certificate\": null") != std::string::npos);
  CHECK(json.back() == '\n');
}

TEST_CASE("JSON result is pass when nothing fails, warnings included") {
  report::Report report = sample_report();
  std::erase_if(report.findings,
                [](const report::Finding& f) { return f.status == report::Status::fail; });
  report.facts.clear();
  report.sections.clear();
  const boost::json::value parsed = boost::json::parse(report::render_json(report));
  CHECK(parsed.at("result").as_string() == "pass");
  CHECK(parsed.at("facts").as_object().empty());
  CHECK(parsed.at("sections").as_array().empty());
}

TEST_CASE("JUnit XML is well-formed and counts failures and skips") {
  const std::string xml = report::render_junit(sample_report());
  CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0) == 0);
  CHECK(xml.find("<testsuites name=\"mtlsprobe\" tests=\"5\" failures=\"2\" errors=\"0\" "
                 "skipped=\"1\">") != std::string::npos);
  CHECK(xml.find("<testsuite name=\"mtlsprobe check\" tests=\"5\" failures=\"2\" errors=\"0\" "
                 "skipped=\"1\"") != std::string::npos);
  CHECK(occurrences(xml, "<testcase ") == 5);
  CHECK(occurrences(xml, "<failure ") == 2);
  CHECK(occurrences(xml, "<skipped ") == 1);
  CHECK(xml.find("<testcase classname=\"Subject Name\" name=\"bems.cn.fqdn\"") !=
        std::string::npos);
  CHECK(xml.find("<testcase classname=\"misc\" name=\"misc.extra\"") != std::string::npos);
  CHECK(xml.find("<failure message=\"CN is a valid FQDN\" type=\"fail\">") != std::string::npos);
  CHECK(xml.find("<skipped message=\"No Lync certificate was given.\"/>") != std::string::npos);
  CHECK(xml.find("<system-out>WARN: SAN also lists &lt;old&gt; &amp; &quot;legacy&quot;. fix: "
                 "Remove the legacy name when you next renew.</system-out>") != std::string::npos);
  CHECK(xml.find("fix: Reissue the certificate") != std::string::npos);
  // Characters XML 1.0 forbids even as references are gone.
  CHECK(xml.find('\x1b') == std::string::npos);
  CHECK(xml.find('\x07') == std::string::npos);
  CHECK(xml.find('\0') == std::string::npos);
  CHECK(xml.find("&#27;") == std::string::npos);

  testing::TempDir dir;
  testing::write_file(dir / "report.xml", xml);
  const testing::ProcessResult lint =
      testing::run_process({"xmllint", "--noout", (dir / "report.xml").string()});
  REQUIRE_MESSAGE(lint.exit_code != 127, "xmllint is missing: apt-get install libxml2-utils");
  CHECK_MESSAGE(lint.exit_code == 0, lint.err);
}

TEST_CASE("text groups findings by requirement in first-seen order") {
  const std::string text = report::render_text(sample_report(), {});
  CHECK(text.rfind("mtlsprobe - 0.1.0 - check - 2024-05-01T12:00:00Z\n", 0) == 0);
  CHECK(text.find("\nStores\n  personal:      store/personal\n  trusted root:  3 certificates\n") !=
        std::string::npos);
  // Both SAN findings sit under one heading even though a Subject Name finding came between.
  const std::size_t san = text.find("\nSubject Alternative Name\n");
  const std::size_t subject = text.find("\nSubject Name\n");
  const std::size_t intermediate = text.find("\nIntermediate certificates\n");
  REQUIRE(san != std::string::npos);
  CHECK(occurrences(text, "\nSubject Alternative Name\n") == 1);
  CHECK(san < subject);
  CHECK(subject < intermediate);
  CHECK(text.find("\nOther findings\n") != std::string::npos);
  CHECK(text.find("\n  PASS  bems.san.pool            SAN lists the pool FQDN\n"
                  "  WARN  bems.san.extra           SAN has no unexpected names\n") > san);
  CHECK(text.find("  FAIL  bems.cn.fqdn             CN is a valid FQDN\n") > subject);
  CHECK(text.find("  SKIP  lync.chain.intermediate  Intermediate present in the store\n"
                  "        No Lync certificate was given.\n") > intermediate);
  CHECK(text.find("        fix: Reissue the certificate with CN=bemsapppool.example.com.\n") !=
        std::string::npos);
  CHECK(text.find("          serial:  0A1B2C\n") != std::string::npos);
  CHECK(text.find("          SHA-256: AB:CD:EF") != std::string::npos);
  CHECK(text.find("Müller & Söhne") != std::string::npos);
  CHECK(text.find("\\x1B[31mred\\x07") != std::string::npos);
  CHECK(text.ends_with("\nResult: FAIL - 2 failed, 1 warning, 1 passed, 1 skipped\n"));
}

TEST_CASE("text shows passing details only when verbose") {
  CHECK(report::render_text(sample_report(), {}).find("SAN has bemsapppool") == std::string::npos);
  report::TextOptions verbose;
  verbose.verbose = true;
  CHECK(report::render_text(sample_report(), verbose)
            .find("SAN lists the pool FQDN\n        SAN has bemsapppool.example.com.\n") !=
        std::string::npos);
}

TEST_CASE("text has ANSI colour only when asked") {
  const std::string plain = report::render_text(sample_report(), {});
  CHECK(plain.find('\x1b') == std::string::npos);
  report::TextOptions colour;
  colour.color = true;
  const std::string coloured = report::render_text(sample_report(), colour);
  CHECK(coloured.find("\x1b[32mPASS\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[33mWARN\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[31mFAIL\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[90mSKIP\x1b[0m") != std::string::npos);
}

TEST_CASE("text wraps long details at about 100 columns under the finding") {
  report::Report report = sample_report();
  std::string long_detail;
  for (int i = 0; i < 40; ++i) long_detail += "word" + std::to_string(i) + " ";
  report.findings.at(1).detail = long_detail;
  const std::string text = report::render_text(report, {});
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.find("word") != std::string::npos) {
      CHECK(line.rfind("        word", 0) == 0);
      CHECK(line.size() <= 100);
    }
    start = end + 1;
  }
  CHECK(text.find("word39") != std::string::npos);
}

TEST_CASE("text escapes bidi overrides and other format characters as \\uXXXX") {
  report::Report report;
  // U+202E RIGHT-TO-LEFT OVERRIDE would show "moc.elpmaxe.loopppamseb" reversed, i.e. as the
  // real pool name; U+200B ZERO WIDTH SPACE and U+2066 LEFT-TO-RIGHT ISOLATE hide as well.
  const std::string forged = "CN=evil\u202Emoc.elpmaxe.loopppa\u200Bmesb\u2066x";
  report.findings.push_back({"bems.subject.cn-fqdn", "r", report::Status::fail, "CN is the pool",
                             "CN " + forged + " is not the pool.", "Reissue.",
                             report::CertificateRef{forged, "CN=CA", "01", "AA"}});
  const std::string text = report::render_text(report, {});
  CHECK(text.find("\\u202E") != std::string::npos);
  CHECK(text.find("\\u200B") != std::string::npos);
  CHECK(text.find("\\u2066") != std::string::npos);
  for (const char* raw : {"\u202E", "\u200B", "\u2066"}) CHECK(text.find(raw) == std::string::npos);
  CHECK(text.find("moc.elpmaxe") != std::string::npos);  // the rest is kept as it was
}

TEST_CASE("text wraps wide characters by display columns, not code points") {
  report::Report report;
  std::string wide;
  for (int i = 0; i < 30; ++i) wide += "\u6F22\u5B57 ";  // 30 words of two wide characters
  report.findings.push_back({"x", "r", report::Status::fail, "t", wide, "", std::nullopt});
  const std::string text = report::render_text(report, {});
  // Each word takes 4 columns plus a space: at most 18 fit in 100 columns after the indent,
  // where counting code points would have put all 30 on one line.
  std::size_t lines_with_words = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find("\u6F22") != std::string::npos) {
      ++lines_with_words;
      std::size_t words = 0;
      for (std::size_t p = line.find("\u6F22"); p != std::string::npos;
           p = line.find("\u6F22", p + 1))
        ++words;
      CHECK(8 + words * 5 - 1 <= 100);
    }
    start = end + 1;
  }
  CHECK(lines_with_words == 2);
}

TEST_CASE("summary says PASS when nothing fails") {
  report::Report report = sample_report();
  std::erase_if(report.findings,
                [](const report::Finding& f) { return f.status == report::Status::fail; });
  CHECK(report::render_text(report, {})
            .ends_with("\nResult: PASS - 0 failed, 1 warning, 1 passed, 1 skipped\n"));
}

TEST_CASE("exit code is 0 for passes and warnings, 1 for failures and strict warnings") {
  report::Report report;
  report.findings.push_back({"a", "r", report::Status::pass, "t", "", "", std::nullopt});
  report.findings.push_back({"b", "r", report::Status::skip, "t", "", "", std::nullopt});
  for (bool strict : {false, true}) {
    report.strict = strict;
    CHECK(report::exit_code(report) == report::kExitPass);
  }
  report.findings.push_back({"c", "r", report::Status::warn, "t", "", "", std::nullopt});
  report.strict = false;
  CHECK(report::exit_code(report) == report::kExitPass);
  report.strict = true;
  CHECK(report::exit_code(report) == report::kExitFail);
  report.findings.push_back({"d", "r", report::Status::fail, "t", "", "", std::nullopt});
  for (bool strict : {false, true}) {
    report.strict = strict;
    CHECK(report::exit_code(report) == report::kExitFail);
  }
}

TEST_CASE("under --strict a warning fails the text, JSON, JUnit and exit code alike") {
  report::Report report;
  report.findings.push_back({"a", "r", report::Status::pass, "t", "", "", std::nullopt});
  report.findings.push_back(
      {"w", "r", report::Status::warn, "warned", "a warning", "fix it", std::nullopt});
  for (bool strict : {false, true}) {
    CAPTURE(strict);
    report.strict = strict;
    const std::string verdict = strict ? "fail" : "pass";
    CHECK(report::exit_code(report) == (strict ? report::kExitFail : report::kExitPass));
    auto json = boost::json::parse(report::render_json(report));
    CHECK(json.at("result").as_string() == verdict);
    CHECK(json.at("strict").as_bool() == strict);
    const std::string junit = report::render_junit(report);
    CHECK(junit.find(strict ? "failures=\"1\"" : "failures=\"0\"") != std::string::npos);
    CHECK((junit.find("<failure") != std::string::npos) == strict);
    const std::string text = report::render_text(report, {});
    CHECK(text.find(strict ? "Result: FAIL" : "Result: PASS") != std::string::npos);
  }
}

TEST_CASE(
    "one_line_printable escapes controls, C1, bidi and zero-width characters for a log line") {
  // Issue 16 item 14: serve's SIP log printed a client's request-URI raw.
  CHECK(report::one_line_printable("sip:a@b\r\nFAKE: line") == "sip:a@b\\x0D\\x0AFAKE: line");
  CHECK(report::one_line_printable("x\xC2\x85y") == "x\\x85y");  // NEL (C1)
  CHECK(report::one_line_printable("a\xE2\x80\xAE"
                                   "cba") == "a\\u{202E}cba");  // RLO
  CHECK(report::one_line_printable("a\xE2\x81\xA6"
                                   "b") == "a\\u{2066}b");  // LRI
  CHECK(report::one_line_printable("\xEF\xBB\xBFz\xE2\x80\x8B") == "\\u{FEFF}z\\u{200B}");
  CHECK(report::one_line_printable("\x1B[31mred") == "\\x1B[31mred");
  CHECK(report::one_line_printable("caf\xC3\xA9 \xE4\xB8\xAD") == "caf\xC3\xA9 \xE4\xB8\xAD");
}

namespace {

// A run over three targets (the middle one fails) with a run-level finding.
report::Report fleet_run() {
  report::Report run;
  run.version = "0.1.0";
  run.command = "connect";
  run.generated_at = "2024-05-01T12:00:00Z";
  run.tables.push_back(
      {"Servers (3)", {"address", "verdict"}, {{"a", "pass"}, {"b", "fail"}, {"c", "pass"}}});
  run.findings.push_back({"pool.consistent", "Pool", report::Status::pass, "Same issuer",
                          "All 3 servers present the same chain.", "", std::nullopt});
  for (const std::string name : {"a", "b", "c"}) {
    report::Report target;
    target.command = "connect";
    target.target = "pool:5061 via " + name + ":5061";
    target.findings.push_back({"handshake.tcp", "Handshake",
                               name == "b" ? report::Status::fail : report::Status::pass,
                               "TCP connects", "to " + name, "", std::nullopt});
    run.targets.push_back(target);
  }
  return run;
}

// The run streamed target by target, as connect over many targets writes it.
std::string streamed(report::Format format, const report::Report& whole, bool verbose = false) {
  std::ostringstream out;
  report::TargetStream stream(format, {.color = false, .verbose = verbose}, whole, out);
  report::Report run = whole;
  run.targets.clear();
  for (const report::Report& target : whole.targets) stream.add(target);
  const report::Report finished = stream.finish(run);
  CHECK(report::exit_code(finished) == report::exit_code(whole));
  return out.str();
}

}  // namespace

TEST_CASE("a run streamed target by target reads as the same JSON as the run kept whole") {
  const report::Report whole = fleet_run();
  auto kept = boost::json::parse(report::render_json(whole)).as_object();
  auto streamed_json = boost::json::parse(streamed(report::Format::json, whole)).as_object();
  CHECK(streamed_json.size() == kept.size());
  for (const auto& member : kept) {
    INFO(member.key());
    REQUIRE(streamed_json.contains(member.key()));
    CHECK(streamed_json.at(member.key()) == member.value());
  }
  CHECK(streamed_json.at("summary").at("fail").as_int64() == 1);
  CHECK(streamed_json.at("result").as_string() == "fail");

  report::Report empty = whole;
  empty.targets.clear();
  auto none = boost::json::parse(streamed(report::Format::json, empty)).as_object();
  CHECK(none.at("targets").as_array().empty());
  CHECK(none.at("summary").at("targets").as_int64() == 0);
}

TEST_CASE("a run streamed target by target: the same text, and JUnit suites per target") {
  const report::Report whole = fleet_run();
  for (bool verbose : {false, true}) {
    CHECK(streamed(report::Format::text, whole, verbose) ==
          report::render_text(whole, {.color = false, .verbose = verbose}));
  }
  // Enough failing targets that their details pass through the temporary
  // file in several reads; none of them is kept in memory, and they come out
  // in the order of their index (the table's) whatever order they finished in.
  report::Report many = whole;
  many.targets.clear();
  for (int i = 0; i < 300; ++i) {
    report::Report target;
    target.command = "connect";
    target.target = "pool:5061 via 127.0.1." + std::to_string(i) + ":5061";
    target.index = i;
    target.sections.push_back(
        {"Handshake with " + target.target, {{"peer", "CN=fe" + std::to_string(i)}}});
    target.findings.push_back(
        {"handshake.tcp", "Handshake", i % 3 == 0 ? report::Status::pass : report::Status::fail,
         "TCP connects", std::string(400, 'a' + i % 26), "retry", std::nullopt});
    many.targets.push_back(target);
  }
  std::ostringstream out;
  report::TargetStream stream(report::Format::text, {}, many, out);
  for (auto target = many.targets.rbegin(); target != many.targets.rend(); ++target)
    stream.add(*target);
  report::Report run = many;
  run.targets.clear();
  const report::Report finished = stream.finish(run);
  CHECK(finished.targets.empty());
  CHECK(finished.streamed_targets == 300);
  CHECK(finished.streamed_failing == 200);
  CHECK(out.str().size() > 64 * 1024);
  CHECK(out.str() == report::render_text(many, {}));

  // JUnit, streamed in reverse: one suite per target, in the table's order.
  std::ostringstream junit_out;
  report::TargetStream junit(report::Format::junit, {}, many, junit_out);
  for (auto target = many.targets.rbegin(); target != many.targets.rend(); ++target)
    junit.add(*target);
  junit.finish(run);
  const std::string suites = junit_out.str();
  CHECK(occurrences(suites, "<testsuite ") == 301);
  std::size_t last = 0;
  for (int i = 0; i < 300; ++i) {
    const auto at = suites.find("via 127.0.1." + std::to_string(i) + ":5061\"");
    REQUIRE(at != std::string::npos);
    CHECK_MESSAGE(at > last, i);
    last = at;
  }

  const std::string xml = streamed(report::Format::junit, whole);
  CHECK(occurrences(xml, "<testsuite ") == 4);  // three targets and the run's own findings
  CHECK(occurrences(xml, "<failure ") == 1);
  CHECK(xml.find("<testsuite name=\"mtlsprobe connect pool:5061 via b:5061\" tests=\"1\" "
                 "failures=\"1\"") != std::string::npos);
  testing::TempDir dir;
  testing::write_file(dir / "fleet.xml", xml);
  const testing::ProcessResult lint =
      testing::run_process({"xmllint", "--noout", (dir / "fleet.xml").string()});
  CHECK_MESSAGE(lint.exit_code == 0, lint.err);
}
