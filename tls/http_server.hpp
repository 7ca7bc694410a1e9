#pragma once
// A small HTTP/1.1 server (Boost.Beast) for the lab: CRLs, an OCSP responder,
// and the test peers. Routes map paths to handlers; every connection has a
// deadline and every request a size limit, so a slow or hostile client
// cannot hold it.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tls/result.hpp"

namespace tls {

struct HttpServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: origin-form "/a?b" or absolute-form (to a proxy)
  std::string path;    // target without the query (empty for absolute-form)
  std::string body;
  std::string content_type;
  std::string remote;  // "127.0.0.1:50412"
};

struct HttpServerResponse {
  unsigned status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Location
};

using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

struct HttpRoute {
  std::string path;  // exact, or a prefix when it ends with '/'
  HttpHandler handler;
};

struct HttpServerOptions {
  std::size_t request_body_limit = 64u * 1024u;
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  // per request, read + write
  // Connections held at once. 0: derived from the descriptor limit, which
  // listen() raises to the hard limit. At the cap the oldest is closed.
  std::size_t max_connections = 0;
  // Called for targets no route matches (absolute-form included); 404 when empty.
  HttpHandler fallback;
};

class HttpServer {
 public:
  // Binds and listens on `address`:`port` (port 0: any free port).
  static Result<std::unique_ptr<HttpServer>> listen(const std::string& address, unsigned short port,
                                                    std::vector<HttpRoute> routes,
                                                    HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  unsigned short port() const;
  std::string endpoint() const;  // "127.0.0.1:8080", "[::1]:8080"
  std::string url() const;       // "http://127.0.0.1:8080"

  void start();             // serves on a background thread
  void run_until_signal();  // serves on this thread until SIGINT or SIGTERM
  void stop();              // safe from any thread; joins the background thread

  struct State;

 private:
  explicit HttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace tls
