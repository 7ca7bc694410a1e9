#include <array>
#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <thread>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "tls/alerts.hpp"
#include "tls/descriptors.hpp"
#include "tls/detail/client_setup.hpp"
#include "tls/detail/connection_impl.hpp"

namespace tls {
namespace {

using Steady = std::chrono::steady_clock;

using detail::endpoint_text;

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(
          &chosen, out_length, reinterpret_cast<const unsigned char*>(ours->data()),
          static_cast<unsigned>(ours->size()), offered, offered_length) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// How long, and how much, a rejected client may still send before we close.
constexpr std::chrono::milliseconds kDrainTime{2000};
constexpr std::size_t kDrainBytes = 256 * 1024;

// Reads and discards what the client still sends after our fatal alert, until
// it closes, the deadline passes or kDrainBytes were read; then closes.
void drain_then_close(const std::shared_ptr<EstablishedConnection::Impl>& connection,
                      Steady::time_point deadline, std::size_t drained) {
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
  auto buffer = std::make_shared<std::array<char, 4096>>();
  auto close = [connection] {
    boost::system::error_code ignored;
    connection->stream.lowest_layer().close(ignored);
  };
  if (remaining.count() <= 0 || drained >= kDrainBytes ||
      !connection->stream.lowest_layer().is_open())
    return close();
  connection->with_deadline(
      remaining,
      [connection, buffer](auto done) {
        connection->stream.next_layer().async_read_some(asio::buffer(*buffer), std::move(done));
      },
      [connection, buffer, deadline, drained, close](boost::system::error_code ec,
                                                     std::size_t bytes, bool timed_out) {
        if (ec || timed_out) return close();
        drain_then_close(connection, deadline, drained + bytes);
      });
}

}  // namespace

// Threads: one io_context run by ServerOptions::threads threads, each
// connection on its own strand. Not an io_context per thread: a handshake
// thread may block (bounded) in the client revocation check, and with one
// shared context the other threads go on serving every other connection,
// where a context per thread would stall all the connections the acceptor
// had handed to the blocked one. Handshakes are CPU-bound, so the shared
// reactor is not what limits the rate.
class HandshakeServer::Impl : public std::enable_shared_from_this<HandshakeServer::Impl> {
 public:
  Impl(ServerOptions options_in, Callback callback_in)
      : options(std::move(options_in)), callback(std::move(callback_in)), acceptor(io) {}

  Status listen();
  void accept_next();
  void accept_next_locked();
  void retry_accept_later_locked();
  bool make_room_locked();
  void start_session(tcp::socket socket);
  void finish_session(const std::shared_ptr<EstablishedConnection::Impl>& connection,
                      Steady::time_point started, boost::system::error_code ec, bool timed_out);
  void stop_now();

  ServerOptions options;
  Callback callback;
  asio::io_context io;
  std::shared_ptr<asio::ssl::context> ssl_context;
  HandshakeRecord record_template;
  std::shared_ptr<const detail::PreparedTrust> trust;  // made at listen, shared by every session
  std::string alpn_wire;
  std::optional<int> reject_with_verify_error;
  std::atomic<std::size_t> recorded{0};
  std::atomic<std::size_t> evicted{0};
  std::mutex staple_mutex;
  std::shared_ptr<const std::vector<std::uint8_t>> ocsp_staple;

