#pragma once
// Client handshakes on the caller's io_context, many at once: the mechanism
// of the load generator (`mtlsprobe load`). A ClientContext (the SSL_CTX with
// our credentials, versions and the capture callbacks) is configured once
// and shared by every connection, where connect_client() builds one per
// handshake. Each connection runs connect_client()'s phases as asynchronous
// steps, each with its deadline, and fills the same HandshakeRecord with the
// same failure classification, so a failure means what it means to
// `connect`. Name resolution is the caller's: it dials an endpoint.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

#include "tls/handshake.hpp"
#include "tls/handshake_record.hpp"
#include "tls/result.hpp"

namespace tls {

// Our side of every connection: ClientOptions' versions, credentials, trust,
// SNI and deadlines (host and port are the caller's endpoint). Thread-safe:
// connections on several threads may share one.
class ClientContext {
 public:
  // `resumption`: keep the sessions servers offer (TLS 1.2 ids and tickets,
  // TLS 1.3 tickets) so a later connection can resume one. Errors are one
  // line (credentials OpenSSL refuses, a version range upside down).
  static Result<ClientContext> create(const ClientOptions& options, bool resumption);

  struct Shared;

 private:
  explicit ClientContext(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<const Shared> shared_;
  friend class AsyncClientConnection;
};

// A session a server let us keep, to resume on the next connection; empty
// when none was offered.
class ResumableSession {
 public:
  struct Handle;
  ResumableSession() = default;
  explicit ResumableSession(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}
  bool empty() const { return handle_ == nullptr; }

 private:
  std::shared_ptr<Handle> handle_;
  friend class AsyncClientConnection;
};

// One connection in named phases: async_connect, async_handshake, then
// optionally the application exchange on connection(), then async_close.
// Each handler runs on the io_context's thread with HandshakeError::none
// when the phase worked, else the record's error (its message set). Not
// thread-safe: use it from the thread running its io_context.
class AsyncClientConnection : public std::enable_shared_from_this<AsyncClientConnection> {
 public:
  using Handler = std::function<void(HandshakeError)>;

  AsyncClientConnection(boost::asio::io_context& io, const ClientContext& context);
  ~AsyncClientConnection();
  AsyncClientConnection(const AsyncClientConnection&) = delete;
  AsyncClientConnection& operator=(const AsyncClientConnection&) = delete;

  // TCP within ClientOptions::connect_timeout.
  void async_connect(const boost::asio::ip::tcp::endpoint& endpoint, Handler done);
  // The TLS handshake within ClientOptions::handshake_timeout, offering
  // `resume` when it holds a session.
  void async_handshake(const ResumableSession& resume, Handler done);
  // After a successful handshake: the connection for an application
  // exchange (its async calls), valid until async_close.
  std::shared_ptr<EstablishedConnection> connection();
  // close_notify, then wait for the server's (ClientOptions::verdict_wait at
  // most). A TLS 1.3 server judges our certificate after our handshake ended
  // (RFC 8446 section 4.4.2) and sends a rejection as an alert before it
  // reads our close_notify, so this is where such a verdict arrives; done
  // reports it as peer_rejected_us, like connect_client's verdict wait.
  void async_close(Handler done);

  const HandshakeRecord& record() const;
  bool resumed() const;
  // The session the server offered on this connection (empty: none).
  ResumableSession session() const;

 private:
  class State;
  std::shared_ptr<State> state_;
};

}  // namespace tls
