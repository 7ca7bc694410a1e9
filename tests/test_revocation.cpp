// CRL and OCSP checks against real loopback HTTP servers, with certificates,
// CRLs and OCSP responses made at test time by tls/issuer, tls/crl_issuer
// and tls/ocsp_responder.
#include <doctest/doctest.h>

#include "tests/support/keys.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/revocation_options.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "probe/rules/revocation_findings.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_tcp_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/credentials.hpp"
#include "tls/crl_issuer.hpp"
#include "tls/http_server.hpp"
#include "tls/issuer.hpp"
#include "tls/ocsp_responder.hpp"
#include "tls/revocation.hpp"

namespace {

tls::Certificate make_ca(const std::string& name, const tls::PrivateKey& key) {
  tls::CertificateSpec spec;
  spec.common_name = name;
  spec.is_ca = true;
  return *tls::issue_certificate(spec, key, nullptr, key);
}

tls::HttpServerResponse reply(unsigned status, std::string type, std::string body) {
  tls::HttpServerResponse response;
  response.status = status;
  response.content_type = std::move(type);
  response.body = std::move(body);
  return response;
}

std::string bytes(const std::vector<std::uint8_t>& der) { return {der.begin(), der.end()}; }

// A CA and a loopback server that publishes what the test puts in it: the
// CA's CRL at /crl/ca.crl and OCSP answers at /ocsp.
struct Lab {
  tls::PrivateKey ca_key = testing::ec_key();
  tls::Certificate ca = make_ca("Revocation Test CA", ca_key);
  std::mutex mutex;
  std::string crl;                                               // served at /crl/ca.crl
  std::vector<tls::OcspAuthority> authorities;                   // answer /ocsp from these
  std::function<std::string(const std::string&)> ocsp_override;  // request DER -> response DER
  std::atomic<int> crl_downloads{0};
  std::atomic<int> ocsp_requests{0};
  std::unique_ptr<tls::HttpServer> server;

  Lab() {
    authorities.emplace_back(ca, ca_key);
    std::vector<tls::HttpRoute> routes;
    routes.push_back({"/crl/ca.crl", [this](const tls::HttpServerRequest&) {
                        std::lock_guard lock(mutex);
                        ++crl_downloads;
                        return reply(200, "application/pkix-crl", crl);
                      }});
    routes.push_back({"/ocsp", [this](const tls::HttpServerRequest& request) {
                        std::lock_guard lock(mutex);
                        ++ocsp_requests;
                        if (ocsp_override)
                          return reply(200, "application/ocsp-response",
                                       ocsp_override(request.body));
                        std::vector<std::uint8_t> der(request.body.begin(), request.body.end());
                        return reply(200, "application/ocsp-response",
                                     bytes(tls::answer_ocsp_request(der, authorities)));
                      }});
    routes.push_back({"/html.crl", [](const tls::HttpServerRequest&) {
                        return reply(200, "text/html", "<html><body>Login required</body></html>");
                      }});
    auto listening = tls::HttpServer::listen("127.0.0.1", 0, std::move(routes));
    REQUIRE(listening.ok());
    server = std::move(*listening);
    server->start();
  }

  std::string url(const std::string& path) const { return server->url() + path; }

  tls::Certificate leaf(std::vector<std::string> crl_urls, std::vector<std::string> ocsp_urls) {
    tls::CertificateSpec spec;
    spec.common_name = "leaf.example.com";
    spec.dns_names = {"leaf.example.com"};
    spec.eku = {"serverAuth", "clientAuth"};
    spec.crl_urls = std::move(crl_urls);
    spec.ocsp_urls = std::move(ocsp_urls);
    return *tls::issue_certificate(spec, testing::ec_key(), &ca, ca_key);
  }
  tls::Certificate crl_leaf() { return leaf({url("/crl/ca.crl")}, {}); }
  tls::Certificate ocsp_leaf() { return leaf({}, {url("/ocsp")}); }

  void publish_crl(tls::CrlSpec spec) {
    auto der = tls::issue_crl(spec, ca, ca_key);
    REQUIRE(der.ok());
    std::lock_guard lock(mutex);
    crl = bytes(*der);
  }
  void revoke(const tls::Certificate& certificate, const std::string& reason) {
    std::lock_guard lock(mutex);
    authorities[0].revoked.push_back({certificate.info().serial_hex, tls::Clock::now(), reason});
  }
};

}  // namespace

