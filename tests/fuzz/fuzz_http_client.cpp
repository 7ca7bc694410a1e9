// The HTTP client's response handling: every input is one server's answer,
// sent from a loopback listener to tls::http_fetch, which must return a
// result (never crash, never exceed its limits) within its deadline.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "tls/http_client.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers each connection with the current input, then closes it.
class Responder {
 public:
  Responder() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
    thread_.detach();
  }
  unsigned short port() const { return port_; }
  void set_answer(std::string answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }

 private:
  void serve() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      std::string answer;
      {
        std::lock_guard lock(mutex_);
        answer = answer_;
      }
      char request[4096];
      (void)socket.read_some(asio::buffer(request), ec);
      asio::write(socket, asio::buffer(answer), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::mutex mutex_;
  std::string answer_;
  std::thread thread_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Responder* responder = new Responder();
  responder->set_answer(std::string(reinterpret_cast<const char*>(data), size));
  tls::HttpClientOptions options;
  options.proxy = "";
  options.timeout = std::chrono::milliseconds(500);
  options.body_limit = 64 * 1024;
  options.max_redirects = 1;
  tls::HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(responder->port()) + "/fuzz.crl";
  auto result = tls::http_fetch(request, options);
  if (result.body.size() > options.body_limit) std::abort();
  return 0;
}
