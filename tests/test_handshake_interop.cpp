// Our client and server against peers written by others: openssl s_server
// and s_client, on real loopback sockets.
#include <doctest/doctest.h>

#include "tests/support/handshake_fixtures.hpp"
#include "tests/support/openssl_pki.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using testing::CliPki;
using testing::RunningServer;

namespace {

CliPki& lab() { return testing::shared_cli_lab(); }

// `openssl s_server` acting as the Lync side: requires a client certificate
// and fails the handshake when it does not verify.
class OpensslServer {
 public:
  explicit OpensslServer(std::vector<std::string> extra)
      : port_(testing::free_port()), process_(argv(port_, std::move(extra))) {
    REQUIRE_MESSAGE(testing::wait_for_port(port_), process_.output());
  }
  std::uint16_t port() const { return port_; }
  std::string output() const { return process_.output(); }

 private:
  static std::vector<std::string> argv(std::uint16_t port, std::vector<std::string> extra) {
    std::vector<std::string> args = {"openssl",
                                     "s_server",
                                     "-Verify",
                                     "1",
                                     "-verify_return_error",
                                     "-CAfile",
                                     lab().pem("root").string(),
                                     "-cert",
                                     lab().pem("server").string(),
                                     "-key",
                                     lab().key("server").string(),
                                     "-cert_chain",
                                     lab().pem("intermediate").string(),
                                     "-accept",
                                     "127.0.0.1:" + std::to_string(port),
                                     "-www"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::uint16_t port_;
  testing::BackgroundProcess process_;
};

tls::ClientOptions client_to(std::uint16_t port, tls::TlsVersion version, const std::string& who) {
  tls::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.sni = "localhost";
  options.min_version = version;
  options.max_version = version;
  options.verdict_wait = 1000ms;
  options.trust = lab().trust({"root"});
  if (who == "client") options.credentials = lab().credentials("client", {"intermediate"});
  if (who == "stranger") options.credentials = lab().credentials("stranger");
  return options;
}

const tls::TlsVersion kBoth[] = {tls::TlsVersion::tls1_2, tls::TlsVersion::tls1_3};

}  // namespace

TEST_CASE("our client completes a mutual handshake with openssl s_server and sees its CA list") {
  OpensslServer server({});
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    auto record = tls::run_client_handshake(client_to(server.port(), version, "client"));
    CHECK_MESSAGE(record.ok(), record.error_message << "\n" << server.output());
    CHECK(record.protocol_version == version);
    CHECK(record.peer_chain.size() == 2);
    CHECK(record.peer_chain_complete);
    CHECK(record.certificate_request_received);
    REQUIRE(record.acceptable_ca_names.size() == 1);
    CHECK(record.acceptable_ca_names[0].subject == "CN=Lab Root");
    CHECK(record.our_certificate_sent.has_value());
  }
}

TEST_CASE("openssl s_server that names no CAs gives an empty acceptable-CA list") {
  OpensslServer server({"-no_ca_names"});
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    auto record = tls::run_client_handshake(client_to(server.port(), version, "client"));
    CHECK_MESSAGE(record.ok(), record.error_message);
    CHECK(record.certificate_request_received);
    CHECK(record.acceptable_ca_names.empty());
  }
}

TEST_CASE("openssl s_server's rejection of an untrusted client is seen, late in TLS 1.3") {
  OpensslServer server({});
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    auto record = tls::run_client_handshake(client_to(server.port(), version, "stranger"));
    CHECK(record.error == tls::HandshakeError::peer_rejected_us);
    REQUIRE(record.rejection_alert.has_value());
    CHECK(record.rejection_alert->name == "unknown_ca");
    CHECK(record.peer_rejected_us_after_handshake == (version == tls::TlsVersion::tls1_3));
  }
}

TEST_CASE("openssl s_server refuses a client without a certificate, and we say so") {
  OpensslServer server({});
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    auto record = tls::run_client_handshake(client_to(server.port(), version, "none"));
    CHECK(record.error == tls::HandshakeError::peer_rejected_us);
    REQUIRE(record.rejection_alert.has_value());
    CHECK(record.rejection_alert->name ==
          (version == tls::TlsVersion::tls1_3 ? "certificate_required" : "handshake_failure"));
  }
}

namespace {

tls::ServerOptions our_server() {
  tls::ServerOptions options;
  options.credentials = lab().credentials("server", {"intermediate"});
  options.trust = lab().trust({"root"}, {"intermediate"});
  options.min_version = tls::TlsVersion::tls1_2;
  return options;
}

testing::ProcessResult openssl_client(std::uint16_t port, std::vector<std::string> extra) {
  std::vector<std::string> args = {"openssl",
                                   "s_client",
                                   "-connect",
                                   "127.0.0.1:" + std::to_string(port),
                                   "-servername",
                                   "localhost",
                                   "-CAfile",
                                   lab().pem("root").string(),
                                   "-verify_return_error"};
  args.insert(args.end(), extra.begin(), extra.end());
  return testing::run_process(args, 20s);
}

}  // namespace

TEST_CASE("openssl s_client with a certificate completes a handshake with our server") {
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    CAPTURE(version);
    RunningServer server(our_server());
    auto result =
        openssl_client(server.port(), {version, "-cert", lab().pem("client").string(), "-key",
                                       lab().key("client").string(), "-cert_chain",
                                       lab().pem("intermediate").string()});
    CHECK(result.out.find("Verify return code: 0 (ok)") != std::string::npos);
    auto seen = server.record();
    REQUIRE(seen.has_value());
    CHECK_MESSAGE(seen->ok(), seen->error_message);
    CHECK(seen->sni_received == "localhost");
    REQUIRE(seen->peer_chain.size() == 2);
    CHECK(seen->peer_chain[0].info().common_name == "client.lab.example");
    CHECK(seen->peer_verification->trusted);
  }
}

TEST_CASE("openssl s_client without a certificate is refused by our server") {
  RunningServer server(our_server());
  auto result = openssl_client(server.port(), {"-tls1_2"});
  CHECK(result.exit_code != 0);
  auto seen = server.record();
  REQUIRE(seen.has_value());
  CHECK(seen->error == tls::HandshakeError::no_peer_certificate);
  auto sent = seen->first_fatal_alert(true);
  REQUIRE(sent.has_value());
  CHECK(sent->name == "handshake_failure");
}

TEST_CASE("openssl s_client with an untrusted certificate gets unknown_ca from our server") {
  RunningServer server(our_server());
  auto result = openssl_client(server.port(), {"-tls1_2", "-cert", lab().pem("stranger").string(),
                                               "-key", lab().key("stranger").string()});
  CHECK(result.exit_code != 0);
  CHECK((result.out + result.err).find("unknown ca") != std::string::npos);
  auto seen = server.record();
  REQUIRE(seen.has_value());
  CHECK(seen->error == tls::HandshakeError::we_rejected_peer);
}