TEST_CASE("a CRL that does not list the certificate says good, with source, URL and age") {
  Lab lab;
  auto certificate = lab.crl_leaf();
  lab.publish_crl({{{"0BADC0DE", tls::Clock::now(), "keyCompromise"}}});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::good);
  CHECK(status.source == tls::RevocationSource::crl);
  CHECK(status.url == lab.url("/crl/ca.crl"));
  CHECK(status.age < std::chrono::minutes(5));
  CHECK(status.next_update.has_value());
  REQUIRE(status.attempts.size() == 1);
  CHECK(status.attempts[0].outcome == tls::RevocationStatus::good);
}

TEST_CASE("a CRL that lists the certificate says revoked, with date and reason") {
  Lab lab;
  auto certificate = lab.crl_leaf();
  const auto revoked_at = tls::Clock::now() - std::chrono::hours(2);
  lab.publish_crl({{{certificate.info().serial_hex, revoked_at, "keyCompromise"}}});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::revoked);
  CHECK(status.reason == "keyCompromise");
  REQUIRE(status.revocation_time.has_value());
  CHECK(std::chrono::abs(*status.revocation_time - revoked_at) < std::chrono::seconds(2));
}

TEST_CASE("a CRL issued by another CA says unknown") {
  Lab lab;
  auto certificate = lab.crl_leaf();
  auto other_key = testing::ec_key();
  auto other = make_ca("Some Other CA", other_key);
  auto der = tls::issue_crl({}, other, other_key);
  REQUIRE(der.ok());
  lab.crl = bytes(*der);
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::unknown);
  CHECK(testing::mentions(status.error, "CN=Some Other CA"));
}

TEST_CASE("a CRL signed by the wrong key is not trusted") {
  Lab lab;
  auto certificate = lab.crl_leaf();
  auto impostor_key = testing::ec_key();
  auto impostor = make_ca("Revocation Test CA", impostor_key);  // same name, other key
  auto der = tls::issue_crl({}, impostor, impostor_key);
  REQUIRE(der.ok());
  lab.crl = bytes(*der);
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "signature that does not verify"));
}

TEST_CASE("an expired CRL is stale and gives no answer") {
  Lab lab;
  auto certificate = lab.crl_leaf();
  tls::CrlSpec spec;
  spec.this_update = tls::Clock::now() - std::chrono::hours(48);
  spec.next_update = tls::Clock::now() - std::chrono::hours(24);
  lab.publish_crl(spec);
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(status.stale);
  CHECK(testing::mentions(status.error, "stale"));
  CHECK(status.age >= std::chrono::hours(47));
}

TEST_CASE("a CDP that refuses the connection is unavailable, naming the URL") {
  Lab lab;
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/a.crl";
  auto certificate = lab.leaf({url}, {});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::both));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, url));
  CHECK(testing::mentions(status.error, "cannot connect"));
}

TEST_CASE("a CDP that never answers is abandoned at the timeout, and the total is bounded") {
  Lab lab;
  testing::SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/a.crl";
  auto certificate = lab.leaf({url, url, url}, {url});
  auto options = testing::quick_revocation(tls::RevocationMode::both);
  options.http.timeout = std::chrono::milliseconds(400);
  options.total_timeout = std::chrono::milliseconds(1000);
  auto status = tls::check_revocation(certificate, lab.ca, options);
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "no answer within 400 ms"));
  CHECK(testing::mentions(status.error, "time budget"));  // the last URLs were skipped
  CHECK(status.attempts.size() == 4);
  CHECK(status.elapsed < std::chrono::seconds(5));
}

TEST_CASE("a CDP that returns an HTML page is unavailable, saying what came back") {
  Lab lab;
  auto certificate = lab.leaf({lab.url("/html.crl")}, {});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "not a CRL"));
  CHECK(testing::mentions(status.error, "text/html"));
  CHECK(testing::mentions(status.error, "<html>"));
}

TEST_CASE("a CDP that returns a 50 MB body hits the size limit") {
  Lab lab;
  testing::StreamingServer huge(
      "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 52428800\r\n\r\n",
      std::string(64 * 1024, '\0'));
  const std::string url = "http://127.0.0.1:" + std::to_string(huge.port()) + "/huge.crl";
  auto certificate = lab.leaf({url}, {});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::crl));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "larger than the 10 MiB limit"));
}

TEST_CASE("LDAP and file distribution points are reported as not fetchable") {
  Lab lab;
  auto certificate = lab.leaf(
      {"ldap:///CN=Revocation%20Test%20CA?certificateRevocationList", "file:///etc/pki/ca.crl"},
      {});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::both));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "ldap:// URL"));
  CHECK(testing::mentions(status.error, "file:// URL"));
}

