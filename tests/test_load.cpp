// `mtlsprobe load`: real mutual handshakes against openssl s_server and
// `mtlsprobe serve` over loopback, with a lab made at test time. What is
// checked is what a run counts and how it names failures, never how fast.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <memory>
#include <thread>

#include "probe/load/latency.hpp"
#include "tests/support/lab_folder.hpp"
#include "tests/support/process.hpp"
#include "tests/support/promtool.hpp"
#include "tests/support/report_reading.hpp"

using testing::mentions;
using testing::run_mtlsprobe;
using testing::status_of;

namespace {

struct Lab : testing::LabFolder {
  Lab() : LabFolder(testing::quick_lab()) {}
};

std::string loopback(unsigned short port) { return "127.0.0.1:" + std::to_string(port); }

// openssl s_server requiring a client certificate (-Verify 1) issued under
// `client_root`, presenting the lab's Lync certificate and chain.
std::unique_ptr<testing::BackgroundProcess> s_server(const Lab& lab, unsigned short port,
                                                     const std::string& client_root,
                                                     const std::string& version) {
  auto server = std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
      "openssl", "s_server", "-accept", loopback(port), "-cert", lab.path("lync/personal/lync.crt"),
      "-key", lab.path("lync/personal/lync.key"), "-cert_chain",
      lab.path("lync/intermediate/lab-issuing-ca.crt"), "-Verify", "1", "-verify_return_error",
      "-CAfile", client_root, version, "-www"});
  REQUIRE(testing::wait_for_port(port));
  return server;
}

// A TCP probe would count as a handshake of serve's: wait for its banner.
std::unique_ptr<testing::BackgroundProcess> serving(const std::string& store, unsigned short port) {
  auto serve = std::make_unique<testing::BackgroundProcess>(
      std::vector<std::string>{MTLSPROBE_BIN, "serve", "--listen", loopback(port), "--store", store,
                               "--no-revocation-check"});
  for (int i = 0; i < 500 && !mentions(serve->output(), "mtlsprobe: serving as"); ++i) {
    REQUIRE(serve->running());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(mentions(serve->output(), "mtlsprobe: serving as"));
  return serve;
}

boost::json::object load_facts(const std::string& out) {
  return boost::json::parse(out).at("facts").at("load").as_object();
}

std::uint64_t handshakes(const boost::json::object& facts, const char* which) {
  return facts.at("handshakes").at(which).to_number<std::uint64_t>();
}

}  // namespace

TEST_CASE("the latency summary takes min, max and mean exactly and percentiles within 2%") {
  probe::load::LatencyHistogram histogram;
  CHECK_FALSE(histogram.summary().has_value());
  for (int i = 1; i <= 1000; ++i) histogram.record(i * 0.1);  // 0.1 ms .. 100 ms
  probe::load::LatencyHistogram other;
  other.record(250);
  histogram.merge(other);
  auto s = histogram.summary();
  REQUIRE(s.has_value());
  CHECK(s->count == 1001);
  CHECK(s->min_ms == doctest::Approx(0.1));
  CHECK(s->max_ms == doctest::Approx(250));
  CHECK(s->mean_ms == doctest::Approx((50.05 * 1000 + 250) / 1001).epsilon(0.001));
  CHECK(s->p50_ms == doctest::Approx(50.1).epsilon(0.02));
  CHECK(s->p90_ms == doctest::Approx(90.1).epsilon(0.02));
  CHECK(s->p99_ms == doctest::Approx(99.1).epsilon(0.02));
}

TEST_CASE("load refuses to run without --duration or --count, in one line") {
  auto result = run_mtlsprobe({"load", "127.0.0.1:5061", "--store", "nowhere"});
  CHECK(result.exit_code == 2);
  CHECK(mentions(result.err, "--duration"));
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(result.out.empty());
}

TEST_CASE("load refuses a TLS version it cannot use and two version flags at once") {
  CHECK(
      run_mtlsprobe({"load", "127.0.0.1:5061", "--count", "1", "--tls-version", "1.7"}).exit_code ==
      2);
  CHECK(
      run_mtlsprobe({"load", "127.0.0.1:5061", "--count", "1", "--tls1.2", "--tls1.3"}).exit_code ==
      2);
}

