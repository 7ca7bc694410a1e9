#pragma once
// Inside tls/ only: one TLS connection (socket, SSL stream, capture and a
// deadline timer), shared by the client and the server's sessions.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "tls/detail/handshake_capture.hpp"
#include "tls/handshake.hpp"

namespace tls {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class EstablishedConnection::Impl
    : public std::enable_shared_from_this<EstablishedConnection::Impl> {
 public:
  // `own_context` is set for the client, whose blocking calls run it.
  Impl(tcp::socket socket, std::shared_ptr<asio::ssl::context> ssl_context,
       std::shared_ptr<asio::io_context> own_context);

  // Runs one asynchronous step with a deadline: `start(done)` begins it; a
  // timer that fires first cancels the socket and marks `timed_out`.
  template <class Start, class Done>
  void with_deadline(std::chrono::milliseconds timeout, Start start, Done done) {
    auto self = shared_from_this();
    auto fired = std::make_shared<bool>(false);
    timer.expires_after(timeout);
    timer.async_wait([self, fired](boost::system::error_code ec) {
      if (ec) return;
      *fired = true;
      boost::system::error_code ignored;
      self->stream.lowest_layer().cancel(ignored);
    });
    start([self, fired, done = std::move(done)](boost::system::error_code ec,
                                                std::size_t bytes) mutable {
      self->timer.cancel();
      done(ec, bytes, *fired);
    });
  }

  // Drives the client's own io_context until its queue is empty.
  void run_own_context();

  void async_read_some(std::chrono::milliseconds timeout,
                       EstablishedConnection::ReadHandler handler);
  void async_write(std::string data, std::chrono::milliseconds timeout,
                   EstablishedConnection::WriteHandler handler);
  void close();

  std::shared_ptr<asio::io_context> own_context;  // first: outlives everything below
  std::shared_ptr<asio::ssl::context> ssl_context;
  detail::Capture capture;  // before the stream: its callbacks point here
  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer timer;
  std::string pending;  // application data read while waiting for the verdict
  bool closed = false;
  bool evicted = false;  // closed by the server to make room, not by the peer
};

}  // namespace tls