TEST_CASE("a certificate without CDP or OCSP URL has nothing published; mode off checks nothing") {
  Lab lab;
  auto certificate = lab.leaf({}, {});
  CHECK(tls::check_revocation(certificate, lab.ca,
                              testing::quick_revocation(tls::RevocationMode::both))
            .kind == tls::RevocationStatus::not_published);
  auto published = lab.crl_leaf();
  auto off =
      tls::check_revocation(published, lab.ca, testing::quick_revocation(tls::RevocationMode::off));
  CHECK(off.kind == tls::RevocationStatus::not_published);
  CHECK(off.attempts.empty());
}

TEST_CASE("OCSP says good, revoked with reason, and unknown") {
  Lab lab;
  auto good = lab.ocsp_leaf();
  auto revoked = lab.ocsp_leaf();
  auto stranger = lab.ocsp_leaf();
  lab.revoke(revoked, "cessationOfOperation");
  lab.authorities[0].issued_serials =
      std::vector<std::string>{good.info().serial_hex, revoked.info().serial_hex};
  const auto options = testing::quick_revocation(tls::RevocationMode::ocsp);

  auto good_status = tls::check_revocation(good, lab.ca, options);
  CHECK(good_status.kind == tls::RevocationStatus::good);
  CHECK(good_status.source == tls::RevocationSource::ocsp);
  CHECK(good_status.url == lab.url("/ocsp"));

  auto revoked_status = tls::check_revocation(revoked, lab.ca, options);
  CHECK(revoked_status.kind == tls::RevocationStatus::revoked);
  CHECK(revoked_status.reason == "cessationOfOperation");
  CHECK(revoked_status.revocation_time.has_value());

  auto unknown_status = tls::check_revocation(stranger, lab.ca, options);
  CHECK(unknown_status.kind == tls::RevocationStatus::unknown);
}

TEST_CASE("an OCSP response about another serial is refused") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  lab.ocsp_override = [&lab](const std::string& request) {
    tls::OcspAnswer answer;
    answer.serial_hex = "01";
    std::vector<std::uint8_t> der(request.begin(), request.end());
    return bytes(*tls::sign_ocsp_response(answer, lab.ca, lab.ca, lab.ca_key, der));
  };
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(
      status.error, "answers for serial 01, not for serial " + certificate.info().serial_hex));
}

TEST_CASE("an OCSP response signed by a stranger is refused") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  auto stranger_key = testing::ec_key();
  auto stranger = make_ca("Stranger", stranger_key);
  lab.ocsp_override = [&](const std::string& request) {
    tls::OcspAnswer answer;
    answer.serial_hex = certificate.info().serial_hex;
    std::vector<std::uint8_t> der(request.begin(), request.end());
    return bytes(*tls::sign_ocsp_response(answer, lab.ca, stranger, stranger_key, der));
  };
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK(status.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(status.error, "CN=Stranger"));
}

