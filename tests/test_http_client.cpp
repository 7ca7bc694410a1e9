// The revocation HTTP client against real loopback servers, friendly and not.
#include <doctest/doctest.h>

#include "tests/support/report_reading.hpp"

#include <cstdlib>

#include "tests/support/process.hpp"
#include "tests/support/raw_tcp_server.hpp"
#include "tls/http_client.hpp"
#include "tls/http_server.hpp"

namespace {

std::unique_ptr<tls::HttpServer> serve(std::vector<tls::HttpRoute> routes,
                                       tls::HttpServerOptions options = {}) {
  auto server = tls::HttpServer::listen("127.0.0.1", 0, std::move(routes), std::move(options));
  REQUIRE(server.ok());
  (*server)->start();
  return std::move(*server);
}

tls::HttpClientOptions direct(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  tls::HttpClientOptions options;
  options.proxy = "";
  options.timeout = timeout;
  return options;
}

tls::HttpRequest get(const std::string& url) {
  tls::HttpRequest request;
  request.url = url;
  return request;
}

tls::HttpServerResponse answer(unsigned status, std::string type = "text/plain",
                               std::string body = "",
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
  tls::HttpServerResponse response;
  response.status = status;
  response.content_type = std::move(type);
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

}  // namespace

TEST_CASE("a GET returns status, body, content type and final URL") {
  auto server = serve({{"/crl/a.crl", [](const tls::HttpServerRequest& request) {
                          CHECK(request.method == "GET");
                          return answer(200, "application/pkix-crl", "CRLDATA");
                        }}});
  const std::string url = server->url() + "/crl/a.crl";
  auto result = tls::http_fetch(get(url), direct());
  CHECK(result.ok());
  CHECK(result.status == 200);
  CHECK(result.body == "CRLDATA");
  CHECK(result.content_type == "application/pkix-crl");
  CHECK(result.final_url == url);
  CHECK(result.proxy.empty());
}

// A host name, not an IP literal: looked up (localhost, from the hosts file)
// before the connection, on the same loop that then runs the exchange.
TEST_CASE("a URL naming its host is looked up and fetched") {
  auto server = serve({{"/ocsp", [](const tls::HttpServerRequest&) {
                          return answer(200, "application/ocsp-response", "ANSWER");
                        }}});
  const std::string url = "http://localhost:" + std::to_string(server->port()) + "/ocsp";
  auto result = tls::http_fetch(get(url), direct());
  CHECK_MESSAGE(result.ok(), result.error);
  CHECK(result.status == 200);
  CHECK(result.body == "ANSWER");
}

TEST_CASE("a POST carries its body and content type") {
  auto server = serve({{"/ocsp", [](const tls::HttpServerRequest& request) {
                          if (request.method != "POST") return answer(405);
                          return answer(200, "application/ocsp-response",
                                        request.content_type + "|" + request.body);
                        }}});
  tls::HttpRequest request = get(server->url() + "/ocsp");
  request.method = "POST";
  request.body = "REQ";
  request.content_type = "application/ocsp-request";
  auto result = tls::http_fetch(request, direct());
  CHECK(result.ok());
  CHECK(result.body == "application/ocsp-request|REQ");
}

TEST_CASE("ldap, file and https URLs are reported as not fetchable, by name") {
  auto ldap =
      tls::http_fetch(get("ldap:///CN=Root,DC=example?certificateRevocationList"), direct());
  CHECK(testing::mentions(ldap.error, "ldap:// URL"));
  CHECK(testing::mentions(ldap.error, "not fetchable"));
  CHECK(testing::mentions(tls::http_fetch(get("file:///etc/crl.crl"), direct()).error,
                          "file:// URL"));
  CHECK(testing::mentions(tls::http_fetch(get("https://example.com/a.crl"), direct()).error,
                          "https:// URL"));
  CHECK(testing::mentions(tls::http_fetch(get("not a url"), direct()).error, "not a valid URL"));
  CHECK_FALSE(tls::why_not_fetchable("http://127.0.0.1/a.crl").has_value());
}

TEST_CASE("a refused connection is an error naming the address") {
  const auto port = testing::free_port();
  auto result =
      tls::http_fetch(get("http://127.0.0.1:" + std::to_string(port) + "/a.crl"), direct());
  CHECK_FALSE(result.ok());
  CHECK(result.status == 0);
  CHECK(testing::mentions(result.error, "cannot connect to 127.0.0.1:" + std::to_string(port)));
}

TEST_CASE("a server that never answers is abandoned at the timeout") {
  testing::SilentListener silent;
  const auto url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/a.crl";
  auto result = tls::http_fetch(get(url), direct(std::chrono::milliseconds(800)));
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "no answer within 800 ms"));
  CHECK(testing::mentions(result.error, "waiting for the response"));
  // Bounded: the deadline, not the peer, ended the fetch.
  CHECK(result.elapsed >= std::chrono::milliseconds(800));
  CHECK(result.elapsed < std::chrono::seconds(5));
}

