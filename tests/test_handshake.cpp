// Our client against our server over real loopback sockets, and against
// hostile raw-TCP peers. Certificates come from tls/issuer (testing::TestPki).
#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <future>

#include "tests/support/handshake_fixtures.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_pki.hpp"
#include "tls/alerts.hpp"
#include "tls/issuer.hpp"

using namespace std::chrono_literals;
using testing::RunningServer;

namespace {

const testing::TestPki& lab() { return testing::shared_lab(); }

tls::ServerOptions server_options(tls::TlsVersion version) {
  tls::ServerOptions options;
  options.credentials = lab().credentials("server", {"intermediate"});
  options.trust = lab().trust({"root"}, {"intermediate"});
  options.min_version = version;
  options.max_version = version;
  options.handshake_timeout = 10s;
  return options;
}

tls::ClientOptions client_options(std::uint16_t port, tls::TlsVersion version,
                                  std::optional<std::string> identity = "client") {
  tls::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.sni = "localhost";
  options.min_version = version;
  options.max_version = version;
  options.trust = lab().trust({"root"});
  if (identity) options.credentials = lab().credentials(*identity, {"intermediate"});
  if (identity == "stranger") options.credentials = lab().credentials("stranger");
  return options;
}

const tls::TlsVersion kBoth[] = {tls::TlsVersion::tls1_2, tls::TlsVersion::tls1_3};

}  // namespace

TEST_CASE("a mutual handshake succeeds on 127.0.0.1 and records both sides") {
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    RunningServer server(server_options(version));
    tls::HandshakeRecord client = tls::run_client_handshake(client_options(server.port(), version));
    CHECK_MESSAGE(client.ok(), client.error_message);
    CHECK(client.tcp_connected);
    CHECK(client.handshake_completed);
    CHECK(client.protocol_version == version);
    CHECK_FALSE(client.cipher_suite.empty());
    CHECK(client.sni_sent == "localhost");
    CHECK(client.peer_address == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(client.local_address.rfind("127.0.0.1:", 0) == 0);
    REQUIRE(client.peer_chain.size() == 2);
    CHECK(client.peer_chain[0].info().common_name == "localhost");
    CHECK(client.peer_chain[1].info().common_name == "Lab Intermediate");
    CHECK(client.peer_chain_in_order);
    CHECK(client.peer_chain_complete);
    REQUIRE(client.peer_verification.has_value());
    CHECK(client.peer_verification->trusted);
    CHECK(client.certificate_request_received);
    REQUIRE(client.acceptable_ca_names.size() == 1);
    CHECK(client.acceptable_ca_names[0].subject == "CN=Lab Root");
    CHECK(client.acceptable_ca_der_bytes == client.acceptable_ca_names[0].der.size());
    REQUIRE(client.our_certificate_sent.has_value());
    CHECK(client.our_certificate_sent->info().common_name == "client.lab.example");
    REQUIRE(client.our_chain_sent.size() == 1);
    CHECK_FALSE(client.first_fatal_alert(false).has_value());
    CHECK(client.waited_for_verdict == (version == tls::TlsVersion::tls1_3));

    auto seen = server.record();
    REQUIRE(seen.has_value());
    CHECK_MESSAGE(seen->ok(), seen->error_message);
    CHECK(seen->role == tls::HandshakeRole::server);
    CHECK(seen->sni_received == "localhost");
    CHECK(seen->protocol_version == version);
    REQUIRE(seen->peer_chain.size() == 2);
    CHECK(seen->peer_chain[0].info().common_name == "client.lab.example");
    REQUIRE(seen->peer_verification.has_value());
    CHECK(seen->peer_verification->trusted);
    REQUIRE(seen->our_certificate_sent.has_value());
    CHECK(seen->our_certificate_sent->info().common_name == "localhost");
    REQUIRE(seen->acceptable_ca_names_sent);
    CHECK(seen->acceptable_ca_names_sent->size() == 1);
  }
}

