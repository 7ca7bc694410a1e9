// `mtlsprobe exporter`: its configuration and request checks as tables, then
// end to end: real `mtlsprobe serve` peers on loopback (one that accepts us,
// one that rejects us with unknown_ca), the exporter in front of them, and a
// real Prometheus (Debian's package) scraping it and answering queries.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/url.hpp>

#include "probe/exporter/config.hpp"
#include "probe/lab/pki.hpp"
#include "tests/support/dns_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/promtool.hpp"
#include "tests/support/raw_tcp_server.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/http_client.hpp"

using namespace std::chrono_literals;
using testing::mentions;
using testing::promtool_problems;

namespace {

struct Lab {
  testing::TempDir dir;
  Lab() {
    probe::LabOptions options;
    options.key_type = probe::LabKeyType::ecdsa_p256;
    auto built = probe::build_lab(dir.path(), options);
    REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));
  }
  std::string store(const std::string& side) const { return (dir / side).string(); }
};

Lab& lab() {
  static Lab instance;
  return instance;
}

// A module for the lab: the peers listen on 127.0.0.1, so the name their
// certificate must cover is given; revocation and AIA stay off because the
// lab's URLs name hosts that are not on loopback.
std::string module_section(const std::string& name, const std::string& extra = "",
                           const std::string& timeout = "5") {
  return "[module." + name + "]\nstore = \"" + lab().store("bems") +
         "\"\nexpect-name = \"lyncpool.example.com\"\nno-revocation = true\n"
         "no-aia = true\ntimeout = " +
         timeout + "\n" + extra;
}

mtls::Result<probe::ExporterConfig> parse(const std::string& text) {
  std::istringstream in(text);
  return probe::parse_exporter_config(in, "exporter.toml");
}

std::string error_of(const std::string& text) {
  auto config = parse(text);
  return config ? std::string("(no error)") : config.error().message;
}

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// One GET with extra headers (the HTTP client of tls/ sends none of its own choosing).
HttpAnswer http_get(std::uint16_t port, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(30s);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(4 * 1024 * 1024);
  http::read(stream, buffer, parser);
  return {parser.get().result_int(), parser.get().body()};
}

