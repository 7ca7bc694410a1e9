#pragma once
// A small HTTP/1.1 client (Boost.Beast on Boost.Asio) for revocation data:
// CRL downloads (GET) and OCSP requests (POST). Every fetch is bounded by one
// deadline that covers DNS, connect, write, read and every redirect, and by a
// response body size limit, so no revocation server can hold the probe.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tls {

struct HttpRequest {
  std::string url;             // only http:// is fetchable
  std::string method = "GET";  // "GET" or "POST"
  std::string body;            // sent with POST
  std::string content_type;    // for POST, e.g. "application/ocsp-request"
  std::string accept;          // optional Accept header
};

struct HttpClientOptions {
  // The whole fetch: DNS, connect, write, read, and all redirects together.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  std::size_t body_limit = 10u * 1024u * 1024u;
  int max_redirects = 3;
  // nullopt: take the proxy from http_proxy / HTTP_PROXY, honouring
  // no_proxy / NO_PROXY. "": never use a proxy. Otherwise "http://host:port".
  std::optional<std::string> proxy;
  // When set and true, a fetch in progress ends within about 50 ms and no
  // new one starts: how a server shutting down abandons its queued work.
  std::shared_ptr<const std::atomic<bool>> cancelled;
};

struct HttpResult {
  unsigned status = 0;  // 0 when no response arrived
  std::string body;
  std::string content_type;
  std::chrono::milliseconds elapsed{0};
  std::string final_url;  // the URL that answered, after redirects
  std::string proxy;      // the proxy used, empty when connected directly
  int redirects = 0;
  // Empty on a 2xx answer; otherwise one line naming the URL and what went
  // wrong (not fetchable, refused, timed out, too large, HTTP 404, ...).
  std::string error;

  bool ok() const { return error.empty(); }
};

// Why `url` cannot be fetched, naming its scheme ("ldap:// URLs are not
// fetchable; only http:// is"), or nullopt when it can.
std::optional<std::string> why_not_fetchable(std::string_view url);

// The server a fetch of `url` talks to: its proxy when it goes through one,
// else "host:port" of the URL; "" when `url` is not a URL. Fetches of two URLs
// with the same server reach the same listener.
std::string server_of(std::string_view url, const HttpClientOptions& options);

// The proxy URL a request for `url` would go through with `options`, or "".
std::string proxy_for(std::string_view url, const HttpClientOptions& options);

// Blocks the calling thread for at most about `options.timeout`.
HttpResult http_fetch(const HttpRequest& request, const HttpClientOptions& options = {});

// "10 MiB", "512 KiB" or "1234 bytes", for messages about limits.
std::string describe_size(std::size_t bytes);

}  // namespace tls