TEST_CASE("a client without a certificate is refused and the server records none") {
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    RunningServer server(server_options(version));
    tls::HandshakeRecord client =
        tls::run_client_handshake(client_options(server.port(), version, std::nullopt));
    CHECK(client.error == tls::HandshakeError::peer_rejected_us);
    CHECK(client.peer_rejected_us);
    REQUIRE(client.rejection_alert.has_value());
    if (version == tls::TlsVersion::tls1_3) {
      CHECK(client.rejection_alert->name == "certificate_required");
      CHECK(client.peer_rejected_us_after_handshake);
      CHECK(client.rejection_alert->phase == tls::AlertPhase::after_handshake);
    } else {
      CHECK(client.rejection_alert->name == "handshake_failure");
      CHECK(client.rejection_alert->phase == tls::AlertPhase::during_handshake);
    }
    CHECK(client.certificate_request_received);
    CHECK_FALSE(client.our_certificate_sent.has_value());

    auto seen = server.record();
    REQUIRE(seen.has_value());
    CHECK(seen->error == tls::HandshakeError::no_peer_certificate);
    CHECK_FALSE(seen->peer_sent_certificate);
    CHECK(seen->peer_chain.empty());
  }
}

TEST_CASE("the server rejects an untrusted client with unknown_ca, which the client sees") {
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    RunningServer server(server_options(version));
    tls::HandshakeRecord client =
        tls::run_client_handshake(client_options(server.port(), version, "stranger"));
    CHECK(client.error == tls::HandshakeError::peer_rejected_us);
    REQUIRE(client.rejection_alert.has_value());
    CHECK(client.rejection_alert->name == "unknown_ca");
    CHECK(client.peer_rejected_us_after_handshake == (version == tls::TlsVersion::tls1_3));

    auto seen = server.record();
    REQUIRE(seen.has_value());
    CHECK(seen->error == tls::HandshakeError::we_rejected_peer);
    REQUIRE(seen->peer_verification.has_value());
    CHECK_FALSE(seen->peer_verification->trusted);
    CHECK(seen->peer_verification->error_depth >= 0);
    auto sent = seen->first_fatal_alert(true);
    REQUIRE(sent.has_value());
    CHECK(sent->name == "unknown_ca");
    REQUIRE(seen->peer_chain.size() == 1);
    CHECK(seen->peer_chain[0].info().common_name == "stranger.example");
  }
}

TEST_CASE("a lab server rejects with the alert it was told to send") {
  for (const char* alert : {"certificate_expired", "bad_certificate", "certificate_unknown"}) {
    CAPTURE(alert);
    auto options = server_options(tls::TlsVersion::tls1_2);
    options.reject_with = alert;
    RunningServer server(options);
    tls::HandshakeRecord client =
        tls::run_client_handshake(client_options(server.port(), tls::TlsVersion::tls1_2));
    CHECK(client.error == tls::HandshakeError::peer_rejected_us);
    REQUIRE(client.rejection_alert.has_value());
    CHECK(client.rejection_alert->name == alert);
    auto seen = server.record();
    REQUIRE(seen.has_value());
    CHECK(seen->error == tls::HandshakeError::we_rejected_peer);
    CHECK(seen->rejected_with == alert);
  }
}

TEST_CASE("an unknown reject_with alert name is refused when listening") {
  auto options = server_options(tls::TlsVersion::tls1_2);
  options.reject_with = "no_such_alert";
  tls::HandshakeServer server(options, nullptr);
  mtls::Status listening = server.listen();
  REQUIRE_FALSE(listening.ok());
  CHECK(listening.error().message.find("no_such_alert") != std::string::npos);
}

TEST_CASE("an acceptable-CA list over TLS's 64 KB limit is refused when listening") {
  // Issue 16 item 8: serve started and then failed every handshake with
  // internal_error. 400 names of about 190 bytes make 76 KB.
  auto options = server_options(tls::TlsVersion::tls1_2);
  tls::KeySpec spec;
  spec.type = tls::KeySpec::ec;
  auto key = tls::generate_key(spec);
  REQUIRE(key.ok());
  options.ca_list = tls::CaListMode::certificates;
  for (int i = 0; i < 400; ++i) {
    tls::CertificateSpec ca;
    ca.common_name = "Root " + std::to_string(i) + " " + std::string(50, 'c');
    ca.organization = std::string(60, 'o');
    ca.organizational_unit = std::string(60, 'u');
    ca.is_ca = true;
    auto made = tls::issue_certificate(ca, *key, nullptr, *key);
    REQUIRE(made.ok());
    options.ca_list_certificates.push_back(*made);
  }
  tls::HandshakeServer server(options, nullptr);
  tls::Status listening = server.listen();
  REQUIRE_FALSE(listening.ok());
  CHECK(listening.error().message.find("over TLS's limit of 65535 bytes") != std::string::npos);
}

