// Java's TLS stack (JSSE, the stack BEMS runs on) as the peer of connect and
// serve: a small server and client (tests/java/MtlsPeer.java) with PKCS#12
// stores made from PKIs built by the openssl command line.
#include <doctest/doctest.h>

#include <thread>

#include "tests/support/java_peer.hpp"
#include "tests/support/openssl_pki.hpp"
#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using testing::mentions;
using testing::status_of;
namespace fs = std::filesystem;

namespace {

// Two independent PKIs (another tool's), Java stores for both leaves, and
// mtlsprobe store folders for both.
struct JavaLab {
  testing::TempDir dir;
  testing::OpensslPki ours, other;

  explicit JavaLab(const testing::OpensslLeafSpec& our_leaf = {}) {
    ours = testing::make_openssl_pki(dir / "ours", our_leaf);
    other = testing::make_openssl_pki(dir / "other");
    testing::make_store(dir / "our-store", ours);
    testing::make_store(dir / "other-store", other);
    testing::make_java_keystore(dir / "ours.p12", ours.leaf_cert, ours.leaf_key,
                                {ours.intermediate_cert});
    testing::make_java_keystore(dir / "other.p12", other.leaf_cert, other.leaf_key,
                                {other.intermediate_cert});
    testing::make_java_truststore(dir / "trusts-ours.p12", {ours.root_cert});
    testing::make_java_truststore(dir / "trusts-other.p12", {other.root_cert});
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

bool wait_for_line(testing::BackgroundProcess& process, const std::string& line) {
  for (int i = 0; i < 1000; ++i) {
    if (mentions(process.output(), line)) return true;
    if (!process.running()) return false;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string json_of(const std::string& output) {
  auto start = output.find('{');
  auto end = output.rfind('}');
  if (start == std::string::npos || end == std::string::npos) return "{}";
  return output.substr(start, end - start + 1);
}

}  // namespace

TEST_CASE("a Java client rejected by serve sees serve's alert, not a reset or broken pipe") {
  JavaLab lab;
  for (const std::string protocol : {"TLSv1.2", "TLSv1.3"}) {
    CAPTURE(protocol);
    unsigned short port = testing::free_port();
    // serve trusts only our root; the Java client presents the other PKI's leaf.
    testing::BackgroundProcess serve(
        {MTLSPROBE_BIN, "serve", "--listen", "127.0.0.1:" + std::to_string(port), "--store",
         lab.path("our-store"), "--once", "--format", "json", "--no-revocation"});
    REQUIRE(wait_for_line(serve, "mtlsprobe: serving as"));
    auto client = testing::run_process(
        testing::java_peer_command({"client", "127.0.0.1", std::to_string(port),
                                    lab.path("other.p12"), lab.path("trusts-ours.p12"),
                                    testing::kJavaStorePassword, protocol}),
        60s);
    CHECK(serve.wait(20s) == 1);
    CHECK_MESSAGE(mentions(client.out, "failed:"), client.out << client.err);
    CHECK_MESSAGE(mentions(client.out, "Received fatal alert: unknown_ca"),
                  client.out << client.err);
    CHECK_FALSE(mentions(client.out, "Broken pipe"));
    CHECK_FALSE(mentions(client.out, "reset"));
    CHECK(mentions(serve.output(), "unknown_ca"));
  }
}

TEST_CASE("a Java client with a trusted certificate is accepted by serve") {
  JavaLab lab;
  unsigned short port = testing::free_port();
  testing::BackgroundProcess serve(
      {MTLSPROBE_BIN, "serve", "--listen", "127.0.0.1:" + std::to_string(port), "--store",
       lab.path("our-store"), "--once", "--format", "json", "--no-revocation"});
  REQUIRE(wait_for_line(serve, "mtlsprobe: serving as"));
  auto client = testing::run_process(
      testing::java_peer_command({"client", "127.0.0.1", std::to_string(port), lab.path("ours.p12"),
                                  lab.path("trusts-ours.p12"), testing::kJavaStorePassword}),
      60s);
  CHECK_MESSAGE(mentions(client.out, "connected: TLSv1.3"), client.out << client.err);
  CHECK(serve.wait(20s) == 0);
  auto report = json_of(serve.output());
  CHECK(status_of(report, "handshake.we-rejected-peer") == "pass");
  CHECK(status_of(report, "bems.chain.trusted") == "pass");
}

TEST_CASE("connect to a Java server that refuses our serverAuth-only certificate blames bems.eku") {
  testing::OpensslLeafSpec server_only;
  server_only.eku = "serverAuth";
  JavaLab lab(server_only);
  // The Java server (the Lync side here) has its own certificate from the
  // other PKI and trusts our root, so the EKU is the only thing wrong.
  testing::make_java_truststore(lab.dir / "trusts-both.p12",
                                {lab.ours.root_cert, lab.other.root_cert});
  fs::copy_file(lab.other.root_cert, lab.dir / "our-store" / "trusted-root" / "other-root.pem");
  fs::copy_file(lab.other.intermediate_cert,
                lab.dir / "our-store" / "intermediate" / "other-issuing.pem");
  for (const std::string protocol : {"TLSv1.2", "TLSv1.3"}) {
    CAPTURE(protocol);
    unsigned short port = testing::free_port();
    testing::BackgroundProcess java(testing::java_peer_command(
        {"server", std::to_string(port), lab.path("other.p12"), lab.path("trusts-both.p12"),
         testing::kJavaStorePassword, protocol}));
    REQUIRE_MESSAGE(wait_for_line(java, "listening"), java.output());
    auto result = testing::run_mtlsprobe(
        {"connect", "bemsapppool.example.com:" + std::to_string(port), "--connect-to", "127.0.0.1",
         "--store", lab.path("our-store"), "--format", "json", "--no-revocation"},
        60s);
    java.wait(20s);
    CHECK_MESSAGE(mentions(java.output(), "does not permit use for TLS client authentication"),
                  java.output());
    CHECK(result.exit_code == 1);
    auto report = boost::json::parse(result.out);
    CHECK(status_of(report, "bems.eku") == "fail");
    // bems.eku blames it; the rejection on the wire points there.
    CHECK(status_of(report, "handshake.peer-rejected-us") == "skip");
    CHECK(status_of(report, "handshake.ca-list") == "pass");
    CHECK(status_of(report, "bems.chain.trusted") == "pass");
    for (const auto& finding : report.at("findings").as_array()) {
      if (finding.at("id").as_string() != "handshake.peer-rejected-us") continue;
      std::string detail(finding.at("detail").as_string());
      CHECK_MESSAGE(mentions(detail, "certificate_unknown (46)"), detail);
      CHECK_MESSAGE(mentions(detail, "the defect is reported by bems.eku"), detail);
      // handshake.ca-list passes: no sentence may say our CA is not listed.
      CHECK_FALSE(mentions(detail, "not in the peer's acceptable-CA list"));
      CHECK(mentions(detail, "Java sends this for any trust-manager failure"));
    }
  }
}
