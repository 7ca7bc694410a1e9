#include "tls/detail/connection_impl.hpp"

namespace tls {

EstablishedConnection::Impl::Impl(tcp::socket socket,
                                  std::shared_ptr<asio::ssl::context> ssl_context_in,
                                  std::shared_ptr<asio::io_context> own_context_in)
    : own_context(std::move(own_context_in)),
      ssl_context(std::move(ssl_context_in)),
      stream(std::move(socket), *ssl_context),
      timer(stream.get_executor()) {
  detail::attach_capture(stream.native_handle(), &capture);
}

void EstablishedConnection::Impl::run_own_context() {
  if (!own_context) throw std::logic_error("blocking call on a server-side connection");
  own_context->restart();
  own_context->run();
}

void EstablishedConnection::Impl::async_read_some(std::chrono::milliseconds timeout,
                                                  EstablishedConnection::ReadHandler handler) {
  if (!pending.empty()) {
    std::string data = std::move(pending);
    pending.clear();
    asio::post(stream.get_executor(),
               [handler = std::move(handler), data = std::move(data)] { handler(data); });
    return;
  }
  if (closed) {
    asio::post(stream.get_executor(),
               [handler = std::move(handler)] { handler(Error{"the connection is closed"}); });
    return;
  }
  auto buffer = std::make_shared<std::string>(16 * 1024, '\0');
  with_deadline(
      timeout,
      [this, buffer](auto done) { stream.async_read_some(asio::buffer(*buffer), std::move(done)); },
      [this, buffer, handler = std::move(handler), timeout](boost::system::error_code ec,
                                                            std::size_t bytes, bool timed_out) {
        if (!ec) return handler(buffer->substr(0, bytes));
        if (auto alert = detail::late_fatal_alert(capture.record)) {
          HandshakeRecord& record = capture.record;
          record.peer_rejected_us = true;
          record.peer_rejected_us_after_handshake = true;
          record.rejection_alert = alert;
          record.error = HandshakeError::peer_rejected_us;
          record.error_message = "the peer rejected us after the handshake with " + alert->name;
          return handler(Error{record.error_message});
        }
        if (timed_out)
          return handler(
              Error{"nothing received within " + std::to_string(timeout.count()) + " ms"});
        handler(Error{"read failed: " + ec.message()});
      });
}

void EstablishedConnection::Impl::async_write(std::string data, std::chrono::milliseconds timeout,
                                              EstablishedConnection::WriteHandler handler) {
  auto buffer = std::make_shared<std::string>(std::move(data));
  with_deadline(
      timeout,
      [this, buffer](auto done) {
        asio::async_write(stream, asio::buffer(*buffer), std::move(done));
      },
      [buffer, handler = std::move(handler), timeout](boost::system::error_code ec, std::size_t,
                                                      bool timed_out) {
        if (!ec) return handler(Done{});
        if (timed_out)
          return handler(
              Error{"could not write within " + std::to_string(timeout.count()) + " ms"});
        handler(Error{"write failed: " + ec.message()});
      });
}

void EstablishedConnection::Impl::close() {
  if (closed) return;
  closed = true;
  auto self = shared_from_this();
  // close_notify, bounded: a peer that never answers it must not hold us.
  with_deadline(
      std::chrono::milliseconds(1000),
      [this](auto done) {
        stream.async_shutdown(
            [done = std::move(done)](boost::system::error_code ec) mutable { done(ec, 0); });
      },
      [self](boost::system::error_code, std::size_t, bool) {
        boost::system::error_code ignored;
        self->stream.lowest_layer().close(ignored);
      });
  if (own_context) run_own_context();
}

EstablishedConnection::EstablishedConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

EstablishedConnection::~EstablishedConnection() {
  if (impl_) impl_->close();
}

void EstablishedConnection::async_read_some(std::chrono::milliseconds timeout,
                                            ReadHandler handler) {
  impl_->async_read_some(timeout, std::move(handler));
}

void EstablishedConnection::async_write(std::string data, std::chrono::milliseconds timeout,
                                        WriteHandler handler) {
  impl_->async_write(std::move(data), timeout, std::move(handler));
}

Result<std::string> EstablishedConnection::read_some(std::chrono::milliseconds timeout) {
  std::optional<Result<std::string>> result;
  impl_->async_read_some(timeout, [&](Result<std::string> r) { result = std::move(r); });
  impl_->run_own_context();
  return result ? std::move(*result) : Result<std::string>(Error{"read did not complete"});
}

Status EstablishedConnection::write(const std::string& data, std::chrono::milliseconds timeout) {
  std::optional<Status> result;
  impl_->async_write(data, timeout, [&](Status s) { result = std::move(s); });
  impl_->run_own_context();
  return result ? std::move(*result) : Status(Error{"write did not complete"});
}

void EstablishedConnection::close() { impl_->close(); }

HandshakeRecord EstablishedConnection::record() const { return impl_->capture.record; }

}  // namespace tls