TEST_CASE("the client records an untrusted server, and aborts with unknown_ca when told to") {
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    RunningServer server(server_options(version));
    auto options = client_options(server.port(), version);
    options.trust = lab().trust({"other-root"});

    tls::HandshakeRecord recorded = tls::run_client_handshake(options);
    CHECK(recorded.error == tls::HandshakeError::we_rejected_peer);
    REQUIRE(recorded.peer_verification.has_value());
    CHECK_FALSE(recorded.peer_verification->trusted);
    CHECK(recorded.peer_chain.size() == 2);

    options.abort_on_untrusted_peer = true;
    tls::HandshakeRecord aborted = tls::run_client_handshake(options);
    CHECK(aborted.error == tls::HandshakeError::we_rejected_peer);
    CHECK_FALSE(aborted.handshake_completed);
    auto sent = aborted.first_fatal_alert(true);
    REQUIRE(sent.has_value());
    CHECK(sent->name == "unknown_ca");
    auto second = server.record(1);
    REQUIRE(second.has_value());
    CHECK(second->error == tls::HandshakeError::peer_rejected_us);
  }
}

TEST_CASE("the acceptable-CA list is captured: given names, and an empty list") {
  for (tls::TlsVersion version : kBoth) {
    CAPTURE(tls::to_string(version));
    auto options = server_options(version);
    options.ca_list = tls::CaListMode::certificates;
    options.ca_list_certificates = {lab().certificate("other-root"), lab().certificate("root")};
    {
      RunningServer server(options);
      auto client = tls::run_client_handshake(client_options(server.port(), version));
      CHECK(client.ok());
      REQUIRE(client.acceptable_ca_names.size() == 2);
      CHECK(client.acceptable_ca_names[0].subject == "CN=Other Root");
      CHECK(client.acceptable_ca_names[1].subject == "CN=Lab Root");
      CHECK(client.acceptable_ca_der_bytes ==
            client.acceptable_ca_names[0].der.size() + client.acceptable_ca_names[1].der.size());
    }
    options.ca_list = tls::CaListMode::none;
    {
      RunningServer server(options);
      auto client = tls::run_client_handshake(client_options(server.port(), version));
      CHECK(client.ok());
      CHECK(client.certificate_request_received);
      CHECK(client.acceptable_ca_names.empty());
      CHECK(client.acceptable_ca_der_bytes == 0);
    }
  }
}

TEST_CASE("TLS 1.0 is allowed only by lowering the security level, which is recorded") {
  auto options = client_options(1, tls::TlsVersion::tls1_0);
  options.max_version = tls::TlsVersion::tls1_3;
  RunningServer server(server_options(tls::TlsVersion::tls1_2));
  options.port = server.port();
  auto lowered = tls::run_client_handshake(options);
  CHECK(lowered.ok());
  CHECK(lowered.security_level_lowered);
  auto normal = tls::run_client_handshake(client_options(server.port(), tls::TlsVersion::tls1_2));
  CHECK_FALSE(normal.security_level_lowered);
}

TEST_CASE("no common TLS version is named as such") {
  RunningServer server(server_options(tls::TlsVersion::tls1_3));
  auto client = tls::run_client_handshake(client_options(server.port(), tls::TlsVersion::tls1_2));
  CHECK(client.error == tls::HandshakeError::no_common_version);
  auto seen = server.record();
  REQUIRE(seen.has_value());
  CHECK(seen->error == tls::HandshakeError::no_common_version);
}

TEST_CASE("the server listens on ::1 with port 0 and serves concurrent clients") {
  auto options = server_options(tls::TlsVersion::tls1_3);
  options.address = "::1";
  RunningServer server(options);
  REQUIRE(server.port() != 0);
  std::vector<std::thread> clients;
  std::vector<tls::HandshakeRecord> results(4);
  for (size_t i = 0; i < results.size(); ++i)
    clients.emplace_back([&, i] {
      auto client = client_options(server.port(), tls::TlsVersion::tls1_3);
      client.host = "::1";
      results[i] = tls::run_client_handshake(client);
    });
  for (auto& thread : clients) thread.join();
  for (const auto& result : results) {
    CHECK_MESSAGE(result.ok(), result.error_message);
    CHECK(result.peer_address.rfind("[::1]:", 0) == 0);
  }
  for (size_t i = 0; i < results.size(); ++i) CHECK(server.record(i).has_value());
}