TEST_CASE("a delegated OCSP responder needs the OCSP Signing EKU from the issuer") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  auto responder_key = testing::ec_key();
  tls::CertificateSpec spec;
  spec.common_name = "OCSP Responder";
  spec.eku = {"OCSPSigning"};
  auto responder = *tls::issue_certificate(spec, responder_key, &lab.ca, lab.ca_key);
  spec.common_name = "Not A Responder";
  spec.eku = {"serverAuth"};
  auto impostor = *tls::issue_certificate(spec, responder_key, &lab.ca, lab.ca_key);

  lab.authorities[0].responder = responder;
  lab.authorities[0].responder_key = responder_key;
  auto delegated = tls::check_revocation(certificate, lab.ca,
                                         testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK(delegated.kind == tls::RevocationStatus::good);

  lab.authorities[0].responder = impostor;
  auto refused = tls::check_revocation(certificate, lab.ca,
                                       testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK(refused.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(refused.error, "lacks the OCSP Signing extended key usage"));
}

TEST_CASE("mode both asks OCSP first and falls back to the CRL") {
  Lab lab;
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/ocsp";
  auto certificate = lab.leaf({lab.url("/crl/ca.crl")}, {dead});
  lab.publish_crl({});
  auto status = tls::check_revocation(certificate, lab.ca,
                                      testing::quick_revocation(tls::RevocationMode::both));
  CHECK(status.kind == tls::RevocationStatus::good);
  CHECK(status.source == tls::RevocationSource::crl);
  REQUIRE(status.attempts.size() == 2);
  CHECK(status.attempts[0].source == tls::RevocationSource::ocsp);
  CHECK(status.attempts[0].outcome == tls::RevocationStatus::unavailable);
  CHECK(status.attempts[1].source == tls::RevocationSource::crl);

  auto both = lab.leaf({lab.url("/crl/ca.crl")}, {lab.url("/ocsp")});
  auto ocsp_first =
      tls::check_revocation(both, lab.ca, testing::quick_revocation(tls::RevocationMode::both));
  CHECK(ocsp_first.source == tls::RevocationSource::ocsp);
  CHECK(ocsp_first.attempts.size() == 1);
}

TEST_CASE("a cached CRL is reused while fresh") {
  Lab lab;
  testing::TempDir cache;
  auto certificate = lab.crl_leaf();
  lab.publish_crl({});
  auto options = testing::quick_revocation(tls::RevocationMode::crl);
  options.crl_cache_dir = cache.path();
  auto first = tls::check_revocation(certificate, lab.ca, options);
  auto second = tls::check_revocation(certificate, lab.ca, options);
  CHECK(first.kind == tls::RevocationStatus::good);
  CHECK(second.kind == tls::RevocationStatus::good);
  CHECK(lab.crl_downloads == 1);
  REQUIRE(second.attempts.size() == 1);
  CHECK(second.attempts[0].from_cache);
}

TEST_CASE("a stapled OCSP response is verified like a fetched one") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  tls::OcspAnswer answer;
  answer.serial_hex = certificate.info().serial_hex;
  auto stapled = tls::sign_ocsp_response(answer, lab.ca, lab.ca, lab.ca_key);
  REQUIRE(stapled.ok());
  auto status = tls::verify_stapled_ocsp(*stapled, certificate, lab.ca);
  CHECK(status.kind == tls::RevocationStatus::good);
  CHECK(status.source == tls::RevocationSource::stapled_ocsp);

  answer.next_update = tls::Clock::now() - std::chrono::hours(1);
  answer.this_update = tls::Clock::now() - std::chrono::hours(2);
  auto expired = tls::verify_stapled_ocsp(
      *tls::sign_ocsp_response(answer, lab.ca, lab.ca, lab.ca_key), certificate, lab.ca);
  CHECK(expired.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(expired.error, "expired"));

  auto garbage = tls::verify_stapled_ocsp({1, 2, 3}, certificate, lab.ca);
  CHECK(garbage.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(garbage.error, "not an OCSP response"));
}

TEST_CASE("revocation modes and reasons parse by name") {
  CHECK(*tls::parse_revocation_mode("both") == tls::RevocationMode::both);
  CHECK_FALSE(tls::parse_revocation_mode("sometimes").ok());
  CHECK(tls::crl_reason_code("keyCompromise") == 1);
  CHECK(tls::crl_reason_name(6) == "certificateHold");
  CHECK_FALSE(tls::crl_reason_code("bored").has_value());
}

TEST_CASE("fetch_ocsp_response keeps the responder's bytes for stapling, with their verdict") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  auto fetched = tls::fetch_ocsp_response(certificate, lab.ca, lab.url("/ocsp"),
                                          testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK_MESSAGE(fetched.status.kind == tls::RevocationStatus::good, fetched.status.error);
  REQUIRE_FALSE(fetched.der.empty());
  auto again = tls::verify_stapled_ocsp(fetched.der, certificate, lab.ca);
  CHECK(again.kind == tls::RevocationStatus::good);

  auto unreachable = tls::fetch_ocsp_response(
      certificate, lab.ca, "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/ocsp",
      testing::quick_revocation(tls::RevocationMode::ocsp));
  CHECK(unreachable.der.empty());
  CHECK(unreachable.status.kind == tls::RevocationStatus::unavailable);
  CHECK_FALSE(unreachable.status.error.empty());
}

TEST_CASE("the responder answers the RFC 6960 GET form; undecodable paths get malformedRequest") {
  Lab lab;
  testing::TempDir dir;
  auto certificate = lab.ocsp_leaf();
  testing::write_file(dir / "leaf.pem", certificate.pem());
  testing::write_file(dir / "ca.pem", lab.ca.pem());
  auto asked = testing::run_process({"openssl", "ocsp", "-issuer", (dir / "ca.pem").string(),
                                     "-cert", (dir / "leaf.pem").string(), "-no_nonce", "-reqout",
                                     (dir / "req.der").string()});
  REQUIRE_MESSAGE(asked.exit_code == 0, asked.err);
  auto encoded =
      testing::run_process({"openssl", "base64", "-A", "-in", (dir / "req.der").string()});
  REQUIRE(encoded.exit_code == 0);
  std::string path;
  for (char c : encoded.out) {
    if (c == '+')
      path += "%2B";
    else if (c == '/')
      path += "%2F";
    else if (c == '=')
      path += "%3D";
    else if (c != '\n')
      path += c;
  }
  auto answer = tls::answer_ocsp_get(path, lab.authorities);
  auto status = tls::verify_stapled_ocsp(answer, certificate, lab.ca);
  CHECK_MESSAGE(status.kind == tls::RevocationStatus::good, status.error);

  auto garbage = tls::answer_ocsp_get("%%%not-base64", lab.authorities);
  auto refused = tls::verify_stapled_ocsp(garbage, certificate, lab.ca);
  CHECK(refused.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(refused.error, "malformedrequest"));
}