  // What the sessions share, whichever thread runs them: the acceptor, the
  // counts for max_handshakes and the connection lists. Never held while a
  // handshake runs or the callback is called.
  std::mutex state;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry{io};
  // For max_handshakes: sessions under way, and finished ones that count.
  std::size_t in_flight = 0;
  std::size_t counted = 0;
  bool accept_pending = false;
  bool stopping = false;
  std::list<std::weak_ptr<EstablishedConnection::Impl>> live;
  // Connections still in their handshake, oldest first: the ones closed to
  // make room when the connection cap is reached.
  std::list<std::weak_ptr<EstablishedConnection::Impl>> handshaking;
  std::size_t max_connections = 0;
};

Status HandshakeServer::Impl::listen() {
  record_template.role = HandshakeRole::server;
  if (!options.credentials) return Error{"a server needs a certificate and its private key"};
  if (!options.reject_with.empty()) {
    std::optional<int> code = alert_code(options.reject_with);
    if (code) reject_with_verify_error = verify_error_for_alert(*code);
    if (!reject_with_verify_error) {
      std::string names;
      for (const std::string& name : rejectable_alert_names())
        names += (names.empty() ? "" : ", ") + name;
      return Error{"cannot reject with \"" + options.reject_with + "\": use one of " + names};
    }
  }
  trust = std::make_shared<const detail::PreparedTrust>(options.trust);
  if (!options.ocsp_staple.empty())
    ocsp_staple = std::make_shared<const std::vector<std::uint8_t>>(options.ocsp_staple);
  ssl_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = ssl_context->native_handle();
  Status configured =
      detail::configure_context(ctx, HandshakeRole::server, options.min_version,
                                options.max_version, options.credentials, record_template);
  if (!configured) return configured;

  // The acceptable client-CA names go into every CertificateRequest (TLS 1.2)
  // and its certificate_authorities extension (TLS 1.3).
  const std::vector<Certificate>* named = nullptr;
  if (options.ca_list == CaListMode::roots) named = &options.trust.roots;
  if (options.ca_list == CaListMode::certificates) named = &options.ca_list_certificates;
  X509NameStackPtr names(sk_X509_NAME_new_null());
  std::vector<CaName> sent;
  if (named) {
    for (const Certificate& certificate : *named) {
      X509_NAME* name = X509_NAME_dup(X509_get_subject_name(certificate.native()));
      if (name) sk_X509_NAME_push(names.get(), name);
      CaName entry;
      entry.subject = certificate.subject();
      entry.der = certificate.subject_der();
      sent.push_back(std::move(entry));
    }
  }
  // RFC 8446 4.2.4 / RFC 5246 7.4.4: the list is at most 2^16-1 bytes, each
  // name with a 2-byte length. Over that OpenSSL fails every handshake with
  // internal_error; say so once, at start.
  std::size_t list_bytes = 0;
  for (const CaName& entry : sent) list_bytes += 2 + entry.der.size();
  if (list_bytes > 65535)
    return Error{"the acceptable client-CA list would be " + std::to_string(list_bytes) +
                 " bytes (" + std::to_string(sent.size()) +
                 " names), over TLS's limit of 65535 bytes: send fewer names, or none"};
  SSL_CTX_set_client_CA_list(ctx, names.release());
  record_template.acceptable_ca_names_sent =
      std::make_shared<const std::vector<CaName>>(std::move(sent));

  if (!options.alpn.empty()) {
    for (const std::string& protocol : options.alpn) {
      if (protocol.empty() || protocol.size() > 255) continue;
      alpn_wire += static_cast<char>(protocol.size());
      alpn_wire += protocol;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &alpn_wire);
  }

  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.address, ec);
  std::string where = options.address + ":" + std::to_string(options.port);
  if (ec)
    return Error{"cannot listen on " + where + ": \"" + options.address +
                 "\" is not an IP address"};
  tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};
  max_connections = options.max_connections != 0 ? options.max_connections
                                                 : connection_cap(raise_descriptor_limit());
  accept_next();
  return Done{};
}

void HandshakeServer::Impl::accept_next() {
  std::lock_guard lock(state);
  accept_next_locked();
}

