// OCSP stapling on real loopback handshakes: our client asks for and
// verifies what openssl s_server staples (responses made by `openssl ocsp`),
// openssl s_client sees what our server staples, and the record says who
// asked and what was stapled.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/support/handshake_fixtures.hpp"
#include "tests/support/openssl_pki.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using testing::CliPki;
using testing::RunningServer;

namespace {

CliPki& lab() { return testing::shared_cli_lab(); }

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An OCSP response for `leaf` signed by the intermediate, made with the
// openssl CLI from a CA database line: "V" (good) or "R" (revoked).
std::filesystem::path openssl_ocsp_response(const std::string& leaf, const std::string& status,
                                            const std::string& name) {
  const auto dir = lab().dir().path();
  const auto info = lab().certificate(leaf).info();
  const std::string revoked_at = status == "R" ? "240101000000Z,keyCompromise" : "";
  testing::write_file(dir / (name + ".index"), status + "\t991231235959Z\t" + revoked_at + "\t" +
                                                   info.serial_hex +
                                                   "\tunknown\t/CN=" + info.common_name + "\n");
  const auto request = dir / (name + ".req.der");
  const auto response = dir / (name + ".resp.der");
  auto asked = testing::run_process(
      {"openssl", "ocsp", "-issuer", lab().pem("intermediate").string(), "-cert",
       lab().pem(leaf).string(), "-no_nonce", "-reqout", request.string()},
      20s);
  REQUIRE_MESSAGE(asked.exit_code == 0, asked.err);
  auto answered = testing::run_process(
      {"openssl", "ocsp", "-index", (dir / (name + ".index")).string(), "-rsigner",
       lab().pem("intermediate").string(), "-rkey", lab().key("intermediate").string(), "-CA",
       lab().pem("intermediate").string(), "-reqin", request.string(), "-respout",
       response.string(), "-ndays", "1"},
      20s);
  REQUIRE_MESSAGE(answered.exit_code == 0, answered.err);
  return response;
}

// openssl s_server stapling a fixed response file.
class StaplingOpensslServer {
 public:
  explicit StaplingOpensslServer(const std::filesystem::path& response, const char* version)
      : port_(testing::free_port()),
        process_({"openssl", "s_server", "-Verify", "1", "-CAfile", lab().pem("root").string(),
                  "-cert", lab().pem("server").string(), "-key", lab().key("server").string(),
                  "-cert_chain", lab().pem("intermediate").string(), "-status_file",
                  response.string(), version, "-accept", "127.0.0.1:" + std::to_string(port_),
                  "-www"}) {
    REQUIRE_MESSAGE(testing::wait_for_port(port_), process_.output());
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  testing::BackgroundProcess process_;
};

tls::ClientOptions client_to(std::uint16_t port) {
  tls::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.sni = "localhost";
  options.verdict_wait = 500ms;
  options.trust = lab().trust({"root"});
  options.credentials = lab().credentials("client", {"intermediate"});
  return options;
}

tls::ServerOptions our_server(std::vector<std::uint8_t> staple = {}) {
  tls::ServerOptions options;
  options.credentials = lab().credentials("server", {"intermediate"});
  options.trust = lab().trust({"root"}, {"intermediate"});
  options.ocsp_staple = std::move(staple);
  return options;
}

}  // namespace

TEST_CASE("our client verifies a good response stapled by openssl s_server (TLS 1.2 and 1.3)") {
  const auto response = openssl_ocsp_response("server", "V", "good");
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    CAPTURE(version);
    StaplingOpensslServer server(response, version);
    auto record = tls::run_client_handshake(client_to(server.port()));
    REQUIRE_MESSAGE(record.ok(), record.error_message);
    CHECK(record.ocsp_staple.requested);
    REQUIRE(record.ocsp_staple.present);
    CHECK(record.ocsp_staple.response_der == read_bytes(response));
    REQUIRE(record.ocsp_staple.status.has_value());
    CHECK_MESSAGE(record.ocsp_staple.status->kind == tls::RevocationStatus::good,
                  record.ocsp_staple.status->error);
    CHECK(record.ocsp_staple.status->source == tls::RevocationSource::stapled_ocsp);
    CHECK(record.ocsp_staple.status->next_update.has_value());
  }
}