TEST_CASE("max_handshakes ends the server after that many handshakes") {
  auto options = server_options(tls::TlsVersion::tls1_3);
  options.max_handshakes = 1;
  std::size_t seen = 0;
  tls::HandshakeServer server(options, [&](const tls::HandshakeRecord&, auto) { ++seen; });
  REQUIRE(server.listen().ok());
  std::thread running([&] { server.run(); });
  auto client = tls::run_client_handshake(client_options(server.port(), tls::TlsVersion::tls1_3));
  running.join();  // returns by itself: the limit was reached
  CHECK(client.ok());
  CHECK(seen == 1);
  CHECK(server.handshakes_recorded() == 1);
}

TEST_CASE("the established connection carries application data both ways") {
  auto options = server_options(tls::TlsVersion::tls1_3);
  std::promise<void> served;
  tls::HandshakeServer server(options, [&](const tls::HandshakeRecord& record,
                                           std::shared_ptr<tls::EstablishedConnection> c) {
    if (!record.ok() || !c) return;
    c->async_read_some(5s, [c, &served](mtls::Result<std::string> request) {
      std::string answer = request ? "echo:" + *request : "failed";
      c->async_write(answer, 5s, [c, &served](mtls::Status) {
        c->close();
        served.set_value();
      });
    });
  });
  REQUIRE(server.listen().ok());
  std::thread running([&] { server.run(); });
  auto client_opts = client_options(server.port(), tls::TlsVersion::tls1_3);
  client_opts.verdict_wait = 0ms;  // the exchange below is the verdict
  tls::ClientSession session = tls::connect_client(client_opts);
  REQUIRE(session.connection);
  CHECK(session.connection->write("OPTIONS", 5s).ok());
  auto answer = session.connection->read_some(5s);
  REQUIRE(answer.ok());
  CHECK(*answer == "echo:OPTIONS");
  session.connection->close();
  served.get_future().wait_for(10s);
  server.stop();
  running.join();
}

// ---- hostile peers ---------------------------------------------------------

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A raw TCP server that handles exactly one connection with `behave`.
class RawPeer {
 public:
  explicit RawPeer(std::function<void(tcp::socket&)> behave)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, behave] {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (!ec) behave(socket);
    });
  }
  ~RawPeer() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

void read_client_hello(tcp::socket& socket) {
  char buffer[4096];
  boost::system::error_code ec;
  socket.read_some(asio::buffer(buffer), ec);
}

void wait_until_closed(tcp::socket& socket) {
  char buffer[4096];
  boost::system::error_code ec;
  while (!ec) socket.read_some(asio::buffer(buffer), ec);
}

void answer_with(tcp::socket& socket, const std::string& text) {
  read_client_hello(socket);
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(text), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  wait_until_closed(socket);
}

}  // namespace

TEST_CASE("a peer that accepts TCP and says nothing ends in a handshake timeout") {
  RawPeer peer([](tcp::socket& socket) { wait_until_closed(socket); });
  auto options = client_options(peer.port(), tls::TlsVersion::tls1_3);
  options.handshake_timeout = 500ms;
  auto client = tls::run_client_handshake(options);
  CHECK(client.tcp_connected);
  CHECK(client.error == tls::HandshakeError::handshake_timeout);
  CHECK(client.error_message.find("500 ms") != std::string::npos);
}

