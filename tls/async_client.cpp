#include "tls/async_client.hpp"

#include <chrono>

#include "tls/detail/client_setup.hpp"
#include "tls/detail/connection_impl.hpp"

namespace tls {

struct ClientContext::Shared {
  std::shared_ptr<asio::ssl::context> context;
  ClientOptions options;
  // What configure_context learnt (versions allowed, own chain below the
  // security level), copied into every connection's record.
  HandshakeRecord template_record;
};

struct ResumableSession::Handle {
  explicit Handle(SSL_SESSION* owned) : session(owned) {}
  ~Handle() { SSL_SESSION_free(session); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  SSL_SESSION* session;
};

class AsyncClientConnection::State {
 public:
  std::shared_ptr<const ClientContext::Shared> shared;
  std::shared_ptr<EstablishedConnection::Impl> impl;
  std::shared_ptr<EstablishedConnection> established;
  ResumableSession offered;
  bool resumed = false;
};

namespace {

using detail::classify_connect_failure;
using detail::endpoint_text;
using detail::fail;
using detail::milliseconds_since;
using Steady = std::chrono::steady_clock;

// Where the session callback puts what the server offered: the connection's slot.
int session_slot_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL hands over a reference to each session the server offers: a TLS
// 1.2 session at the end of the handshake, TLS 1.3 tickets after it.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<ResumableSession*>(SSL_get_ex_data(ssl, session_slot_index()));
  if (!slot) return 0;
  *slot = ResumableSession(std::make_shared<ResumableSession::Handle>(session));
  return 1;
}

}  // namespace

Result<ClientContext> ClientContext::create(const ClientOptions& options, bool resumption) {
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = shared->context->native_handle();
  shared->template_record.role = HandshakeRole::client;
  Status configured =
      detail::configure_context(ctx, HandshakeRole::client, options.min_version,
                                options.max_version, options.credentials, shared->template_record);
  if (!configured) return configured.error();
  if (resumption) {
    // connect_client never resumes (each handshake must show everything);
    // a load run may ask to measure the abbreviated handshake.
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  }
  return ClientContext(std::move(shared));
}

AsyncClientConnection::AsyncClientConnection(asio::io_context& io, const ClientContext& context)
    : state_(std::make_shared<State>()) {
  state_->shared = context.shared_;
  const ClientOptions& options = state_->shared->options;
  state_->impl = std::make_shared<EstablishedConnection::Impl>(
      tcp::socket(io), state_->shared->context, std::shared_ptr<asio::io_context>());
  state_->impl->capture.record = state_->shared->template_record;
  detail::prepare_client_connection(*state_->impl, options);
  SSL_set_ex_data(state_->impl->stream.native_handle(), session_slot_index(), &state_->offered);
}

AsyncClientConnection::~AsyncClientConnection() {
  SSL_set_ex_data(state_->impl->stream.native_handle(), session_slot_index(), nullptr);
  // Nothing is left to say to the peer: a connection dropped before
  // async_close (a failed phase) is closed without close_notify.
  state_->impl->closed = true;
  boost::system::error_code ignored;
  state_->impl->stream.lowest_layer().close(ignored);
}

void AsyncClientConnection::async_connect(const tcp::endpoint& endpoint, Handler done) {
  auto self = shared_from_this();
  EstablishedConnection::Impl& impl = *state_->impl;
  impl.capture.record.target = endpoint_text(endpoint);
  const auto timeout = state_->shared->options.connect_timeout;
  const auto started = Steady::now();
  impl.with_deadline(
      timeout,
      [&impl, endpoint](auto step_done) {
        impl.stream.lowest_layer().async_connect(
            endpoint, [step_done = std::move(step_done)](boost::system::error_code ec) mutable {
              step_done(ec, 0);
            });
      },
      [self, started, timeout, done = std::move(done)](boost::system::error_code ec, std::size_t,
                                                       bool timed_out) {
        HandshakeRecord& record = self->state_->impl->capture.record;
        record.tcp_connect_ms = milliseconds_since(started);
        if (ec || timed_out) {
          classify_connect_failure(record, ec, timed_out, timeout);
          return done(record.error);
        }
        record.tcp_connected = true;
        boost::system::error_code ignored;
        auto& socket = self->state_->impl->stream.lowest_layer();
        record.peer_address = endpoint_text(socket.remote_endpoint(ignored));
        record.local_address = endpoint_text(socket.local_endpoint(ignored));
        socket.set_option(tcp::no_delay(true), ignored);
        done(HandshakeError::none);
      });
}

void AsyncClientConnection::async_handshake(const ResumableSession& resume, Handler done) {
  auto self = shared_from_this();
  EstablishedConnection::Impl& impl = *state_->impl;
  SSL* ssl = impl.stream.native_handle();
  if (!resume.empty()) SSL_set_session(ssl, resume.handle_->session);
  const auto started = Steady::now();
  impl.with_deadline(
      state_->shared->options.handshake_timeout,
      [&impl](auto step_done) {
        impl.stream.async_handshake(
            asio::ssl::stream_base::client,
            [step_done = std::move(step_done)](boost::system::error_code ec) mutable {
              step_done(ec, 0);
            });
      },
      [self, started, done = std::move(done)](boost::system::error_code ec, std::size_t,
                                              bool timed_out) {
        EstablishedConnection::Impl& impl = *self->state_->impl;
        SSL* ssl = impl.stream.native_handle();
        HandshakeRecord& record = impl.capture.record;
        record.handshake_ms = milliseconds_since(started);
        const bool completed = !ec && !timed_out;
        detail::read_connection_facts(ssl, impl.capture, completed);
        if (!completed) {
          detail::classify_handshake_failure(ssl, impl.capture, ec, timed_out);
          return done(record.error);
        }
        self->state_->resumed = SSL_session_reused(ssl) == 1;
        done(HandshakeError::none);
      });
}

std::shared_ptr<EstablishedConnection> AsyncClientConnection::connection() {
  if (!state_->established)
    state_->established = std::make_shared<EstablishedConnection>(state_->impl);
  return state_->established;
}

void AsyncClientConnection::async_close(Handler done) {
  auto self = shared_from_this();
  EstablishedConnection::Impl& impl = *state_->impl;
  if (impl.closed) {
    asio::post(impl.stream.get_executor(),
               [self, done = std::move(done)] { done(self->record().error); });
    return;
  }
  impl.closed = true;
  impl.with_deadline(
      state_->shared->options.verdict_wait,
      [&impl](auto step_done) {
        impl.stream.async_shutdown([step_done = std::move(step_done)](
                                       boost::system::error_code ec) mutable { step_done(ec, 0); });
      },
      [self, done = std::move(done)](boost::system::error_code, std::size_t, bool) {
        EstablishedConnection::Impl& impl = *self->state_->impl;
        HandshakeRecord& record = impl.capture.record;
        boost::system::error_code ignored;
        impl.stream.lowest_layer().close(ignored);
        if (record.error == HandshakeError::none) {
          if (auto alert = detail::late_fatal_alert(record)) {
            record.peer_rejected_us = true;
            record.peer_rejected_us_after_handshake = true;
            record.rejection_alert = alert;
            fail(record, HandshakeError::peer_rejected_us,
                 "the peer rejected us after the handshake with " + alert->name);
          } else if (!self->state_->resumed &&
                     (!record.peer_verification || !record.peer_verification->trusted)) {
            // A resumed session skips verification: it was verified when
            // the session was made.
            // connect_client's note_untrusted_server: the handshake went on
            // so the server's verdict on us was seen, but it failed.
            fail(record, HandshakeError::we_rejected_peer,
                 "the handshake completed, but we do not trust the server: " +
                     (record.peer_verification ? record.peer_verification->error
                                               : std::string("it sent no certificate")));
          }
        }
        done(record.error);
      });
}

const HandshakeRecord& AsyncClientConnection::record() const {
  return state_->impl->capture.record;
}

bool AsyncClientConnection::resumed() const { return state_->resumed; }

ResumableSession AsyncClientConnection::session() const { return state_->offered; }

}  // namespace tls
