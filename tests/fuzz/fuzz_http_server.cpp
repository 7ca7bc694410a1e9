// The lab HTTP server's request handling: every input is one client's
// request bytes, sent (then half-closed) to a tls::HttpServer with pki
// serve's kind of routes; the server must answer or close, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tls/http_server.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

tls::HttpServer& server() {
  static tls::HttpServer* running = [] {
    tls::HttpServerOptions options;
    options.timeout = std::chrono::milliseconds(300);
    std::vector<tls::HttpRoute> routes;
    auto echo = [](const tls::HttpServerRequest& request) {
      return tls::HttpServerResponse{200, "text/plain", request.method + " " + request.path, {}};
    };
    routes.push_back({"/crl/", echo});
    routes.push_back({"/ocsp", echo});
    auto made = tls::HttpServer::listen("127.0.0.1", 0, std::move(routes), options);
    if (!made) std::abort();
    (*made)->start();
    return (*made).release();
  }();
  return *running;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& lab = server();
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), lab.port()}, ec);
  if (ec) return 0;
  asio::write(socket, asio::buffer(data, size), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  std::string answer;
  char buffer[4096];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    answer.append(buffer, n);
    if (ec || answer.size() > 1024 * 1024) break;
  }
  return 0;
}