TEST_CASE("a peer that answers with HTTP is recognised as HTTP") {
  RawPeer peer([](tcp::socket& socket) {
    answer_with(socket, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  auto client = tls::run_client_handshake(client_options(peer.port(), tls::TlsVersion::tls1_3));
  CHECK(client.error == tls::HandshakeError::not_tls);
  CHECK(client.non_tls_protocol == "HTTP");
  CHECK(client.first_bytes_received.rfind("HTTP/1.1 400 Bad Request", 0) == 0);
}

TEST_CASE("a peer that answers with SIP over TCP is recognised as SIP") {
  RawPeer peer([](tcp::socket& socket) {
    answer_with(socket, "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  auto client = tls::run_client_handshake(client_options(peer.port(), tls::TlsVersion::tls1_2));
  CHECK(client.error == tls::HandshakeError::not_tls);
  CHECK(client.non_tls_protocol == "SIP");
  CHECK(client.first_bytes_received.rfind("SIP/2.0 400", 0) == 0);
}

TEST_CASE("a peer that sends other bytes is reported as not TLS with those bytes") {
  RawPeer peer([](tcp::socket& socket) { answer_with(socket, "220 mail.example ESMTP\r\n"); });
  auto client = tls::run_client_handshake(client_options(peer.port(), tls::TlsVersion::tls1_3));
  CHECK(client.error == tls::HandshakeError::not_tls);
  CHECK(client.non_tls_protocol.empty());
  CHECK(client.first_bytes_received.rfind("220 mail", 0) == 0);
}

TEST_CASE("a peer that closes mid-handshake is reported as closed") {
  RawPeer peer([](tcp::socket& socket) {
    read_client_hello(socket);
    socket.close();
  });
  auto client = tls::run_client_handshake(client_options(peer.port(), tls::TlsVersion::tls1_3));
  CHECK(client.tcp_connected);
  CHECK(client.error == tls::HandshakeError::peer_closed);
}

TEST_CASE("a closed port is reported as connection refused") {
  std::uint16_t port = testing::free_port();
  auto client = tls::run_client_handshake(client_options(port, tls::TlsVersion::tls1_3));
  CHECK_FALSE(client.tcp_connected);
  CHECK(client.error == tls::HandshakeError::connection_refused);
}

TEST_CASE("a name that does not resolve is reported as a DNS failure") {
  auto options = client_options(5061, tls::TlsVersion::tls1_3);
  options.host = "no-such-host.invalid";
  auto client = tls::run_client_handshake(options);
  CHECK(client.error == tls::HandshakeError::dns_failure);
}

TEST_CASE("a server that sends a 100-certificate chain is captured and judged, not fatal") {
  testing::TestPki pki;
  pki.root("ca0", "Long Root");
  tls::CertificateSpec ca;
  ca.is_ca = true;
  for (int i = 1; i < 99; ++i) {
    ca.common_name = "Long CA " + std::to_string(i);
    pki.issue("ca" + std::to_string(i), ca, "ca" + std::to_string(i - 1),
              /*reuse_issuer_key=*/true);
  }
  pki.leaf("leaf", "localhost", "ca98");
  tls::ServerOptions options = server_options(tls::TlsVersion::tls1_3);
  std::vector<std::string> chain;
  for (int i = 98; i >= 0; --i) chain.push_back("ca" + std::to_string(i));
  options.credentials = pki.credentials("leaf", chain);
  RunningServer server(options);

  auto client_opts = client_options(server.port(), tls::TlsVersion::tls1_3);
  client_opts.trust = pki.trust({"ca0"});
  auto client = tls::run_client_handshake(client_opts);
  CHECK(client.handshake_completed);
  CHECK(client.peer_chain.size() == 100);
  CHECK(client.peer_chain_in_order);
  REQUIRE(client.peer_verification.has_value());
  CHECK_FALSE(client.peer_verification->trusted);  // deeper than we allow
  CHECK(client.error == tls::HandshakeError::we_rejected_peer);
}

TEST_CASE("alert names and codes map both ways") {
  CHECK(tls::alert_code("unknown_ca") == 48);
  CHECK(tls::alert_name(116) == "certificate_required");
  CHECK(tls::alert_name(250) == "alert 250");
  CHECK_FALSE(tls::alert_code("nonsense").has_value());
  CHECK(tls::verify_error_for_alert(48).has_value());
  CHECK_FALSE(tls::verify_error_for_alert(70).has_value());
}

TEST_CASE("our server names a client that speaks HTTP and times out a silent one") {
  auto options = server_options(tls::TlsVersion::tls1_3);
  options.handshake_timeout = 500ms;
  RunningServer server(options);
  asio::io_context io;
  {
    tcp::socket http(io);
    http.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    asio::write(http, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    auto seen = server.record(0);
    REQUIRE(seen.has_value());
    CHECK(seen->error == tls::HandshakeError::not_tls);
    CHECK(seen->non_tls_protocol == "HTTP");
    CHECK(seen->first_bytes_received.rfind("GET / HTTP/1.1", 0) == 0);
  }
  {
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    auto seen = server.record(1);
    REQUIRE(seen.has_value());
    CHECK(seen->error == tls::HandshakeError::handshake_timeout);
  }
}