TEST_CASE("an HTTP error status is an error with the status") {
  auto server = serve({});
  auto result = tls::http_fetch(get(server->url() + "/missing.crl"), direct());
  CHECK(result.status == 404);
  CHECK(testing::mentions(result.error, "HTTP 404"));
}

TEST_CASE("a body declared larger than the limit is refused before it is read") {
  testing::StreamingServer huge(
      "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 52428800\r\n\r\n",
      std::string(64 * 1024, 'x'));
  auto result = tls::http_fetch(get("http://127.0.0.1:" + std::to_string(huge.port()) + "/big.crl"),
                                direct());
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "larger than the 10 MiB limit"));
  CHECK(testing::mentions(result.error, "Content-Length 52428800"));
  CHECK(result.body.empty());
}

TEST_CASE("an endless chunked body stops at the limit") {
  // 50 MB would follow; the client must stop near 1 MiB without buffering it all.
  std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  testing::StreamingServer endless(
      "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nTransfer-Encoding: chunked\r\n\r\n",
      chunk);
  auto options = direct();
  options.body_limit = 1024 * 1024;
  auto result = tls::http_fetch(
      get("http://127.0.0.1:" + std::to_string(endless.port()) + "/endless.crl"), options);
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "larger than the 1 MiB limit"));
}

TEST_CASE("a chunk-size line that never ends is refused at the read buffer limit") {
  // Issue 16 item 1: Beast bounds the header but not a chunk line; this
  // server once made `check` buffer 3 GB.
  testing::StreamingServer endless(
      "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nTransfer-Encoding: "
      "chunked\r\n\r\n10;ext=",
      std::string(64 * 1024, 'a'));
  auto result =
      tls::http_fetch(get("http://127.0.0.1:" + std::to_string(endless.port()) + "/line.crl"),
                      direct(std::chrono::seconds(4)));
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "chunk-size line or trailer"));
  CHECK(testing::mentions(result.error, "64 KiB limit"));
  // The client stopped reading near the limit; what the server could still
  // send went into socket buffers, not into the client's memory.
  CHECK(endless.bytes_sent() < 64u * 1024u * 1024u);
}

TEST_CASE("an endless trailer after the last chunk is refused at the read buffer limit") {
  std::string trailer_field = "X-Pad: " + std::string(1000, 'b') + "\r\n";
  std::string repeated;
  while (repeated.size() < 64 * 1024) repeated += trailer_field;
  testing::StreamingServer endless(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n", repeated);
  auto result =
      tls::http_fetch(get("http://127.0.0.1:" + std::to_string(endless.port()) + "/trailer.crl"),
                      direct(std::chrono::seconds(4)));
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "chunk-size line or trailer"));
}

TEST_CASE("an endless header line is refused at the header limit") {
  testing::StreamingServer endless("HTTP/1.1 200 OK\r\nX-Pad: ", std::string(64 * 1024, 'h'));
  auto result =
      tls::http_fetch(get("http://127.0.0.1:" + std::to_string(endless.port()) + "/header.crl"),
                      direct(std::chrono::seconds(4)));
  CHECK_FALSE(result.ok());
  CHECK(testing::mentions(result.error, "response header is larger than the 16 KiB limit"));
}

TEST_CASE("the lab HTTP server answers 431 to an oversized request header and closes") {
  auto server = serve({});
  auto seen =
      testing::hostile_client(server->port(), "GET / HTTP/1.1\r\nX-Pad: ", std::string(4096, 'h'),
                              1024 * 1024, std::chrono::seconds(5));
  CHECK(seen.server_closed);
  CHECK(seen.answer.starts_with("HTTP/1.1 431"));
}