// With a limit, no more is accepted while the sessions under way could reach
// it; the listening socket stays open (new connections wait in the backlog)
// until the limit is reached by handshakes that count, since a port check
// that finishes does not. `state` is held, so however many threads finish
// handshakes at once, the limit is never passed.
void HandshakeServer::Impl::accept_next_locked() {
  if (stopping || accept_pending || !acceptor.is_open()) return;
  if (options.max_handshakes != 0) {
    if (counted >= options.max_handshakes) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      return;
    }
    if (counted + in_flight >= options.max_handshakes) return;
  }
  accept_pending = true;
  acceptor.async_accept(
      asio::any_io_executor(asio::make_strand(io)),
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        {
          std::lock_guard lock(self->state);
          self->accept_pending = false;
          if (self->stopping || ec == asio::error::operation_aborted) return;
          if (is_resource_shortage(ec)) {
            // Free a descriptor for the next client and wait before trying
            // again: an immediate retry fails the same way at 100% of a core.
            self->make_room_locked();
            return self->retry_accept_later_locked();
          }
        }
        if (!ec) self->start_session(std::move(socket));
        self->accept_next();
      });
}

void HandshakeServer::Impl::retry_accept_later_locked() {
  accept_retry.expires_after(std::chrono::milliseconds(100));
  accept_retry.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->accept_next();
  });
}

// At the cap, the oldest connection still in its handshake is closed: an
// idle client holding a slot should not lock out the one arriving now.
// Established connections (a SIP session under way) are left alone. The
// close runs on the connection's strand, where its handshake runs.
bool HandshakeServer::Impl::make_room_locked() {
  handshaking.remove_if([](const auto& weak) { return weak.expired(); });
  while (!handshaking.empty()) {
    auto oldest = handshaking.front().lock();
    handshaking.pop_front();
    if (!oldest) continue;
    asio::post(oldest->stream.get_executor(), [oldest] {
      if (oldest->closed) return;
      oldest->evicted = true;
      boost::system::error_code ignored;
      oldest->timer.cancel();
      oldest->stream.lowest_layer().close(ignored);
    });
    return true;
  }
  return false;
}

void HandshakeServer::Impl::start_session(tcp::socket socket) {
  // Read before the connection is listed: from then on stop_now() may close
  // it on its strand.
  boost::system::error_code ignored;
  const std::string peer_address = endpoint_text(socket.remote_endpoint(ignored));
  const std::string local_address = endpoint_text(socket.local_endpoint(ignored));
  std::shared_ptr<EstablishedConnection::Impl> connection;
  {
    std::lock_guard lock(state);
    live.remove_if([](const auto& weak) { return weak.expired(); });
    if (live.size() >= max_connections && !make_room_locked()) {
      // Every slot holds an established session: the newcomer waits for none.
      socket.close(ignored);
      ++evicted;
      return;
    }
    ++in_flight;
    connection =
        std::make_shared<EstablishedConnection::Impl>(std::move(socket), ssl_context, nullptr);
    live.push_back(connection);
    handshaking.push_back(connection);
  }
  detail::Capture& capture = connection->capture;
  capture.record = record_template;
  capture.trust = trust;
  capture.purpose = Purpose::client_auth;
  capture.reject_untrusted = true;  // a server requires and rejects, never only logs
  capture.reject_with_verify_error = reject_with_verify_error;
  capture.reject_with_name = options.reject_with;
  if (options.client_revocation_check)
    capture.client_revocation_check = &options.client_revocation_check;
  capture.handshake_timeout = options.handshake_timeout;
  {
    std::lock_guard lock(staple_mutex);
    capture.ocsp_staple = ocsp_staple;
  }
  capture.record.tcp_connected = true;
  capture.record.peer_address = peer_address;
  capture.record.local_address = local_address;

  auto started = Steady::now();
  auto self = shared_from_this();
  // From here on the connection is touched only on its strand.
  asio::post(connection->stream.get_executor(), [self, connection, started] {
    connection->with_deadline(
        self->options.handshake_timeout,
        [connection](auto done) {
          connection->stream.async_handshake(
              asio::ssl::stream_base::server,
              [done = std::move(done)](boost::system::error_code ec) mutable { done(ec, 0); });
        },
        [self, connection, started](boost::system::error_code ec, std::size_t, bool timed_out) {
          self->finish_session(connection, started, ec, timed_out);
        });
  });
}