TEST_CASE("a CRL whose nextUpdate is 9999-12-31 is fresh, not 'passed 76947d ago'") {
  // Issue 16 item 4: the date wrapped to 1816 in a 64-bit nanosecond clock.
  Lab lab;
  testing::TempDir dir;
  REQUIRE(tls::write_pem(dir / "ca.crt", lab.ca).ok());
  REQUIRE(tls::write_private_key_pem(dir / "ca.key", lab.ca_key).ok());
  testing::write_file(dir / "index.txt", "");
  testing::write_file(dir / "crlnumber", "01\n");
  testing::write_file(dir / "ca.cnf",
                      "[ca]\ndefault_ca = d\n[d]\ndatabase = " + (dir / "index.txt").string() +
                          "\ncrlnumber = " + (dir / "crlnumber").string() +
                          "\ndefault_md = sha256\n");
  auto made = testing::run_process({"openssl", "ca", "-config", (dir / "ca.cnf").string(),
                                    "-gencrl", "-keyfile", (dir / "ca.key").string(), "-cert",
                                    (dir / "ca.crt").string(), "-crl_nextupdate", "99991231235959Z",
                                    "-out", (dir / "far.crl").string()});
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  auto crl = tls::read_file_limited(dir / "far.crl");
  REQUIRE(crl.ok());
  auto certificate = lab.crl_leaf();
  tls::RevocationOptions options;
  auto status = tls::evaluate_crl(*crl, certificate, lab.ca, options);
  CHECK_MESSAGE(status.kind == tls::RevocationStatus::good, status.error);
  CHECK_FALSE(status.stale);
  REQUIRE(status.next_update);
  CHECK(*status.next_update > tls::Clock::now() + std::chrono::hours(24 * 365 * 200));
}

TEST_CASE("an expired OCSP answer is not called a stale CRL") {
  Lab lab;
  auto certificate = lab.ocsp_leaf();
  tls::OcspAnswer answer;
  answer.serial_hex = certificate.info().serial_hex;
  answer.next_update = tls::Clock::now() - std::chrono::hours(1);
  answer.this_update = tls::Clock::now() - std::chrono::hours(2);
  auto expired = tls::verify_stapled_ocsp(
      *tls::sign_ocsp_response(answer, lab.ca, lab.ca, lab.ca_key), certificate, lab.ca);
  CHECK(expired.kind == tls::RevocationStatus::unavailable);
  CHECK_FALSE(expired.stale);
}

namespace {

// A run's cache whose clock a test moves on instead of waiting.
struct MovableClock {
  std::shared_ptr<std::atomic<long long>> hours_on = std::make_shared<std::atomic<long long>>(0);
  std::shared_ptr<tls::RevocationCache> cache() const {
    tls::RevocationCache::Limits limits;
    limits.clock = [hours = hours_on] {
      return tls::Clock::now() + std::chrono::hours(hours->load());
    };
    return std::make_shared<tls::RevocationCache>(limits);
  }
};

}  // namespace

TEST_CASE("with a run's cache, a CRL is fetched once for every check and thread until nextUpdate") {
  Lab lab;
  tls::CrlSpec spec;
  spec.this_update = tls::Clock::now() - std::chrono::minutes(5);
  spec.next_update = tls::Clock::now() + std::chrono::hours(1);
  lab.publish_crl(spec);
  auto first = lab.crl_leaf();
  auto second = lab.crl_leaf();
  MovableClock clock;
  auto options = testing::quick_revocation(tls::RevocationMode::crl);
  options.cache = clock.cache();

  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto status = tls::check_revocation(i % 2 ? first : second, lab.ca, options);
      if (status.kind == tls::RevocationStatus::good) ++good;
    });
  for (auto& thread : threads) thread.join();
  CHECK(good == 8);
  CHECK(lab.crl_downloads == 1);
  auto again = tls::check_revocation(first, lab.ca, options);
  CHECK(again.kind == tls::RevocationStatus::good);
  REQUIRE(again.attempts.size() == 1);
  CHECK(again.attempts[0].from_cache);
  CHECK(lab.crl_downloads == 1);
  CHECK(options.cache->counts().crls == 1);

  // Past its nextUpdate the CRL is fetched again.
  *clock.hours_on = 2;
  auto later = tls::check_revocation(first, lab.ca, options);
  CHECK(later.kind == tls::RevocationStatus::good);
  CHECK(lab.crl_downloads == 2);

  // Without a cache every check fetches.
  auto uncached = testing::quick_revocation(tls::RevocationMode::crl);
  tls::check_revocation(first, lab.ca, uncached);
  tls::check_revocation(first, lab.ca, uncached);
  CHECK(lab.crl_downloads == 4);
}