TEST_CASE("the lab HTTP server answers 400 to an endless chunk-size line and closes") {
  // Issue 16 item 1: one such client once took `pki serve` to 4.9 GB.
  auto server = serve({});
  auto seen = testing::hostile_client(
      server->port(), "POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10;a=",
      std::string(4096, 'a'), 4 * 1024 * 1024, std::chrono::seconds(5));
  CHECK(seen.server_closed);
  CHECK(seen.answer.starts_with("HTTP/1.1 400"));
  CHECK(seen.bytes_sent < 4u * 1024u * 1024u);
}

TEST_CASE("the lab HTTP server answers 400 to bytes that are not HTTP") {
  auto server = serve({});
  auto seen = testing::hostile_client(server->port(), "\x16\x03\x01\x02\x00 not http\r\n\r\n", "",
                                      64, std::chrono::seconds(5));
  CHECK(seen.server_closed);
  CHECK(seen.answer.starts_with("HTTP/1.1 400"));
}

TEST_CASE("redirects are followed, and a redirect loop is cut off") {
  auto server = serve(
      {{"/old.crl",
        [](const tls::HttpServerRequest&) {
          return answer(301, "text/plain", "", {{"Location", "/new.crl"}});
        }},
       {"/new.crl",
        [](const tls::HttpServerRequest&) { return answer(200, "application/pkix-crl", "NEW"); }},
       {"/loop.crl", [](const tls::HttpServerRequest&) {
          return answer(302, "text/plain", "", {{"Location", "/loop.crl"}});
        }}});
  auto moved = tls::http_fetch(get(server->url() + "/old.crl"), direct());
  CHECK(moved.ok());
  CHECK(moved.body == "NEW");
  CHECK(moved.redirects == 1);
  CHECK(moved.final_url == server->url() + "/new.crl");

  auto options = direct();
  options.max_redirects = 3;
  auto loop = tls::http_fetch(get(server->url() + "/loop.crl"), options);
  CHECK_FALSE(loop.ok());
  CHECK(testing::mentions(loop.error, "more than 3 redirects"));
  CHECK(loop.redirects == 3);
}

TEST_CASE("the http_proxy environment variable sends the request through the proxy") {
  auto origin = serve({{"/crl/a.crl", [](const tls::HttpServerRequest&) {
                          return answer(200, "application/pkix-crl", "ORIGIN");
                        }}});
  // A tiny forward proxy: takes the absolute-form target and fetches it directly.
  std::vector<std::string> seen_targets;
  tls::HttpServerOptions proxy_options;
  proxy_options.fallback = [&seen_targets](const tls::HttpServerRequest& request) {
    seen_targets.push_back(request.target);
    auto upstream = tls::http_fetch(get(request.target), direct());
    return answer(upstream.status ? upstream.status : 502u, upstream.content_type,
                  "via proxy: " + upstream.body);
  };
  auto proxy = serve({}, proxy_options);
  const std::string url = origin->url() + "/crl/a.crl";

  setenv("http_proxy", proxy->url().c_str(), 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  auto proxied = tls::http_fetch(get(url));
  CHECK(proxied.ok());
  CHECK(proxied.body == "via proxy: ORIGIN");
  CHECK(proxied.proxy == proxy->url());

  setenv("no_proxy", "localhost,127.0.0.1", 1);
  auto bypassed = tls::http_fetch(get(url));
  CHECK(bypassed.body == "ORIGIN");
  CHECK(bypassed.proxy.empty());
  unsetenv("http_proxy");
  unsetenv("no_proxy");

  proxy->stop();
  REQUIRE(seen_targets.size() == 1);
  CHECK(seen_targets[0] == url);
}

TEST_CASE("no_proxy matches hosts and domain suffixes") {
  tls::HttpClientOptions options;  // proxy from the environment
  setenv("http_proxy", "http://proxy.example:3128", 1);
  setenv("no_proxy", ".corp.example, localhost", 1);
  CHECK(tls::proxy_for("http://crl.corp.example/a.crl", options).empty());
  CHECK(tls::proxy_for("http://localhost:8080/a.crl", options).empty());
  CHECK(tls::proxy_for("http://crl.other.example/a.crl", options) == "http://proxy.example:3128");
  unsetenv("http_proxy");
  unsetenv("no_proxy");
  CHECK(tls::proxy_for("http://crl.other.example/a.crl", options).empty());
}