TEST_CASE("a stapled revoked response is reported as revoked with its reason") {
  StaplingOpensslServer server(openssl_ocsp_response("server", "R", "revoked"), "-tls1_3");
  auto record = tls::run_client_handshake(client_to(server.port()));
  REQUIRE(record.ocsp_staple.status.has_value());
  CHECK(record.ocsp_staple.status->kind == tls::RevocationStatus::revoked);
  CHECK(record.ocsp_staple.status->reason == "keyCompromise");
  CHECK(record.ocsp_staple.status->revocation_time.has_value());
}

TEST_CASE("a stapled response about another certificate is not accepted for the server") {
  StaplingOpensslServer server(openssl_ocsp_response("client", "V", "other"), "-tls1_2");
  auto record = tls::run_client_handshake(client_to(server.port()));
  REQUIRE(record.ocsp_staple.present);
  REQUIRE(record.ocsp_staple.status.has_value());
  CHECK(record.ocsp_staple.status->kind == tls::RevocationStatus::unavailable);
  CHECK(record.ocsp_staple.status->error.find("not for serial") != std::string::npos);
}

TEST_CASE("openssl s_client -status sees the response our server staples") {
  const auto response = openssl_ocsp_response("server", "V", "ours");
  RunningServer server(our_server(read_bytes(response)));
  auto result = testing::run_process(
      {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
       "-servername", "localhost", "-CAfile", lab().pem("root").string(), "-status", "-cert",
       lab().pem("client").string(), "-key", lab().key("client").string(), "-cert_chain",
       lab().pem("intermediate").string(), "-tls1_2"},
      20s, {}, "Q\n");
  CHECK_MESSAGE(result.out.find("OCSP Response Status: successful") != std::string::npos,
                result.out);
  CHECK(result.out.find("Cert Status: good") != std::string::npos);
  auto seen = server.record();
  REQUIRE(seen.has_value());
  CHECK(seen->ocsp_staple.requested);
  CHECK(seen->ocsp_staple.present);
}

TEST_CASE("our server staples nothing when it has nothing, and a later staple is used") {
  RunningServer server(our_server());
  auto first = tls::run_client_handshake(client_to(server.port()));
  REQUIRE_MESSAGE(first.ok(), first.error_message);
  CHECK(first.ocsp_staple.requested);
  CHECK_FALSE(first.ocsp_staple.present);
  auto seen = server.record(0);
  REQUIRE(seen.has_value());
  CHECK(seen->ocsp_staple.requested);
  CHECK_FALSE(seen->ocsp_staple.present);

  server.handshake_server().set_ocsp_staple(
      read_bytes(openssl_ocsp_response("server", "V", "later")));
  auto second = tls::run_client_handshake(client_to(server.port()));
  REQUIRE(second.ocsp_staple.status.has_value());
  CHECK(second.ocsp_staple.status->kind == tls::RevocationStatus::good);
}

TEST_CASE("a client that does not ask gets no staple") {
  RunningServer server(our_server(read_bytes(openssl_ocsp_response("server", "V", "unasked"))));
  auto options = client_to(server.port());
  options.request_ocsp_staple = false;
  auto record = tls::run_client_handshake(options);
  REQUIRE_MESSAGE(record.ok(), record.error_message);
  CHECK_FALSE(record.ocsp_staple.requested);
  CHECK_FALSE(record.ocsp_staple.present);
  auto seen = server.record();
  REQUIRE(seen.has_value());
  CHECK_FALSE(seen->ocsp_staple.requested);
  CHECK_FALSE(seen->ocsp_staple.present);
}

TEST_CASE("load_ocsp_response refuses a file that is not an OCSP response") {
  const auto garbage = lab().dir().path() / "not-ocsp.der";
  testing::write_file(garbage, "<html>hello</html>");
  auto loaded = tls::load_ocsp_response(garbage);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.find("not a DER OCSP response") != std::string::npos);
  CHECK_FALSE(tls::load_ocsp_response(lab().dir().path() / "missing.der").ok());
  auto good = tls::load_ocsp_response(openssl_ocsp_response("server", "V", "file"));
  CHECK(good.ok());
}