TEST_CASE("load --count 20 against openssl s_server -Verify 1 makes 20 mutual handshakes") {
  Lab lab;
  for (const std::string version : {"-tls1_3", "-tls1_2"}) {
    CAPTURE(version);
    unsigned short port = testing::free_port();
    auto server = s_server(lab, port, lab.path("lync/trusted-root/lab-root.crt"), version);
    auto result = run_mtlsprobe({"load", loopback(port), "--store", lab.path("bems"), "--count",
                                 "20", "--connections", "4", "--threads", "2", "--timeout", "5",
                                 "--format", "json"});
    CHECK_MESSAGE(result.exit_code == 0, (result.out + result.err));
    auto facts = load_facts(result.out);
    CHECK(handshakes(facts, "succeeded") == 20);
    CHECK(handshakes(facts, "failed") == 0);
    CHECK(facts.at("failures").as_array().empty());
    for (const char* phase : {"tcp", "tls"}) {
      CAPTURE(phase);
      const auto& latency = facts.at("latency").at(phase).as_object();
      CHECK(latency.at("count").to_number<std::uint64_t>() == 20);
      for (const char* stat : {"min_ms", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms"})
        CHECK(latency.contains(stat));
      CHECK(latency.at("min_ms").to_number<double>() <= latency.at("max_ms").to_number<double>());
    }
    CHECK_FALSE(facts.at("latency").as_object().contains("sip"));
    CHECK(facts.at("handshakes_per_second").to_number<double>() > 0);
  }
}

TEST_CASE("load --count 20 against mtlsprobe serve succeeds, as text and as Prometheus metrics") {
  Lab lab;
  unsigned short port = testing::free_port();
  auto serve = serving(lab.path("lync"), port);
  auto text = run_mtlsprobe(
      {"load", loopback(port), "--store", lab.path("bems"), "--count", "20", "--timeout", "5"});
  CHECK_MESSAGE(text.exit_code == 0, (text.out + text.err));
  CHECK(mentions(text.out, "20 succeeded, 0 failed"));
  CHECK(mentions(text.out, "Latency per phase"));

  auto metrics = run_mtlsprobe({"load", loopback(port), "--store", lab.path("bems"), "--count",
                                "10", "--tls1.2", "--resumption", "on", "--format", "prometheus"});
  CHECK_MESSAGE(metrics.exit_code == 0, metrics.err);
  CHECK(mentions(metrics.out, "mtlsprobe_load_handshakes_total{target=\"" + loopback(port) +
                                  "\",outcome=\"success\"} 10"));
  CHECK(mentions(metrics.out, "phase=\"tls\",stat=\"p99\""));
  CHECK(testing::promtool_problems(metrics.out) == "");
}

TEST_CASE("load counts a server that does not trust our CA under the finding connect fails") {
  Lab lab;
  Lab other;
  for (const std::string version : {"-tls1_3", "-tls1_2"}) {
    CAPTURE(version);
    unsigned short port = testing::free_port();
    auto server = s_server(lab, port, other.path("ca/lab-root.crt"), version);
    auto load = run_mtlsprobe({"load", loopback(port), "--store", lab.path("bems"), "--count", "6",
                               "--connections", "2", "--timeout", "5", "--format", "json"});
    CHECK(load.exit_code == 1);
    auto facts = load_facts(load.out);
    CHECK(handshakes(facts, "failed") == 6);
    CHECK(handshakes(facts, "succeeded") == 0);
    const auto& failures = facts.at("failures").as_array();
    REQUIRE(failures.size() == 1);
    const std::string id(failures[0].at("id").as_string());
    CHECK(failures[0].at("count").to_number<std::uint64_t>() == 6);
    // The same finding fails in the report and in `connect`'s against the same server.
    CHECK(status_of(load.out, id) == "fail");
    auto connect = run_mtlsprobe({"connect", loopback(port), "--store", lab.path("bems"),
                                  "--format", "json", "--no-revocation", "--timeout", "5"});
    CHECK(connect.exit_code == 1);
    CHECK(status_of(connect.out, id) == "fail");
    CHECK(id == "handshake.peer-rejected-us");
  }
}

TEST_CASE("load counts a server that rejects every client certificate as a rejection") {
  Lab lab;
  unsigned short port = testing::free_port();
  auto serve = std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
      MTLSPROBE_BIN, "serve", "--listen", loopback(port), "--store", lab.path("lync"),
      "--no-revocation-check", "--reject-with", "certificate_unknown"});
  for (int i = 0; i < 500 && !mentions(serve->output(), "mtlsprobe: serving as"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(mentions(serve->output(), "mtlsprobe: serving as"));
  for (const std::string version : {"--tls1.3", "--tls1.2"}) {
    CAPTURE(version);
    auto load = run_mtlsprobe({"load", loopback(port), "--store", lab.path("bems"), "--count", "5",
                               version, "--format", "json"});
    CHECK(load.exit_code == 1);
    auto facts = load_facts(load.out);
    CHECK(handshakes(facts, "failed") == 5);
    REQUIRE(facts.at("failures").as_array().size() == 1);
    CHECK(facts.at("failures").at(0).at("id").as_string() == "handshake.peer-rejected-us");
  }
}
