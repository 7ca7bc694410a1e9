#pragma once
// Header-only so tests/CMakeLists.txt needs no change.
// Misbehaving peers for HTTP tests, on 127.0.0.1 with a kernel-chosen port:
// one that never answers, one that streams an endless body, and a client
// that sends a prefix and then an endless repetition of some bytes.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Listens but never accepts: the kernel completes TCP handshakes and queues
// the request bytes, so a client connects, sends, and then waits forever.
class SilentListener {
 public:
  SilentListener();
  unsigned short port() const;

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// Answers every connection with `header` (a full HTTP response header), then
// writes `chunk` over and over until the client goes away. Counts the bytes
// it managed to send so a test can see the client stopped early.
class StreamingServer {
 public:
  StreamingServer(std::string header, std::string chunk);
  ~StreamingServer();
  unsigned short port() const { return port_; }
  std::size_t bytes_sent() const { return bytes_sent_.load(); }

 private:
  struct Connection;
  void accept_next();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string header_;
  std::string chunk_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> bytes_sent_{0};
  std::thread thread_;
};

namespace detail {
inline tcp::endpoint loopback_any_port() { return {asio::ip::make_address("127.0.0.1"), 0}; }
}  // namespace detail

inline SilentListener::SilentListener() : acceptor_(io_, detail::loopback_any_port()) {}

inline unsigned short SilentListener::port() const { return acceptor_.local_endpoint().port(); }

struct StreamingServer::Connection : std::enable_shared_from_this<Connection> {
  Connection(tcp::socket s, StreamingServer& server) : socket(std::move(s)), owner(server) {}

  void start() {
    // Read (and ignore) whatever the client sends so it never blocks on us.
    socket.async_read_some(asio::buffer(scratch),
                           [self = shared_from_this()](auto ec, std::size_t) {
                             if (!ec) self->drain();
                           });
    asio::async_write(socket, asio::buffer(owner.header_),
                      [self = shared_from_this()](auto ec, std::size_t n) {
                        self->owner.bytes_sent_ += n;
                        if (!ec) self->write_chunk();
                      });
  }
  void drain() {
    socket.async_read_some(asio::buffer(scratch),
                           [self = shared_from_this()](auto ec, std::size_t) {
                             if (!ec) self->drain();
                           });
  }
  void write_chunk() {
    asio::async_write(socket, asio::buffer(owner.chunk_),
                      [self = shared_from_this()](auto ec, std::size_t n) {
                        self->owner.bytes_sent_ += n;
                        if (!ec) self->write_chunk();
                      });
  }

  tcp::socket socket;
  StreamingServer& owner;
  char scratch[4096];
};

inline StreamingServer::StreamingServer(std::string header, std::string chunk)
    : acceptor_(io_, detail::loopback_any_port()),
      header_(std::move(header)),
      chunk_(std::move(chunk)) {
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

inline StreamingServer::~StreamingServer() {
  io_.stop();
  thread_.join();
}

inline void StreamingServer::accept_next() {
  acceptor_.async_accept([this](auto ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<Connection>(std::move(socket), *this)->start();
    accept_next();
  });
}

// What a hostile client saw: the bytes the server answered, how many bytes
// the client sent before the server stopped reading, and whether the server
// closed the connection (rather than the client giving up at `timeout`).
struct RawClientResult {
  std::string answer;
  std::size_t bytes_sent = 0;
  bool server_closed = false;
};

// Connects to 127.0.0.1:`port`, sends `prefix`, then `repeat` over and over
// (at most `max_bytes` in all) while reading whatever the server answers.
inline RawClientResult hostile_client(unsigned short port, std::string prefix, std::string repeat,
                                      std::size_t max_bytes, std::chrono::milliseconds timeout) {
  struct State {
    asio::io_context io;
    tcp::socket socket{io};
    std::string prefix, repeat;
    std::size_t max_bytes = 0;
    RawClientResult result;
    char scratch[4096];

    void write_more(const std::string& bytes) {
      if (result.bytes_sent >= max_bytes || bytes.empty()) return;
      asio::async_write(socket, asio::buffer(bytes), [this](auto ec, std::size_t n) {
        result.bytes_sent += n;
        if (!ec) write_more(repeat);
      });
    }
    void read_more() {
      socket.async_read_some(asio::buffer(scratch), [this](auto ec, std::size_t n) {
        result.answer.append(scratch, n);
        if (ec) {
          result.server_closed = true;
          io.stop();
          return;
        }
        read_more();
      });
    }
  };
  auto state = std::make_unique<State>();
  state->prefix = std::move(prefix);
  state->repeat = std::move(repeat);
  state->max_bytes = max_bytes;
  state->socket.connect({asio::ip::make_address("127.0.0.1"), port});
  state->write_more(state->prefix);
  state->read_more();
  state->io.run_for(timeout);
  return state->result;
}

}  // namespace testing