TEST_CASE("a CRL past its nextUpdate is not kept: each check fetches it again") {
  Lab lab;
  tls::CrlSpec spec;
  spec.this_update = tls::Clock::now() - std::chrono::hours(48);
  spec.next_update = tls::Clock::now() - std::chrono::hours(24);
  lab.publish_crl(spec);
  auto certificate = lab.crl_leaf();
  auto options = testing::quick_revocation(tls::RevocationMode::crl);
  options.cache = std::make_shared<tls::RevocationCache>();
  for (int i = 0; i < 2; ++i) {
    auto status = tls::check_revocation(certificate, lab.ca, options);
    CHECK(status.stale);
  }
  CHECK(lab.crl_downloads == 2);
}

TEST_CASE("a kept CRL still says revoked for the serial it lists, and good for another") {
  Lab lab;
  auto revoked = lab.crl_leaf();
  auto good = lab.crl_leaf();
  tls::CrlSpec spec;
  spec.revoked.push_back({revoked.info().serial_hex, tls::Clock::now(), "keyCompromise"});
  lab.publish_crl(spec);
  auto options = testing::quick_revocation(tls::RevocationMode::crl);
  options.cache = std::make_shared<tls::RevocationCache>();
  CHECK(tls::check_revocation(revoked, lab.ca, options).kind == tls::RevocationStatus::revoked);
  CHECK(tls::check_revocation(good, lab.ca, options).kind == tls::RevocationStatus::good);
  auto again = tls::check_revocation(revoked, lab.ca, options);
  CHECK(again.kind == tls::RevocationStatus::revoked);
  CHECK(again.reason == "keyCompromise");
  CHECK(lab.crl_downloads == 1);
}

TEST_CASE("with a run's cache, an OCSP answer is asked once per certificate until its nextUpdate") {
  Lab lab;
  auto first = lab.ocsp_leaf();
  auto second = lab.ocsp_leaf();
  lab.revoke(second, "superseded");
  MovableClock clock;
  auto options = testing::quick_revocation(tls::RevocationMode::ocsp);
  options.cache = clock.cache();

  for (int i = 0; i < 3; ++i) {
    CHECK(tls::check_revocation(first, lab.ca, options).kind == tls::RevocationStatus::good);
    auto revoked = tls::check_revocation(second, lab.ca, options);
    CHECK(revoked.kind == tls::RevocationStatus::revoked);
    CHECK(revoked.reason == "superseded");
  }
  CHECK(lab.ocsp_requests == 2);  // one per certificate
  CHECK(options.cache->counts().answers == 2);

  // A week on, past any nextUpdate the responder gave (or the hour kept
  // without one), the answer is asked for again.
  *clock.hours_on = 24 * 7;
  CHECK(tls::check_revocation(first, lab.ca, options).kind == tls::RevocationStatus::good);
  CHECK(lab.ocsp_requests == 3);
}

TEST_CASE("a responder that never answers costs one timeout per run, not one per check") {
  Lab lab;
  testing::SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/ocsp";
  auto certificate = lab.leaf({}, {url});
  auto options = testing::quick_revocation(tls::RevocationMode::ocsp);
  options.http.timeout = std::chrono::milliseconds(300);
  options.cache = std::make_shared<tls::RevocationCache>();
  auto first = tls::check_revocation(certificate, lab.ca, options);
  CHECK(first.kind == tls::RevocationStatus::unavailable);
  REQUIRE(first.attempts.size() == 1);
  CHECK_FALSE(first.attempts[0].from_cache);
  auto second = tls::check_revocation(certificate, lab.ca, options);
  CHECK(second.kind == tls::RevocationStatus::unavailable);
  CHECK(testing::mentions(second.error, "no answer within 300 ms"));
  REQUIRE(second.attempts.size() == 1);
  CHECK(second.attempts[0].from_cache);

  // cached_only: what is not kept is not asked.
  auto other = lab.leaf({}, {lab.url("/ocsp")});
  auto cached_only = options;
  cached_only.cached_only = true;
  auto unasked = tls::check_revocation(other, lab.ca, cached_only);
  CHECK(unasked.kind == tls::RevocationStatus::unavailable);
  CHECK(unasked.problem == tls::RevocationProblem::budget_spent);
  CHECK(lab.ocsp_requests == 0);
}

