// AIA caIssuers downloads on a loopback HTTP server: the issuer found in DER,
// PEM and PKCS#7 bodies (the last made by `openssl crl2pkcs7`), and clear
// reasons when the URL gives something else or nothing.
#include <doctest/doctest.h>

#include "tests/support/report_reading.hpp"

#include <fstream>

#include "tests/support/process.hpp"
#include "tests/support/raw_tcp_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_pki.hpp"
#include "tls/aia_issuer.hpp"
#include "tls/http_server.hpp"
#include "tls/issuer.hpp"

namespace {

std::string bytes(const std::vector<std::uint8_t>& der) { return {der.begin(), der.end()}; }

// AIA Root -> AIA Intermediate -> leaves naming caIssuers URLs; an unrelated CA.
struct Pki : testing::TestPki {
  Pki() {
    root("root", "AIA Root");
    intermediate("intermediate", "AIA Intermediate", "root");
    root("other", "Unrelated CA");
  }
  tls::Certificate leaf(std::vector<std::string> ca_issuer_urls) {
    tls::CertificateSpec spec;
    spec.common_name = "leaf.example.com";
    spec.dns_names = {"leaf.example.com"};
    spec.ca_issuer_urls = std::move(ca_issuer_urls);
    const std::string name = "leaf" + std::to_string(++leaves_);
    issue(name, spec, "intermediate");
    return certificate(name);
  }

 private:
  int leaves_ = 0;
};

std::string pkcs7_of(const tls::Certificate& certificate) {
  testing::TempDir dir;
  testing::write_file(dir / "ca.pem", certificate.pem());
  auto made = testing::run_process({"openssl", "crl2pkcs7", "-nocrl", "-certfile",
                                    (dir / "ca.pem").string(), "-outform", "DER", "-out",
                                    (dir / "ca.p7c").string()});
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  std::ifstream in(dir / "ca.p7c", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Publisher {
  std::unique_ptr<tls::HttpServer> server;
  explicit Publisher(const Pki& pki) {
    auto serve = [](std::string type, std::string body) {
      return [type, body](const tls::HttpServerRequest&) {
        tls::HttpServerResponse response;
        response.content_type = type;
        response.body = body;
        return response;
      };
    };
    std::vector<tls::HttpRoute> routes;
    routes.push_back(
        {"/der.crt", serve("application/pkix-cert", bytes(pki.certificate("intermediate").der()))});
    routes.push_back(
        {"/pem.crt", serve("application/x-pem-file", pki.certificate("intermediate").pem())});
    routes.push_back({"/bundle.p7c",
                      serve("application/pkcs7-mime", pkcs7_of(pki.certificate("intermediate")))});
    routes.push_back(
        {"/other.crt", serve("application/pkix-cert", bytes(pki.certificate("other").der()))});
    routes.push_back({"/login.html", serve("text/html", "<html>please log in</html>")});
    auto listening = tls::HttpServer::listen("127.0.0.1", 0, std::move(routes));
    REQUIRE(listening.ok());
    server = std::move(*listening);
    server->start();
  }
  std::string url(const std::string& path) const { return server->url() + path; }
};

tls::HttpClientOptions quick() {
  tls::HttpClientOptions options;
  options.proxy = "";
  options.timeout = std::chrono::seconds(5);
  return options;
}

}  // namespace

TEST_CASE("the issuer is found in a DER, a PEM and a PKCS#7 caIssuers body") {
  Pki pki;
  Publisher publisher(pki);
  for (const char* path : {"/der.crt", "/pem.crt", "/bundle.p7c"}) {
    CAPTURE(path);
    auto tried = tls::download_issuer(pki.leaf({publisher.url(path)}), quick());
    REQUIRE(tried.size() == 1);
    REQUIRE_MESSAGE(tried[0].issuer.has_value(), tried[0].error);
    CHECK(tried[0].issuer->same_as(pki.certificate("intermediate")));
    CHECK(tried[0].url == publisher.url(path));
  }
}

TEST_CASE("a caIssuers URL with the wrong certificate, HTML or nothing says why, then the next") {
  Pki pki;
  Publisher publisher(pki);
  const auto refused = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/ca.crt";
  auto tried = tls::download_issuer(
      pki.leaf({"ldap://directory.example.com/cn=CA", publisher.url("/other.crt"),
                publisher.url("/login.html"), refused, publisher.url("/der.crt")}),
      quick());
  REQUIRE(tried.size() == 5);
  CHECK(testing::mentions(tried[0].error, "ldap"));
  CHECK(testing::mentions(tried[1].error, "none of which signed"));
  CHECK(testing::mentions(tried[2].error, "neither a DER or PEM certificate nor a PKCS#7 bundle"));
  CHECK(testing::mentions(tried[3].error, refused.substr(0, refused.find("/ca.crt"))));
  REQUIRE(tried[4].issuer.has_value());
  CHECK(tried[4].issuer->same_as(pki.certificate("intermediate")));
}

TEST_CASE("a certificate without caIssuers URL tries nothing") {
  Pki pki;
  CHECK(tls::download_issuer(pki.leaf({}), quick()).empty());
}

TEST_CASE("caIssuers URLs from a peer share one timeout, and only the first few are fetched") {
  // Issue 16 item 5: 20 URLs at 0.3 s took 6 s; at the default, 200 s.
  Pki pki;
  Publisher publisher(pki);
  std::vector<std::string> missing;
  for (int i = 0; i < 10; ++i) missing.push_back(publisher.url("/missing-" + std::to_string(i)));
  auto tried = tls::download_issuer(pki.leaf(missing), quick());
  REQUIRE(tried.size() == 10);
  for (std::size_t i = 0; i < tried.size(); ++i) {
    CAPTURE(i);
    CHECK(testing::mentions(tried[i].error, "not tried") == (i >= tls::kMaxIssuerUrls));
  }

  testing::SilentListener silent;
  std::vector<std::string> silent_urls(
      6, "http://127.0.0.1:" + std::to_string(silent.port()) + "/ca.crt");
  auto options = quick();
  options.timeout = std::chrono::milliseconds(500);
  auto waited = tls::download_issuer(pki.leaf(silent_urls), options);
  REQUIRE(waited.size() == 6);
  std::chrono::milliseconds total{0};
  for (const auto& download : waited) total += download.elapsed;
  CHECK(total < std::chrono::milliseconds(1500));
  CHECK(testing::mentions(waited.back().error, "not tried"));
}
