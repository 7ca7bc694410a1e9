// The Prometheus text exposition of the result model (report/prometheus.hpp):
// hand-built reports in, metrics out, each exposition checked by promtool.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "report/prometheus.hpp"
#include "tests/support/promtool.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"

using testing::mentions;
using testing::promtool_problems;

namespace {

report::Finding finding(const std::string& id, report::Status status) {
  report::Finding f;
  f.id = id;
  f.status = status;
  f.title = id;
  return f;
}

report::Report rejected_handshake() {
  report::Report report;
  report.command = "connect";
  report.findings.push_back(finding("handshake.tcp", report::Status::pass));
  report.findings.push_back(finding("handshake.peer-rejected-us", report::Status::fail));
  report.findings.push_back(finding("bems.revocation", report::Status::skip));
  report::HandshakeMeasurement h;
  h.address = "127.0.0.1:5061";
  h.completed = true;
  h.phase_seconds = {{"tcp", 0.0004}, {"tls", 0.0031}, {"verdict", 0.0012}};
  h.alerts = {{"received", "unknown_ca"}};
  h.tls_version = "TLSv1.3";
  h.cipher_suite = "TLS_AES_256_GCM_SHA384";
  report.monitoring.handshakes.push_back(h);
  report.monitoring.certificates.push_back(
      {"ours",
       "",
       0,
       {"CN=bemsapppool.example.com", "CN=Issuing CA", "0A1B", "AB:CD"},
       1798761600});
  report.monitoring.certificates.push_back(
      {"peer",
       "127.0.0.1:5061",
       0,
       {"CN=lyncpool.example.com", "CN=Other CA", "77", "EF:01"},
       1798000000});
  report.monitoring.revocation.push_back({"ours", "", 0, "not_published"});
  report.monitoring.duration_seconds = 0.0125;
  report.monitoring.finished_at = 1790000000;
  return report;
}

}  // namespace

