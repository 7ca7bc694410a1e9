#include "tls/http_server.hpp"

#include "tls/descriptors.hpp"

#include <csignal>
#include <list>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tls {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
}

struct HttpServer::State {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  // Open connections, oldest first; at `max_connections` the oldest is
  // closed for the newcomer, so idle clients cannot lock everyone out.
  std::list<std::weak_ptr<Session>> sessions;
  std::size_t max_connections = 0;
  std::vector<HttpRoute> routes;
  HttpServerOptions options;

  HttpServerResponse dispatch(const HttpServerRequest& request) const {
    const HttpRoute* best = nullptr;
    for (const auto& route : routes) {
      bool exact = route.path == request.path;
      bool prefix = route.path.ends_with('/') && request.path.starts_with(route.path);
      if ((exact || prefix) && (!best || route.path.size() > best->path.size())) best = &route;
    }
    if (best) return best->handler(request);
    if (options.fallback) return options.fallback(request);
    return HttpServerResponse{404, "text/plain", "not found\n", {}};
  }
};

namespace {

// Beast bounds the header (431 when over) but not a chunk-size line, its
// extensions or a trailer; the read buffer's cap bounds those too. A body
// is moved out of the buffer as it arrives and has its own limit.
constexpr std::size_t kHeaderLimit = 16u * 1024u;
constexpr std::size_t kReadBufferLimit = 64u * 1024u;

std::string describe_endpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

// One connection: read a request, answer it, repeat while the client keeps
// the connection alive. Each step is bounded by the stream's expiry.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer::State& state)
      : stream_(std::move(socket)), state_(state), buffer_(kReadBufferLimit) {}

  void start() { read_request(); }
  void evict() { close(); }

 private:
  void read_request() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(state_.options.request_body_limit);
    // One deadline for the whole request: reading it, answering it and
    // writing the answer. It is not renewed between the steps, so a client
    // trickling bytes cannot hold the connection longer than `timeout`.
    stream_.expires_after(state_.options.timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply_and_close(413, "request too large\n");
    if (ec == http::error::header_limit)
      return reply_and_close(431, "request header fields too large\n");
    if (ec == http::error::buffer_overflow)
      return reply_and_close(400, "chunk-size line or trailer too long\n");
    // A request that is not HTTP gets a 400 so the client learns why; a
    // timeout, a closed connection or a shutdown gets nothing.
    if (ec && ec.category() == beast::error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return reply_and_close(400, "bad request\n");
    if (ec) return close();
    auto& message = parser_->get();
    HttpServerRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    if (request.target.starts_with('/'))
      request.path = request.target.substr(0, request.target.find('?'));
    request.body = std::move(message.body());
    request.content_type = std::string(message[http::field::content_type]);
    beast::error_code remote_ec;
    auto remote = stream_.socket().remote_endpoint(remote_ec);
    if (!remote_ec) request.remote = describe_endpoint(remote);
    keep_alive_ = message.keep_alive();

    HttpServerResponse answer;
    try {
      answer = state_.dispatch(request);
    } catch (const std::exception& e) {
      answer = HttpServerResponse{500, "text/plain", "internal error\n", {}};
    }
    send(std::move(answer));
  }

  void reply_and_close(unsigned status, std::string body) {
    keep_alive_ = false;
    send(HttpServerResponse{status, "text/plain", std::move(body), {}});
  }

  void send(HttpServerResponse answer) {
    response_ = {};
    response_.version(11);
    response_.result(answer.status);
    response_.set(http::field::server, "mtlsprobe");
    response_.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response_.set(name, value);
    response_.body() = std::move(answer.body);
    response_.keep_alive(keep_alive_);
    response_.prepare_payload();
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (ec || !keep_alive_) return close();
    read_request();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const HttpServer::State& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
};

void accept_next(HttpServer::State& state) {
  state.acceptor.async_accept([&state](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !state.acceptor.is_open()) return;
    if (is_resource_shortage(ec)) {
      // Out of descriptors: an immediate retry fails the same way at 100%
      // of a core. Close the oldest connection and wait a little.
      if (!state.sessions.empty()) {
        if (auto oldest = state.sessions.front().lock()) oldest->evict();
        state.sessions.pop_front();
      }
      state.accept_retry.expires_after(std::chrono::milliseconds(100));
      state.accept_retry.async_wait([&state](beast::error_code wait_ec) {
        if (!wait_ec) accept_next(state);
      });
      return;
    }
    if (!ec) {
      state.sessions.remove_if([](const auto& weak) { return weak.expired(); });
      while (state.sessions.size() >= state.max_connections) {
        if (auto oldest = state.sessions.front().lock()) oldest->evict();
        state.sessions.pop_front();
      }
      auto session = std::make_shared<Session>(std::move(socket), state);
      state.sessions.push_back(session);
      session->start();
    }
    accept_next(state);
  });
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::listen(const std::string& address,
                                                       unsigned short port,
                                                       std::vector<HttpRoute> routes,
                                                       HttpServerOptions options) {
  auto state = std::make_unique<State>();
  state->routes = std::move(routes);
  state->options = std::move(options);
  beast::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return Error{"'" + address + "' is not an IP address to listen on"};
  tcp::endpoint endpoint(ip, port);
  const std::string where = describe_endpoint(endpoint);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};
  state->max_connections = state->options.max_connections != 0
                               ? state->options.max_connections
                               : connection_cap(raise_descriptor_limit());
  accept_next(*state);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

unsigned short HttpServer::port() const { return state_->acceptor.local_endpoint().port(); }

std::string HttpServer::endpoint() const {
  return describe_endpoint(state_->acceptor.local_endpoint());
}

std::string HttpServer::url() const { return "http://" + endpoint(); }

void HttpServer::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { state_->io.run(); });
}

void HttpServer::run_until_signal() {
  asio::signal_set signals(state_->io, SIGINT, SIGTERM);
  signals.async_wait([this](beast::error_code, int) { state_->io.stop(); });
  state_->io.run();
}

void HttpServer::stop() {
  state_->io.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tls