// `mtlsprobe serve` as the Lync pool on a free port, until the test ends.
class Peer {
 public:
  explicit Peer(const std::vector<std::string>& extra = {})
      : port_(testing::free_port()), process_(argv(port_, extra)) {
    REQUIRE_MESSAGE(testing::wait_for_port(port_, 20s), process_.output());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  static std::vector<std::string> argv(std::uint16_t port, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {MTLSPROBE_BIN,    "serve",
                                     "--listen",       "127.0.0.1:" + std::to_string(port),
                                     "--store",        lab().store("lync"),
                                     "--no-revocation"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::uint16_t port_;
  testing::BackgroundProcess process_;
};

class Exporter {
 public:
  explicit Exporter(const std::string& config_text)
      : port_(testing::free_port()), process_(argv(dir_, config_text, port_)) {
    REQUIRE_MESSAGE(testing::wait_for_port(port_, 20s), process_.output());
  }
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string output() const { return process_.output(); }
  bool running() { return process_.running(); }

 private:
  static std::vector<std::string> argv(const testing::TempDir& dir, const std::string& text,
                                       std::uint16_t port) {
    testing::write_file(dir / "exporter.toml", text);
    return {MTLSPROBE_BIN, "exporter",
            "--config",    (dir / "exporter.toml").string(),
            "--listen",    "127.0.0.1:" + std::to_string(port)};
  }
  testing::TempDir dir_;
  std::uint16_t port_;
  testing::BackgroundProcess process_;
};

std::string probe_target(const std::string& target, const std::string& module = "bems") {
  return "/probe?target=" + target + "&module=" + module;
}

}  // namespace

TEST_CASE("the config's modules are connect options, checked as the command line checks them") {
  auto config = parse(
      "targets = [\"lyncpool.example.com:5061\", \"Edge.Example.com\"]\n"
      "max_concurrent_probes = 2\n" +
      module_section("bems",
                     "sip = true\ninstance = [\"a.example.com\", "
                     "\"b.example.com\"]\n") +
      module_section("quick", "verdict-wait = 0\ntls-min = \"1.3\"\n"));
  REQUIRE_MESSAGE(config, (config ? "" : config.error().message));
  CHECK(config->modules.size() == 2);
  CHECK(config->max_concurrent == 2);
  CHECK(config->restrict_targets);
  const auto* bems = config->module("bems");
  REQUIRE(bems);
  CHECK(bems->settings.sip.sip);
  CHECK(bems->settings.instances == std::vector<std::string>{"a.example.com", "b.example.com"});
  CHECK(bems->settings.timeout == 5s);
  CHECK(bems->settings.store == &bems->store);
  CHECK(bems->store.leaf);
  CHECK(bems->expect_name == "lyncpool.example.com");
  CHECK(config->module("quick")->settings.verdict_wait == 0ms);
  CHECK(config->module("quick")->settings.min_version == tls::TlsVersion::tls1_3);
  CHECK(config->allows({"lyncpool.example.com", 5061}));
  CHECK(config->allows({"edge.example.COM", 5061}));
  CHECK_FALSE(config->allows({"lyncpool.example.com", 443}));
  CHECK_FALSE(config->allows({"evil.example.net", 5061}));
}

TEST_CASE("a bad config is refused with one line naming the file, section and key") {
  CHECK(mentions(error_of(module_section("bems", "colour = \"red\"\n")), "[module.bems]"));
  CHECK(mentions(error_of(module_section("bems", "colour = \"red\"\n")), "colour"));
  CHECK(mentions(error_of(module_section("bems", "role = \"admin\"\n")), "admin"));
  CHECK(mentions(error_of("[module.empty]\nrole = \"bems\"\n"), "no store"));
  CHECK(mentions(error_of("targets = [\"a.example.com\"]\n"), "no [module.NAME]"));
  CHECK(mentions(error_of("[modules.bems]\nstore = \"x\"\n"), "[modules.bems] is not a section"));
  CHECK(mentions(error_of("unknown_key = 1\n" + module_section("bems")), "unknown_key"));
  CHECK(mentions(error_of("targets = [\"a.example.com:0\"]\n" + module_section("bems")),
                 "port must be 1-65535"));
  CHECK(mentions(error_of("[module.bems]\nstore = \"/nonexistent/store\"\n"), "[module.bems]"));
  for (const auto& text : {module_section("bems", "colour = \"red\"\n"),
                           std::string("[module.empty]\nrole = \"bems\"\n")})
    CHECK(error_of(text).find('\n') == std::string::npos);
}

TEST_CASE("a probe request names a known module and an allowed target, or is refused in one line") {
  auto config = parse("targets = [\"lyncpool.example.com:5061\"]\n" + module_section("bems") +
                      module_section("lync", "role = \"lync\"\n"));
  REQUIRE(config);
  auto good = probe::probe_request(*config, probe_target("lyncpool.example.com:5061"), "10");
  REQUIRE(good);
  CHECK(good->module->name == "bems");
  CHECK(config->module("lync")->settings.us == probe::Side::lync);
  CHECK(good->target.host == "lyncpool.example.com");
  CHECK(good->target.port == 5061);
  CHECK(good->budget == 9500ms);  // the scrape timeout less the 0.5 s margin

  auto refused = [&](const std::string& target, const std::string& header = "") {
    auto request = probe::probe_request(*config, target, header);
    return request ? std::string("(accepted)") : request.error().message;
  };
  CHECK(mentions(refused(probe_target("lyncpool.example.com", "nosuch")), "unknown module"));
  CHECK(mentions(refused(probe_target("evil.example.net:5061")), "not in the exporter's allowed"));
  CHECK(mentions(refused(probe_target("lyncpool.example.com:443")), "not in the exporter's"));
  CHECK(mentions(refused("/probe?module=bems"), "target parameter is missing"));
  CHECK(mentions(refused("/probe?target=lyncpool.example.com"), "module parameter is missing"));
  CHECK(mentions(refused(probe_target("lyncpool.example.com"), "soon"), "not a positive number"));
  CHECK(mentions(refused(probe_target("lyncpool.example.com"), "-1"), "not a positive number"));
  // Percent-encoding is undone by Boost.URL, as Prometheus's params are sent encoded.
  CHECK(probe::probe_request(*config, "/probe?target=lyncpool.example.com%3A5061&module=bems", ""));
}

TEST_CASE("a short scrape timeout shrinks every step of the probe to fit it") {
  auto config = parse(module_section("bems", "revocation-timeout = 10\nverdict-wait = 1.5\n"));
  REQUIRE(config);
  const auto& module = *config->modules.front();
  auto unbounded = probe::settings_within(module, std::nullopt);
  CHECK(unbounded.timeout == 5s);
  auto fitted = probe::settings_within(module, 2000ms);
  CHECK(fitted.timeout == 500ms);
  CHECK(fitted.verdict_wait == 500ms);
  CHECK(fitted.revocation_options.total_timeout == 200ms);
  CHECK(fitted.revocation_options.http.timeout == 200ms);
}

TEST_CASE("the exporter answers a good and a rejecting peer over HTTP, and refuses bad requests") {
  const std::uint16_t good_metrics = testing::free_port();
  Peer good({"--metrics-listen", "127.0.0.1:" + std::to_string(good_metrics)});
  Peer rejecting({"--reject-with", "unknown_ca"});
  Exporter exporter("targets = [\"" + good.address() + "\", \"" + rejecting.address() + "\"]\n" +
                    module_section("bems"));

  auto accepted = http_get(exporter.port(), probe_target(good.address()),
                           {{"X-Prometheus-Scrape-Timeout-Seconds", "10"}});
  CHECK(accepted.status == 200);
  CHECK_MESSAGE(mentions(accepted.body, "\nmtlsprobe_probe_success 1\n"), accepted.body);
  CHECK_MESSAGE(promtool_problems(accepted.body).empty(), promtool_problems(accepted.body));

  auto rejected = http_get(exporter.port(), probe_target(rejecting.address()));
  CHECK(rejected.status == 200);
  CHECK(mentions(rejected.body, "\nmtlsprobe_probe_success 0\n"));
  CHECK(mentions(rejected.body,
                 "mtlsprobe_finding{id=\"handshake.peer-rejected-us\",status=\"fail\"} 1\n"));
  CHECK(mentions(rejected.body, "mtlsprobe_tls_alert{address=\"" + rejecting.address() +
                                    "\",direction=\"received\",alert=\"unknown_ca\"} 1\n"));
  CHECK(mentions(rejected.body, "mtlsprobe_cert_not_after_timestamp_seconds{side=\"ours\""));
  CHECK(mentions(rejected.body, "mtlsprobe_cert_not_after_timestamp_seconds{side=\"peer\""));
  CHECK_MESSAGE(promtool_problems(rejected.body).empty(), promtool_problems(rejected.body));

  auto unknown_module = http_get(exporter.port(), probe_target(good.address(), "nosuch"));
  CHECK(unknown_module.status == 400);
  CHECK(unknown_module.body == "unknown module 'nosuch'\n");
  auto outside = http_get(exporter.port(), probe_target("127.0.0.1:1"));
  CHECK(outside.status == 400);
  CHECK(mentions(outside.body, "not in the exporter's allowed targets"));
  CHECK(std::count(outside.body.begin(), outside.body.end(), '\n') == 1);

  auto own = http_get(exporter.port(), "/metrics");
  CHECK(own.status == 200);
  CHECK(mentions(own.body,
                 "mtlsprobe_exporter_probes_total{module=\"bems\",result=\"success\"} 1\n"));
  CHECK(mentions(own.body,
                 "mtlsprobe_exporter_probes_total{module=\"bems\",result=\"failure\"} 1\n"));
  // Two 400s, and no probe ran for them.
  CHECK(
      mentions(own.body, "mtlsprobe_exporter_rejected_requests_total{reason=\"bad_request\"} 2\n"));
  CHECK_MESSAGE(promtool_problems(own.body).empty(), promtool_problems(own.body));
  CHECK(exporter.running());

  // serve --metrics-listen counted the exporter's handshake, by our subject.
  auto served = http_get(good_metrics, "/metrics");
  CHECK(served.status == 200);
  CHECK_MESSAGE(mentions(served.body,
                         "mtlsprobe_serve_handshakes_total{outcome=\"success\","
                         "client_subject=\"CN=bemsapppool.example.com"),
                served.body);
  CHECK(mentions(served.body, "mtlsprobe_serve_unjudged_total 0\n"));
  CHECK_MESSAGE(promtool_problems(served.body).empty(), promtool_problems(served.body));
}

TEST_CASE(
    "a probe of a name dials each of its addresses, each with its own series, and times the "
    "DNS lookup apart") {
  // Two Front Ends behind one name; the second refuses us.
  const std::uint16_t port = testing::free_port();
  auto front_end = [&](const std::string& address, std::vector<std::string> extra) {
    std::vector<std::string> args = {MTLSPROBE_BIN,    "serve",
                                     "--listen",       address + ":" + std::to_string(port),
                                     "--store",        lab().store("lync"),
                                     "--no-revocation"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<testing::BackgroundProcess>(args);
  };
  auto fe1 = front_end("127.0.0.2", {});
  auto fe2 = front_end("127.0.0.3", {"--reject-with", "unknown_ca"});
  for (auto* fe : {fe1.get(), fe2.get()}) {
    for (int i = 0; i < 1000 && fe->running() && !mentions(fe->output(), "serving as"); ++i)
      std::this_thread::sleep_for(20ms);
    REQUIRE_MESSAGE(mentions(fe->output(), "serving as"), fe->output());
  }
  testing::DnsRecords records;
  records.addresses = {{"lyncpool.example.com", "127.0.0.2"},
                       {"lyncpool.example.com", "127.0.0.3"}};
  testing::DnsServer dns(records);
  const std::string target = "lyncpool.example.com:" + std::to_string(port);
  Exporter exporter("targets = [\"" + target + "\"]\n" +
                    module_section("bems", "dns-server = [\"" + dns.address() + "\"]\n"));

  auto answer = http_get(exporter.port(), probe_target(target),
                         {{"X-Prometheus-Scrape-Timeout-Seconds", "20"}});
  REQUIRE(answer.status == 200);
  INFO(answer.body);
  const std::string fe1_address = "127.0.0.2:" + std::to_string(port);
  const std::string fe2_address = "127.0.0.3:" + std::to_string(port);
  for (const auto& address : {fe1_address, fe2_address}) {
    CAPTURE(address);
    CHECK(mentions(answer.body, "mtlsprobe_handshake_duration_seconds{address=\"" + address +
                                    "\",phase=\"tcp\"}"));
    CHECK(mentions(answer.body,
                   "mtlsprobe_cert_not_after_timestamp_seconds{side=\"peer\",address=\"" + address +
                       "\",depth=\"0\""));
  }
  CHECK(mentions(answer.body, "mtlsprobe_tls_alert{address=\"" + fe2_address +
                                  "\",direction=\"received\",alert=\"unknown_ca\"} 1\n"));
  CHECK_FALSE(mentions(answer.body, "mtlsprobe_tls_alert{address=\"" + fe1_address +
                                        "\",direction=\"received\",alert=\"unknown_ca\"}"));
  CHECK(mentions(answer.body, "\nmtlsprobe_dns_lookup_duration_seconds "));
  CHECK(mentions(answer.body, "\nmtlsprobe_probe_success 0\n"));
  CHECK(mentions(answer.body,
                 "mtlsprobe_finding{id=\"handshake.peer-rejected-us\",status=\"fail\"} 1\n"));
  CHECK(mentions(answer.body, "mtlsprobe_finding{id=\"pool.consistent\""));
  CHECK(promtool_problems(answer.body).empty());

  // An address literal is one address and needs no lookup.
  Exporter literal("targets = [\"" + fe1_address + "\"]\n" + module_section("bems"));
  auto one = http_get(literal.port(), probe_target(fe1_address));
  CHECK(mentions(one.body, "\nmtlsprobe_probe_success 1\n"));
  CHECK_FALSE(mentions(one.body, "mtlsprobe_dns_lookup_duration_seconds"));

  CHECK(mentions(error_of(module_section("bems", "dns-server = [\"not an address\"]\n")),
                 "dns-server"));
}

TEST_CASE("probes beyond the bound get 503 at once, and the exporter keeps serving") {
  testing::SilentListener silent;  // accepts TCP, never speaks TLS: each probe waits its timeout
  const std::string target = "127.0.0.1:" + std::to_string(silent.port());
  Exporter exporter("targets = [\"" + target + "\"]\nmax_concurrent_probes = 1\n" +
                    "max_queued_probes = 0\n" + module_section("bems", "", "3"));
  std::thread slow([&] {
    auto answer = http_get(exporter.port(), probe_target(target));
    CHECK(answer.status == 200);
    CHECK(mentions(answer.body, "mtlsprobe_finding{id=\"handshake.protocol\",status=\"fail\"} 1"));
  });
  // Wait until the one slot is taken, as the exporter's own gauge says.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!mentions(http_get(exporter.port(), "/metrics").body,
                   "mtlsprobe_exporter_probes_in_flight 1\n") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  auto busy = http_get(exporter.port(), probe_target(target));
  CHECK(busy.status == 503);
  CHECK(mentions(busy.body, "too many probes at once"));
  slow.join();
  auto own = http_get(exporter.port(), "/metrics");
  CHECK(mentions(own.body, "mtlsprobe_exporter_rejected_requests_total{reason=\"busy\"} 1\n"));
  CHECK(mentions(own.body, "mtlsprobe_exporter_probes_in_flight 0\n"));
}

TEST_CASE(
    "a real Prometheus scrapes the exporter and sees success 1 for a good peer, 0 with the "
    "reason and our certificate's expiry for a peer that rejects us") {
  Peer good;
  Peer rejecting({"--reject-with", "unknown_ca"});
  Exporter exporter("targets = [\"" + good.address() + "\", \"" + rejecting.address() + "\"]\n" +
                    module_section("bems"));

  // The relabelling blackbox_exporter's users know: the target becomes the
  // ?target= parameter and the instance label, the exporter the address.
  testing::TempDir prometheus_dir;
  const std::uint16_t prometheus_port = testing::free_port();
  testing::write_file(prometheus_dir / "prometheus.yml",
                      "global:\n"
                      "  scrape_interval: 3s\n"
                      "  scrape_timeout: 3s\n"
                      "  evaluation_interval: 1s\n"
                      "scrape_configs:\n"
                      "  - job_name: mtlsprobe\n"
                      "    metrics_path: /probe\n"
                      "    params:\n"
                      "      module: [bems]\n"
                      "    static_configs:\n"
                      "      - targets: ['" +
                          good.address() + "', '" + rejecting.address() +
                          "']\n"
                          "    relabel_configs:\n"
                          "      - source_labels: [__address__]\n"
                          "        target_label: __param_target\n"
                          "      - source_labels: [__param_target]\n"
                          "        target_label: instance\n"
                          "      - target_label: __address__\n"
                          "        replacement: " +
                          exporter.address() +
                          "\n"
                          "  - job_name: mtlsprobe-exporter\n"
                          "    static_configs:\n"
                          "      - targets: ['" +
                          exporter.address() + "']\n");
  testing::BackgroundProcess prometheus(
      {"prometheus", "--config.file=" + (prometheus_dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (prometheus_dir / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)});
  REQUIRE_MESSAGE(testing::wait_for_port(prometheus_port, 30s), prometheus.output());

  // One instant query through the HTTP API: instance -> value.
  auto query = [&](const std::string& promql) {
    boost::urls::url url("http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/query");
    url.params().append({"query", promql});
    tls::HttpClientOptions options;
    options.timeout = 5s;
    options.proxy = "";
    tls::HttpRequest request;
    request.url = std::string(url.buffer());
    auto answer = tls::http_fetch(request, options);
    std::map<std::string, std::string> values;
    if (!answer.ok()) return values;
    auto json = boost::json::parse(answer.body);
    for (const auto& series : json.at("data").at("result").as_array())
      values[std::string(series.at("metric").at("instance").as_string())] =
          std::string(series.at("value").as_array().at(1).as_string());
    return values;
  };
  // Bounded: a scrape every 3 s (its timeout leaves each probe step 0.6 s on
  // a loaded machine); the deadline covers a slow start.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::map<std::string, std::string> success, up;
  while (std::chrono::steady_clock::now() < deadline) {
    success = query("mtlsprobe_probe_success");
    up = query("up");
    if (success.size() == 2 && up.size() == 3) break;
    std::this_thread::sleep_for(250ms);
  }
  REQUIRE_MESSAGE(success.size() == 2, prometheus.output(), "\n", exporter.output());
  CHECK(success[good.address()] == "1");
  CHECK(success[rejecting.address()] == "0");

  auto rejected_us = query("mtlsprobe_finding{id=\"handshake.peer-rejected-us\",status=\"fail\"}");
  CHECK(rejected_us[rejecting.address()] == "1");
  CHECK_FALSE(rejected_us.contains(good.address()));
  auto ours = query("mtlsprobe_cert_not_after_timestamp_seconds{side=\"ours\",depth=\"0\"}");
  REQUIRE(ours.contains(rejecting.address()));
  CHECK(std::stod(ours[rejecting.address()]) > 1.7e9);
  auto alert = query("mtlsprobe_tls_alert{direction=\"received\",alert=\"unknown_ca\"}");
  CHECK(alert[rejecting.address()] == "1");
  // Prometheus parsed every exposition without complaint, and scraped the exporter itself.
  CHECK(up[good.address()] == "1");
  CHECK(up[rejecting.address()] == "1");
  CHECK(up[exporter.address()] == "1");
}
