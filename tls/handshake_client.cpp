#include <algorithm>
#include <boost/asio/connect.hpp>
#include <chrono>

#include "tls/detail/client_setup.hpp"
#include "tls/detail/connection_impl.hpp"
#include "tls/dns.hpp"

namespace tls {
namespace {

using detail::classify_connect_failure;
using detail::endpoint_text;
using detail::fail;
using detail::milliseconds_since;
using Steady = std::chrono::steady_clock;

}  // namespace

class PreparedClientContext {
 public:
  std::shared_ptr<asio::ssl::context> ssl;
  TlsVersion min_version = TlsVersion::tls1_2;
  TlsVersion max_version = TlsVersion::tls1_3;
  std::optional<Certificate> leaf;  // the credentials it was made with
  std::vector<Certificate> chain;
  HandshakeRecord facts;  // what configure_context recorded about the context

  bool made_for(const ClientOptions& options) const {
    auto same = [](const Certificate& a, const Certificate& b) { return a.native() == b.native(); };
    if (options.min_version != min_version || options.max_version != max_version) return false;
    if (!options.credentials) return !leaf;
    return leaf && same(*leaf, options.credentials->leaf) &&
           std::equal(chain.begin(), chain.end(), options.credentials->chain.begin(),
                      options.credentials->chain.end(), same);
  }
  void describe_into(HandshakeRecord& record) const {
    record.min_version_allowed = facts.min_version_allowed;
    record.max_version_allowed = facts.max_version_allowed;
    record.security_level_lowered = facts.security_level_lowered;
    record.own_chain_below_security_level = facts.own_chain_below_security_level;
  }
};

Result<std::shared_ptr<const PreparedClientContext>> make_client_context(
    TlsVersion min_version, TlsVersion max_version, const std::optional<Credentials>& credentials) {
  auto made = std::make_shared<PreparedClientContext>();
  made->ssl = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  made->min_version = min_version;
  made->max_version = max_version;
  if (credentials) {
    made->leaf = credentials->leaf;
    made->chain = credentials->chain;
  }
  Status configured = detail::configure_context(made->ssl->native_handle(), HandshakeRole::client,
                                                min_version, max_version, credentials, made->facts);
  if (!configured) return configured.error();
  return std::shared_ptr<const PreparedClientContext>(std::move(made));
}

namespace {

Result<std::shared_ptr<asio::ssl::context>> client_context_for(const ClientOptions& options,
                                                               HandshakeRecord& record) {
  if (options.context && options.context->made_for(options)) {
    options.context->describe_into(record);
    return options.context->ssl;
  }
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  Status configured = detail::configure_context(context->native_handle(), HandshakeRole::client,
                                                options.min_version, options.max_version,
                                                options.credentials, record);
  if (!configured) return configured.error();
  return context;
}

// The phases of a client connection. Each fills the record, and on failure
// returns what went wrong with the record's error and message already set;
// HandshakeError::none lets the next phase run.

using Endpoints = std::vector<tcp::endpoint>;
using Deadline = Steady::time_point;

// Resolution and connect share the connect timeout: a name that takes the
// whole timeout to resolve is as unreachable as a port that never answers.
std::chrono::milliseconds time_left(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// Phase 1: the host name (or IP literal) to endpoints, within the connect
// deadline (resolve_host: a DNS server that drops queries cannot hold it).
HandshakeError resolve_phase(asio::io_context& io, const ClientOptions& options, Deadline deadline,
                             HandshakeRecord& record, Endpoints& endpoints) {
  HostEndpoints resolved = resolve_host(io, options.host, options.port, deadline);
  if (resolved.error == DnsError::timeout) {
    classify_connect_failure(record, {}, true, options.connect_timeout);
    return record.error;
  }
  if (resolved.error != DnsError::none || resolved.endpoints.empty()) {
    fail(record, HandshakeError::dns_failure,
         "cannot resolve " + options.host + ": " + resolved.message);
    return record.error;
  }
  endpoints = std::move(resolved.endpoints);
  return HandshakeError::none;
}

// Phase 2: TCP to the first of `endpoints` that answers, within the connect deadline.
HandshakeError connect_phase(EstablishedConnection::Impl& connection, const Endpoints& endpoints,
                             const ClientOptions& options, Deadline deadline,
                             HandshakeRecord& record) {
  asio::io_context& io = *connection.own_context;
  auto& socket = connection.stream.lowest_layer();
  boost::system::error_code connect_error;
  bool timed_out = false;
  asio::steady_timer timer(io, time_left(deadline));
  timer.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  asio::async_connect(socket, endpoints, [&](boost::system::error_code ec, const tcp::endpoint&) {
    connect_error = ec;
    timer.cancel();
  });
  io.restart();
  io.run();
  if (connect_error || timed_out) {
    classify_connect_failure(record, connect_error, timed_out, options.connect_timeout);
    return record.error;
  }
  record.tcp_connected = true;
  boost::system::error_code ignored;
  record.peer_address = endpoint_text(socket.remote_endpoint(ignored));
  record.local_address = endpoint_text(socket.local_endpoint(ignored));
  return HandshakeError::none;
}

// Phase 3: the TLS handshake, within the handshake timeout.
HandshakeError handshake_phase(EstablishedConnection::Impl& connection,
                               const ClientOptions& options) {
  detail::Capture& capture = connection.capture;
  HandshakeRecord& record = capture.record;
  SSL* ssl = connection.stream.native_handle();
  auto started = Steady::now();
  boost::system::error_code handshake_error;
  bool timed_out = false;
  connection.with_deadline(
      options.handshake_timeout,
      [&](auto done) {
        connection.stream.async_handshake(
            asio::ssl::stream_base::client,
            [done = std::move(done)](boost::system::error_code ec) mutable { done(ec, 0); });
      },
      [&](boost::system::error_code ec, std::size_t, bool deadline_fired) {
        handshake_error = ec;
        timed_out = deadline_fired;
      });
  connection.run_own_context();
  record.handshake_ms = milliseconds_since(started);
  bool completed = !handshake_error && !timed_out;
  detail::read_connection_facts(ssl, capture, completed);
  if (completed) return HandshakeError::none;
  detail::classify_handshake_failure(ssl, capture, handshake_error, timed_out);
  return record.error;
}

// Phase 4, TLS 1.3 only (RFC 8446 section 4.4.2): the client's handshake ends
// before the server has judged our certificate, so its verdict comes as an
// alert on the first read. TLS 1.2 servers judge before their Finished.
HandshakeError verdict_wait_phase(EstablishedConnection::Impl& connection,
                                  const ClientOptions& options) {
  HandshakeRecord& record = connection.capture.record;
  if (SSL_version(connection.stream.native_handle()) < TLS1_3_VERSION ||
      options.verdict_wait.count() <= 0)
    return HandshakeError::none;
  record.waited_for_verdict = true;
  auto verdict_started = Steady::now();
  auto buffer = std::make_shared<std::string>(16 * 1024, '\0');
  connection.with_deadline(
      options.verdict_wait,
      [&](auto done) { connection.stream.async_read_some(asio::buffer(*buffer), std::move(done)); },
      [&, buffer](boost::system::error_code ec, std::size_t bytes, bool) {
        if (!ec) connection.pending = buffer->substr(0, bytes);
      });
  connection.run_own_context();
  record.verdict_wait_ms = milliseconds_since(verdict_started);
  auto alert = detail::late_fatal_alert(record);
  if (!alert) return HandshakeError::none;
  record.peer_rejected_us = true;
  record.peer_rejected_us_after_handshake = true;
  record.rejection_alert = alert;
  fail(record, HandshakeError::peer_rejected_us,
       "the peer rejected us after the handshake with " + alert->name);
  return record.error;
}

// After the phases: an untrusted server is recorded, but the connection stays
// open so the caller can still see what the server does with us.
void note_untrusted_server(HandshakeRecord& record) {
  if (record.peer_verification && record.peer_verification->trusted) return;
  std::string reason = record.peer_verification ? record.peer_verification->error
                                                : std::string("it sent no certificate");
  fail(record, HandshakeError::we_rejected_peer,
       "the handshake completed, but we do not trust the server: " + reason);
}

// The connection before any I/O: its context, the capture's trust and the
// ClientHello's extensions (SNI, status_request, ALPN).
Result<std::shared_ptr<EstablishedConnection::Impl>> prepare_connection(
    const ClientOptions& options, HandshakeRecord& record) {
  auto context = client_context_for(options, record);
  if (!context) return context.error();
  auto io = std::make_shared<asio::io_context>();
  auto connection = std::make_shared<EstablishedConnection::Impl>(tcp::socket(*io), *context, io);
  connection->capture.record = record;
  detail::prepare_client_connection(*connection, options);
  return connection;
}

}  // namespace

ClientSession connect_client(const ClientOptions& options) {
  ClientSession session;
  session.record.role = HandshakeRole::client;
  std::string host_text = options.host.find(':') != std::string::npos && options.host[0] != '['
                              ? "[" + options.host + "]"
                              : options.host;
  session.record.target = host_text + ":" + std::to_string(options.port);

  auto prepared = prepare_connection(options, session.record);
  if (!prepared) {
    fail(session.record, HandshakeError::local_error, prepared.error().message);
    return session;
  }
  EstablishedConnection::Impl& connection = **prepared;
  HandshakeRecord& record = connection.capture.record;

  auto connect_started = Steady::now();
  Deadline connect_deadline = connect_started + options.connect_timeout;
  Endpoints endpoints;
  HandshakeError failed =
      resolve_phase(*connection.own_context, options, connect_deadline, record, endpoints);
  if (failed == HandshakeError::none)
    failed = connect_phase(connection, endpoints, options, connect_deadline, record);
  record.tcp_connect_ms = milliseconds_since(connect_started);
  if (failed == HandshakeError::none) failed = handshake_phase(connection, options);
  if (failed == HandshakeError::none) failed = verdict_wait_phase(connection, options);
  if (failed == HandshakeError::none) {
    note_untrusted_server(record);
    session.connection = std::make_shared<EstablishedConnection>(*prepared);
  }
  session.record = record;
  return session;
}

HandshakeRecord run_client_handshake(const ClientOptions& options) {
  ClientSession session = connect_client(options);
  if (session.connection) {
    session.connection->close();
    // Alerts that came with the close belong to the record too.
    HandshakeRecord updated = session.connection->record();
    session.record.alerts = updated.alerts;
  }
  return session.record;
}

}  // namespace tls
