// Peers on another TLS stack: GnuTLS's gnutls-serv and gnutls-cli against
// connect and serve, including OCSP stapling both ways. Each case runs in a
// network namespace of its own (unshare --net), since gnutls-serv cannot be
// told to listen on loopback only.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <fstream>

#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using testing::mentions;
using testing::status_of;

namespace {

// A lab whose certificates point at a `pki serve` on 127.0.0.1:8080 inside
// the namespace, and the file layout the GnuTLS tools want.
struct GnutlsLab {
  testing::TempDir dir;
  std::string lab = (dir / "lab").string();

  GnutlsLab() {
    auto init = testing::run_mtlsprobe({"pki", "init", lab, "--key-type", "ecdsa-p256",
                                        "--revocation-url", "http://127.0.0.1:8080"});
    REQUIRE_MESSAGE(init.exit_code == 0, init.err);
    // gnutls-serv sends the chain in one file, leaf first.
    testing::write_file(dir / "lync-chain.pem", read(lab + "/lync/personal/lync.crt") +
                                                    read(lab + "/ca/lab-issuing-ca.crt"));
    testing::write_file(dir / "bems-chain.pem", read(lab + "/bems/personal/bems.crt") +
                                                    read(lab + "/ca/lab-issuing-ca.crt"));
  }
  static std::string read(const std::string& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

// Runs `script` with bash in a fresh network namespace whose only interface
// is loopback; helpers: wait_port PORT, and MTLSPROBE, LAB, DIR set.
testing::ProcessResult in_private_network(const GnutlsLab& lab, const std::string& script) {
  const std::string prelude =
      "set -u\n"
      "ip link set lo up\n"
      "wait_port() { for i in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && "
      "return 0; sleep 0.05; done; echo \"port $1 never opened\" >&2; return 1; }\n"
      "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n";
  return testing::run_process(
      {"unshare", "--net", "--map-root-user", "bash", "-c", prelude + script}, 60s,
      {{"MTLSPROBE", MTLSPROBE_BIN}, {"LAB", lab.lab}, {"DIR", lab.dir.path().string()}});
}

const std::string kGnutlsServer =
    "gnutls-serv --port 5061 --require-client-cert --verify-client-cert "
    "--x509certfile \"$DIR/lync-chain.pem\" --x509keyfile \"$LAB/lync/personal/lync.key\" ";

const std::string kConnect =
    "\"$MTLSPROBE\" connect lyncpool.example.com:5061 --connect-to 127.0.0.1 --store \"$LAB/bems\" "
    "--format json --revocation-timeout 5 ";

}  // namespace

TEST_CASE("connect completes mutual TLS 1.2 and 1.3 with gnutls-serv and judges its chain") {
  GnutlsLab lab;
  for (const std::string priority : {"NORMAL:-VERS-TLS1.3", "NORMAL"}) {
    CAPTURE(priority);
    auto result = in_private_network(
        lab, kGnutlsServer + "--x509cafile \"$LAB/lync/trusted-root/lab-root.crt\" --priority " +
                 priority + " >\"$DIR/gnutls-serv.log\" 2>&1 &\nwait_port 5061\n" + kConnect +
                 "--no-revocation");
    REQUIRE_MESSAGE(result.exit_code == 0, result.out << result.err);
    auto report = boost::json::parse(result.out);
    const auto& handshake = report.at("facts").at("handshake");
    CHECK(handshake.at("protocol_version").as_string() ==
          (priority == "NORMAL" ? "TLSv1.3" : "TLSv1.2"));
    CHECK(handshake.at("peer_chain").as_array().size() == 2);
    CHECK(status_of(report, "handshake.peer-rejected-us") == "pass");
    CHECK(status_of(report, "lync.chain.trusted") == "pass");
  }
}

TEST_CASE("connect names the rejection by a gnutls-serv that trusts another CA") {
  GnutlsLab lab;
  GnutlsLab other;
  auto result = in_private_network(
      lab, kGnutlsServer + "--x509cafile \"" + other.lab +
               "/lync/trusted-root/lab-root.crt\" >\"$DIR/gnutls-serv.log\" 2>&1 &\n"
               "wait_port 5061\n" +
               kConnect + "--no-revocation");
  CHECK(result.exit_code == 1);
  CHECK(status_of(result.out, "handshake.peer-rejected-us") == "fail");
  CHECK(status_of(result.out, "handshake.tcp") == "pass");
}

TEST_CASE("connect verifies the OCSP response gnutls-serv staples") {
  GnutlsLab lab;
  // The response comes from the lab responder, fetched by the openssl CLI.
  auto result = in_private_network(
      lab,
      "\"$MTLSPROBE\" pki serve \"$LAB\" --listen 127.0.0.1:8080 >\"$DIR/pki.log\" 2>&1 &\n"
      "wait_port 8080\n"
      "openssl ocsp -issuer \"$LAB/ca/lab-issuing-ca.crt\" -cert \"$LAB/lync/personal/lync.crt\" "
      "-url http://127.0.0.1:8080/ocsp -no_nonce -respout \"$DIR/lync.ocsp\" >/dev/null 2>&1\n" +
          kGnutlsServer +
          "--x509cafile \"$LAB/lync/trusted-root/lab-root.crt\" --ocsp-response \"$DIR/lync.ocsp\" "
          ">\"$DIR/gnutls-serv.log\" 2>&1 &\nwait_port 5061\n" +
          kConnect);
  REQUIRE_MESSAGE(result.exit_code == 0, result.out << result.err);
  auto report = boost::json::parse(result.out);
  const auto& staple = report.at("facts").at("handshake").at("ocsp_staple");
  CHECK(staple.at("present").as_bool());
  CHECK(staple.at("verification").at("status").as_string() == "good");
  CHECK(report.at("facts").at("revocation").at("lync").at(0).at("revocation").at("source") ==
        "stapled OCSP");
}

TEST_CASE("gnutls-cli with a certificate is accepted by serve, and receives its OCSP staple") {
  GnutlsLab lab;
  auto result = in_private_network(
      lab,
      "\"$MTLSPROBE\" pki serve \"$LAB\" --listen 127.0.0.1:8080 >\"$DIR/pki.log\" 2>&1 &\n"
      "wait_port 8080\n"
      "\"$MTLSPROBE\" serve --store \"$LAB/lync\" --listen 127.0.0.1:5061 --once "
      "--ocsp-responder aia --format json >\"$DIR/serve.json\" 2>\"$DIR/serve.log\" &\n"
      "serve_pid=$!\n"
      // Not wait_port: a bare TCP connect would be serve's one handshake.
      "for i in $(seq 1 200); do grep -q 'serving as' \"$DIR/serve.log\" && break; sleep 0.05; "
      "done\n"
      "gnutls-cli --port 5061 127.0.0.1 --sni-hostname lyncpool.example.com "
      "--x509cafile \"$LAB/bems/trusted-root/lab-root.crt\" "
      "--verify-hostname lyncpool.example.com "
      "--x509certfile \"$DIR/bems-chain.pem\" --x509keyfile \"$LAB/bems/personal/bems.key\" "
      "--save-ocsp \"$DIR/stapled.der\" </dev/null >\"$DIR/gnutls-cli.log\" 2>&1\n"
      "echo \"gnutls-cli exited $?\"\n"
      "wait $serve_pid; echo \"serve exited $?\"\n");
  CHECK_MESSAGE(mentions(result.out, "gnutls-cli exited 0"), result.out << result.err);
  CHECK(mentions(result.out, "serve exited 0"));
  CHECK(std::filesystem::file_size(lab.dir / "stapled.der") > 0);
  auto served = boost::json::parse(GnutlsLab::read(lab.path("serve.json")));
  CHECK(status_of(served, "handshake.no-client-cert") == "pass");
  CHECK(status_of(served, "bems.chain.trusted") == "pass");
  CHECK(served.at("facts").at("handshake").at("ocsp_staple").at("present").as_bool());
}