// Issue 17: with a dead responder serve judged 1% of handshakes. Its failure
// was kept per certificate, and when it lapsed every judgement waited behind
// the one asking again, so the judgement queue stayed full.
TEST_CASE(
    "a responder that never answers is remembered per URL; when that lapses one caller asks "
    "it again and the others are told the remembered failure at once") {
  Lab lab;
  testing::SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/ocsp";
  auto first = lab.leaf({}, {url});
  auto second = lab.leaf({}, {url});
  MovableClock clock;
  auto options = testing::quick_revocation(tls::RevocationMode::ocsp);
  options.http.timeout = std::chrono::milliseconds(300);
  options.cache = clock.cache();
  auto asked = tls::check_revocation(first, lab.ca, options);
  CHECK(asked.kind == tls::RevocationStatus::unavailable);
  CHECK(asked.problem == tls::RevocationProblem::fetch_failed);
  CHECK_FALSE(testing::mentions(asked.error, "remembered"));

  // Another certificate of the same responder: the responder is not asked.
  auto other = tls::check_revocation(second, lab.ca, options);
  CHECK(other.kind == tls::RevocationStatus::unavailable);
  CHECK(other.problem == tls::RevocationProblem::fetch_failed);
  CHECK_MESSAGE(testing::mentions(other.error, "no answer within 300 ms"), other.error);
  CHECK(testing::mentions(other.error, "remembered: no answer at"));
  REQUIRE(other.attempts.size() == 1);
  CHECK(other.attempts[0].from_cache);

  // Past keep_failure one caller asks again (for 3 s, the silent server's
  // whole timeout) ...
  *clock.hours_on = 1;
  auto slow = options;
  slow.http.timeout = std::chrono::seconds(3);
  std::atomic<bool> done{false};
  tls::RevocationStatus again;
  std::thread asking([&] {
    again = tls::check_revocation(first, lab.ca, slow);
    done = true;
  });
  // ... (a cached_only look sees the remembered failure once it asks) ...
  auto look = options;
  look.cached_only = true;
  bool seen = false;
  for (int i = 0; i < 250 && !seen && !done; ++i) {
    seen = testing::mentions(tls::check_revocation(second, lab.ca, look).error, "remembered");
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(seen);
  // ... while every other check is told the remembered failure instead of
  // waiting for that answer (which would not say "remembered").
  for (auto* certificate : {&first, &second}) {
    auto told = tls::check_revocation(*certificate, lab.ca, options);
    CHECK(told.kind == tls::RevocationStatus::unavailable);
    CHECK_MESSAGE(testing::mentions(told.error, "remembered"), told.error);
  }
  CHECK_FALSE(done.load());
  asking.join();
  CHECK(again.kind == tls::RevocationStatus::unavailable);
  CHECK_FALSE(testing::mentions(again.error, "remembered"));
  CHECK(testing::mentions(again.error, "no answer within 3000 ms"));
  // Its new failure is the one remembered now.
  auto after = tls::check_revocation(second, lab.ca, options);
  CHECK_MESSAGE(testing::mentions(after.error, "no answer within 3000 ms"), after.error);
  CHECK(testing::mentions(after.error, "remembered"));
}

// Issue 17: serve's judges all waited behind the first fetch from a server
// that never answers, so every handshake in that first timeout went unjudged.
TEST_CASE(
    "with wait_for_others, checks do not wait behind another check's fetch from a silent "
    "server") {
  Lab lab;
  testing::SilentListener silent;
  const std::string base = "http://127.0.0.1:" + std::to_string(silent.port());
  auto first = lab.leaf({base + "/ca.crl"}, {base + "/ocsp"});
  auto second = lab.leaf({base + "/ca.crl"}, {base + "/ocsp"});
  auto options = testing::quick_revocation(tls::RevocationMode::both);
  options.http.timeout = std::chrono::seconds(3);
  options.total_timeout = std::chrono::seconds(6);
  options.cache = std::make_shared<tls::RevocationCache>();
  options.wait_for_others = std::chrono::milliseconds(50);
  std::atomic<bool> done{false};
  tls::RevocationStatus asked;
  std::thread asking([&] {
    asked = tls::check_revocation(first, lab.ca, options);
    done = true;
  });
  for (int i = 0; i < 500 && options.cache->counts().fetching == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(options.cache->counts().fetching == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past wait_for_others
  // The same answer and another certificate's, OCSP and CRL alike: not asked,
  // and said why, while the first check still waits for its answer.
  for (auto* certificate : {&first, &second}) {
    auto told = tls::check_revocation(*certificate, lab.ca, options);
    CHECK(told.kind == tls::RevocationStatus::unavailable);
    REQUIRE(told.attempts.size() == 2);
    for (const auto& attempt : told.attempts)
      CHECK_MESSAGE(testing::mentions(attempt.error, "another check has waited"), attempt.error);
  }
  CHECK_FALSE(done.load());
  CHECK(options.cache->counts().fetching == 1);
  // Without it a check waits within its own budget for that same answer.
  auto patient = options;
  patient.wait_for_others.reset();
  patient.mode = tls::RevocationMode::ocsp;
  auto waited = tls::check_revocation(first, lab.ca, patient);
  CHECK(waited.kind == tls::RevocationStatus::unavailable);
  CHECK_MESSAGE(testing::mentions(waited.error, "no answer within 3000 ms"), waited.error);
  asking.join();
  CHECK(asked.kind == tls::RevocationStatus::unavailable);
  CHECK(options.cache->counts().fetching == 0);
}

TEST_CASE("a CRL URL that never answers is remembered for every certificate that names it") {
  Lab lab;
  testing::SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/ca.crl";
  auto first = lab.leaf({url}, {});
  auto second = lab.leaf({url}, {});
  auto options = testing::quick_revocation(tls::RevocationMode::crl);
  options.http.timeout = std::chrono::milliseconds(300);
  options.cache = std::make_shared<tls::RevocationCache>();
  auto asked = tls::check_revocation(first, lab.ca, options);
  CHECK(asked.kind == tls::RevocationStatus::unavailable);
  CHECK_FALSE(testing::mentions(asked.error, "remembered"));
  auto other = tls::check_revocation(second, lab.ca, options);
  CHECK(other.kind == tls::RevocationStatus::unavailable);
  CHECK(other.problem == tls::RevocationProblem::fetch_failed);
  CHECK_MESSAGE(testing::mentions(other.error, "remembered: no answer at"), other.error);
  REQUIRE(other.attempts.size() == 1);
  CHECK(other.attempts[0].from_cache);

  // Another URL of the same silent server is not asked either: one timeout
  // per dead server, not one per URL.
  auto elsewhere =
      lab.leaf({"http://127.0.0.1:" + std::to_string(silent.port()) + "/other.crl"}, {});
  auto told = tls::check_revocation(elsewhere, lab.ca, options);
  CHECK(told.kind == tls::RevocationStatus::unavailable);
  CHECK_MESSAGE(testing::mentions(told.error, "on the same server gave no response"), told.error);
  CHECK(testing::mentions(told.error, url));

  // The lab's CRL server answering (a good answer) is not hidden by it.
  lab.publish_crl({});
  auto live = lab.crl_leaf();
  CHECK(tls::check_revocation(live, lab.ca, options).kind == tls::RevocationStatus::good);
}

// Issue 16 item 18: in `both` mode an OCSP answer for another serial made the
// CRL decide in silence. The finding names the bad responder.
TEST_CASE("an OCSP responder answering for another serial is named when the CRL decides") {
  Lab lab;
  auto certificate = lab.leaf({lab.url("/crl/ca.crl")}, {lab.url("/ocsp")});
  lab.publish_crl({});
  lab.ocsp_override = [&lab](const std::string& request) {
    tls::OcspAnswer answer;
    answer.serial_hex = "01";
    std::vector<std::uint8_t> der(request.begin(), request.end());
    return bytes(*tls::sign_ocsp_response(answer, lab.ca, lab.ca, lab.ca_key, der));
  };
  auto check = probe::check_chain_revocation(probe::Side::bems, {certificate, lab.ca},
                                             testing::quick_revocation(tls::RevocationMode::both));
  CHECK(check.finding.status == report::Status::warn);
  CHECK_MESSAGE(testing::mentions(check.finding.detail, lab.url("/ocsp")), check.finding.detail);
  CHECK(testing::mentions(check.finding.detail, "not for serial"));
  CHECK(testing::mentions(check.finding.detail, "good by CRL"));
  CHECK_FALSE(check.finding.remedy.empty());
}