void HandshakeServer::Impl::finish_session(
    const std::shared_ptr<EstablishedConnection::Impl>& connection, Steady::time_point started,
    boost::system::error_code ec, bool timed_out) {
  {
    std::lock_guard lock(state);
    if (stopping) return;
    handshaking.remove_if([&connection](const auto& weak) {
      auto held = weak.lock();
      return !held || held == connection;
    });
    if (connection->evicted) {
      // Closed by make_room_locked(), not by the peer: nothing to diagnose.
      --in_flight;
      ++evicted;
      connection->closed = true;
      return accept_next_locked();
    }
  }
  detail::Capture& capture = connection->capture;
  HandshakeRecord& record = capture.record;
  record.handshake_ms = std::chrono::duration<double, std::milli>(Steady::now() - started).count();
  SSL* ssl = connection->stream.native_handle();
  bool completed = !ec && !timed_out;
  detail::read_connection_facts(ssl, capture, completed);
  std::shared_ptr<EstablishedConnection> established;
  if (completed) {
    established = std::make_shared<EstablishedConnection>(connection);
  } else {
    detail::classify_handshake_failure(ssl, capture, ec, timed_out);
    connection->closed = true;
    // Our fatal alert is written, but the client's last flight (in TLS 1.2
    // everything after its Certificate, in 1.3 its CertificateVerify and
    // Finished) is still unread: closing now makes the kernel send a RST,
    // and a client that reads only after writing (Java's JSSE) reports
    // "Broken pipe" or "Connection reset" instead of our alert. Half-close,
    // drain, then close, as openssl s_server does in effect.
    // A client that went silent gets no more time.
    boost::system::error_code ignored;
    connection->stream.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    drain_then_close(connection, timed_out ? Steady::now() : Steady::now() + kDrainTime, 0);
  }
  const bool port_check = record.error == HandshakeError::peer_closed && record.peer_sent_nothing;
  {
    std::lock_guard lock(state);
    --in_flight;
    if (!port_check) ++counted;
  }
  ++recorded;
  HandshakeRecord copy = record;
  if (callback) callback(copy, std::move(established));
  accept_next();
}

void HandshakeServer::Impl::stop_now() {
  std::lock_guard lock(state);
  stopping = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto& weak : live) {
    if (auto connection = weak.lock()) {
      asio::post(connection->stream.get_executor(), [connection] {
        boost::system::error_code ignored;
        connection->timer.cancel();
        connection->stream.lowest_layer().close(ignored);
      });
    }
  }
  live.clear();
}

HandshakeServer::HandshakeServer(ServerOptions options, Callback callback)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(callback))) {}

HandshakeServer::~HandshakeServer() {
  impl_->io.stop();
  // Break the cycles between pending handlers and the sessions.
  impl_->io.restart();
  impl_->stop_now();
  impl_->io.poll();
}

Status HandshakeServer::listen() { return impl_->listen(); }

std::uint16_t HandshakeServer::port() const {
  std::lock_guard lock(impl_->state);
  boost::system::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HandshakeServer::run() {
  std::vector<std::thread> more;
  for (std::size_t i = 1; i < std::max<std::size_t>(1, impl_->options.threads); ++i)
    more.emplace_back([impl = impl_] { impl->io.run(); });
  impl_->io.run();
  for (auto& thread : more) thread.join();
}

void HandshakeServer::stop() {
  asio::post(impl_->io, [impl = impl_] { impl->stop_now(); });
}

std::size_t HandshakeServer::handshakes_recorded() const { return impl_->recorded.load(); }

std::size_t HandshakeServer::connections_evicted() const { return impl_->evicted.load(); }

void HandshakeServer::set_ocsp_staple(std::vector<std::uint8_t> response_der) {
  auto staple = response_der.empty()
                    ? nullptr
                    : std::make_shared<const std::vector<std::uint8_t>>(std::move(response_der));
  std::lock_guard lock(impl_->staple_mutex);
  impl_->ocsp_staple = std::move(staple);
}

}  // namespace tls