TEST_CASE("label values escape backslash, quote and newline and replace bytes that are not UTF-8") {
  CHECK(report::escape_label_value("plain") == "plain");
  CHECK(report::escape_label_value("a\\b") == "a\\\\b");
  CHECK(report::escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(report::escape_label_value("one\ntwo") == "one\\ntwo");
  CHECK(report::escape_label_value("bad \xff byte") == "bad \xEF\xBF\xBD byte");
  CHECK(report::escape_label_value("Müller ✓") == "Müller ✓");
  CHECK(report::escape_help("a\\b\nc \"q\"") == "a\\\\b\\nc \"q\"");
}

TEST_CASE("sample values: whole numbers as integers, others shortest, special values by name") {
  CHECK(report::format_sample_value(1) == "1");
  CHECK(report::format_sample_value(0) == "0");
  CHECK(report::format_sample_value(1798761600) == "1798761600");
  CHECK(report::format_sample_value(0.25) == "0.25");
  CHECK(report::format_sample_value(-3) == "-3");
  CHECK(report::format_sample_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(report::format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(report::format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("a rejected handshake still gives its certificates, alert, phases and findings") {
  const std::string text = report::render_prometheus(rejected_handshake());
  CHECK(mentions(text, "\nmtlsprobe_probe_success 0\n"));
  CHECK(mentions(text, "mtlsprobe_finding{id=\"handshake.peer-rejected-us\",status=\"fail\"} 1\n"));
  CHECK(mentions(text, "mtlsprobe_finding{id=\"handshake.tcp\",status=\"pass\"} 1\n"));
  CHECK(mentions(text, "mtlsprobe_finding{id=\"bems.revocation\",status=\"skip\"} 1\n"));
  CHECK(
      mentions(text,
               "mtlsprobe_cert_not_after_timestamp_seconds{side=\"ours\",depth=\"0\",subject=\"CN="
               "bemsapppool.example.com\",serial=\"0A1B\",sha256=\"AB:CD\"} 1798761600\n"));
  CHECK(mentions(text,
                 "mtlsprobe_cert_not_after_timestamp_seconds{side=\"peer\",address=\"127.0.0.1:"
                 "5061\",depth=\"0\",subject=\"CN=lyncpool.example.com\",serial=\"77\",sha256="
                 "\"EF:01\"} 1798000000\n"));
  CHECK(mentions(text,
                 "mtlsprobe_tls_alert{address=\"127.0.0.1:5061\",direction=\"received\",alert="
                 "\"unknown_ca\"} 1\n"));
  CHECK(mentions(text,
                 "mtlsprobe_handshake_duration_seconds{address=\"127.0.0.1:5061\",phase=\"tls\"} "
                 "0.0031\n"));
  CHECK(mentions(text,
                 "mtlsprobe_tls_version_info{address=\"127.0.0.1:5061\",version=\"TLSv1.3\","
                 "cipher=\"TLS_AES_256_GCM_SHA384\"} 1\n"));
  CHECK(mentions(text,
                 "mtlsprobe_revocation_status{side=\"ours\",depth=\"0\",status=\"not_published\"} "
                 "1\n"));
  CHECK(mentions(text, "mtlsprobe_run_finished_timestamp_seconds 1790000000\n"));
  CHECK(mentions(text, "# TYPE mtlsprobe_finding gauge\n"));
  CHECK_MESSAGE(promtool_problems(text).empty(), promtool_problems(text), "\n", text);
}

TEST_CASE("probe_success is 1 only when nothing fails and every handshake completed") {
  report::Report report = rejected_handshake();
  report.findings[1].status = report::Status::pass;
  CHECK(report::probe_succeeded(report));
  CHECK(mentions(report::render_prometheus(report), "\nmtlsprobe_probe_success 1\n"));
  report.monitoring.handshakes[0].completed = false;
  CHECK_FALSE(report::probe_succeeded(report));
  report.monitoring.handshakes.clear();
  report.findings.push_back(finding("sip.options", report::Status::warn));
  CHECK(report::probe_succeeded(report));
}

TEST_CASE("a finding id reported twice is one series with the worse status") {
  report::Report report;
  report.findings.push_back(finding("peer.name", report::Status::pass));
  report.findings.push_back(finding("peer.name", report::Status::fail));
  report.findings.push_back(finding("peer.name", report::Status::warn));
  const std::string text = report::render_prometheus(report);
  CHECK(mentions(text, "mtlsprobe_finding{id=\"peer.name\",status=\"fail\"} 1\n"));
  CHECK_FALSE(mentions(text, "status=\"pass\""));
  CHECK_FALSE(mentions(text, "status=\"warn\""));
  CHECK(promtool_problems(text).empty());
}

TEST_CASE("hostile certificate names are escaped and the exposition still parses") {
  report::Report report = rejected_handshake();
  const std::string subject =
      std::string("CN=\"evil\"\\\nmtlsprobe_probe_success 1\n,O=\xff\xfe") + std::string(1, '\0');
  report.monitoring.certificates.push_back(
      {"peer", "127.0.0.1:5061", 1, {subject, "", "1", "2"}, 5});
  // The same certificate again (two identical series would be refused).
  report.monitoring.certificates.push_back(
      {"peer", "127.0.0.1:5061", 1, {subject, "", "1", "2"}, 5});
  const std::string text = report::render_prometheus(report);
  CHECK(mentions(text,
                 "subject=\"CN=\\\"evil\\\"\\\\\\nmtlsprobe_probe_success 1\\n,O="
                 "\xEF\xBF\xBD\xEF\xBF\xBD"));
  CHECK_FALSE(mentions(text, "\nmtlsprobe_probe_success 1\n"));
  std::size_t lines = 0;
  for (std::size_t pos = text.find("depth=\"1\""); pos != std::string::npos;
       pos = text.find("depth=\"1\"", pos + 1))
    ++lines;
  CHECK(lines == 1);
  CHECK_MESSAGE(promtool_problems(text).empty(), promtool_problems(text), "\n", text);
}

TEST_CASE("families without samples are left out; an offline check has no handshake metrics") {
  report::Report report;
  report.findings.push_back(finding("bems.validity", report::Status::pass));
  const std::string text = report::render_prometheus(report);
  CHECK_FALSE(mentions(text, "mtlsprobe_handshake_duration_seconds"));
  CHECK_FALSE(mentions(text, "mtlsprobe_tls_alert"));
  CHECK(mentions(text, "mtlsprobe_probe_success 1\n"));
  CHECK(promtool_problems(text).empty());
}

TEST_CASE("check --format prometheus writes the text file atomically for node_exporter") {
  testing::TempDir dir;
  auto lab =
      testing::run_mtlsprobe({"pki", "init", (dir / "lab").string(), "--key-type", "ecdsa-p256"});
  REQUIRE(lab.exit_code == 0);
  const auto file = dir / "textfile" / "mtlsprobe.prom";
  std::filesystem::create_directories(file.parent_path());
  testing::write_file(file, "stale\n");
  auto run =
      testing::run_mtlsprobe({"check", "--store", (dir / "lab" / "bems").string(), "--peer-store",
                              (dir / "lab" / "lync").string(), "--no-revocation", "--format",
                              "prometheus", "--output", file.string()});
  CHECK(run.exit_code == 0);
  CHECK(run.out.empty());
  const std::string text = testing::read_file(file);
  CHECK(mentions(text, "\nmtlsprobe_probe_success 1\n"));
  CHECK(mentions(text,
                 "mtlsprobe_cert_not_after_timestamp_seconds{side=\"ours\",depth=\"0\","
                 "subject=\"CN=bemsapppool.example.com"));
  CHECK(mentions(text,
                 "mtlsprobe_cert_not_after_timestamp_seconds{side=\"peer\",depth=\"0\","
                 "subject=\"CN=lyncpool.example.com"));
  CHECK(mentions(text, "mtlsprobe_finding{id=\"bems.san.pool\",status=\"pass\"} 1\n"));
  CHECK_MESSAGE(promtool_problems(text).empty(), promtool_problems(text));
  // Only the renamed file is left: no temporary beside it.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(file.parent_path()))
    ++files;
  CHECK(files == 1);

  // A folder that cannot be written: one line, exit 2, nothing half-written.
  auto bad = testing::run_mtlsprobe({"check", "--store", (dir / "lab" / "bems").string(),
                                     "--no-revocation", "--format", "prometheus", "--output",
                                     (dir / "missing" / "x.prom").string()});
  CHECK(bad.exit_code == 2);
  CHECK(mentions(bad.err, "x.prom: cannot write the report"));
}

TEST_CASE("the alert rules in monitoring/ load and pass their promtool unit tests") {
  const std::string folder = std::string(MTLSPROBE_SOURCE_DIR) + "/monitoring/";
  auto checked = testing::run_process({"promtool", "check", "rules", folder + "alerts.yml"});
  CHECK_MESSAGE(checked.exit_code == 0, checked.out, checked.err);
  auto tested = testing::run_process({"promtool", "test", "rules", folder + "alerts_test.yml"});
  CHECK_MESSAGE(tested.exit_code == 0, tested.out, tested.err);
  CHECK(mentions(tested.out + tested.err, "SUCCESS"));
}

TEST_CASE(
    "the Docker lab's Prometheus config loads, with the alert rules and the Lync pool target "
    "beside it") {
  // As docker/prometheus.Dockerfile lays them out in /etc/prometheus/.
  testing::TempDir dir;
  const std::filesystem::path source(MTLSPROBE_SOURCE_DIR);
  std::filesystem::copy_file(source / "docker/prometheus.yml", dir / "prometheus.yml");
  std::filesystem::copy_file(source / "monitoring/alerts.yml", dir / "alerts.yml");
  // The scrape target (file_sd), as the lab's service rewrites it from LYNC_POOL.
  std::filesystem::create_directory(dir / "targets");
  std::filesystem::copy_file(source / "docker/prometheus-targets.yml", dir / "targets/lync.yml");
  auto checked =
      testing::run_process({"promtool", "check", "config", (dir / "prometheus.yml").string()});
  CHECK_MESSAGE(checked.exit_code == 0, checked.out, checked.err);
  CHECK(mentions(checked.out + checked.err, "SUCCESS"));
}
