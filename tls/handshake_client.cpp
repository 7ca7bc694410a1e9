#include <boost/asio/connect.hpp>
#include <chrono>

#include "tls/detail/connection_impl.hpp"

namespace tls {
namespace {

using Steady = std::chrono::steady_clock;

double milliseconds_since(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

void fail(HandshakeRecord& record, HandshakeError error, std::string message) {
  record.error = error;
  record.error_message = std::move(message);
}

void classify_connect_failure(HandshakeRecord& record, const boost::system::error_code& ec,
                              bool timed_out, std::chrono::milliseconds timeout) {
  namespace error = asio::error;
  if (timed_out)
    return fail(record, HandshakeError::connect_timeout,
                "no TCP answer from " + record.target + " within " +
                    std::to_string(timeout.count()) + " ms (filtered or down)");
  if (ec == error::connection_refused)
    return fail(record, HandshakeError::connection_refused,
                "connection refused by " + record.target + ": nothing listens on that port");
  if (ec == error::network_unreachable || ec == error::host_unreachable)
    return fail(record, HandshakeError::network_unreachable,
                record.target + " is unreachable: " + ec.message());
  if (ec == error::timed_out)
    return fail(record, HandshakeError::connect_timeout,
                "TCP connect to " + record.target + " timed out");
  fail(record, HandshakeError::tcp_error,
       "TCP connect to " + record.target + " failed: " + ec.message());
}

Result<std::shared_ptr<asio::ssl::context>> make_client_context(const ClientOptions& options,
                                                                HandshakeRecord& record) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  Status configured = detail::configure_context(context->native_handle(), HandshakeRole::client,
                                                options.min_version, options.max_version,
                                                options.credentials, record);
  if (!configured) return configured.error();
  return context;
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) continue;
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  return wire;
}

}  // namespace

ClientSession connect_client(const ClientOptions& options) {
  ClientSession session;
  HandshakeRecord& result = session.record;
  result.role = HandshakeRole::client;
  std::string host_text = options.host.find(':') != std::string::npos && options.host[0] != '['
                              ? "[" + options.host + "]"
                              : options.host;
  result.target = host_text + ":" + std::to_string(options.port);

  auto context = make_client_context(options, result);
  if (!context) {
    fail(result, HandshakeError::local_error, context.error().message);
    return session;
  }
  auto io = std::make_shared<asio::io_context>();
  auto connection = std::make_shared<EstablishedConnection::Impl>(tcp::socket(*io), *context, io);
  detail::Capture& capture = connection->capture;
  capture.record = result;
  capture.trust = options.trust;
  capture.purpose = Purpose::server_auth;
  capture.reject_untrusted = options.abort_on_untrusted_peer;
  capture.handshake_timeout = options.handshake_timeout;
  HandshakeRecord& record = capture.record;
  SSL* ssl = connection->stream.native_handle();
  if (!options.sni.empty()) {
    SSL_set_tlsext_host_name(ssl, options.sni.c_str());
    record.sni_sent = options.sni;
  }
  if (options.request_ocsp_staple) {
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    record.ocsp_staple.requested = true;
  }
  if (!options.alpn.empty()) {
    std::string wire = alpn_wire_format(options.alpn);
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }

  // Resolve and connect under one deadline.
  auto connect_started = Steady::now();
  tcp::resolver resolver(*io);
  boost::system::error_code connect_error;
  bool connect_timed_out = false;
  bool resolved = false;
  asio::steady_timer connect_timer(*io, options.connect_timeout);
  connect_timer.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    connect_timed_out = true;
    resolver.cancel();
    boost::system::error_code ignored;
    connection->stream.lowest_layer().close(ignored);
  });
  resolver.async_resolve(options.host, std::to_string(options.port),
                         [&](boost::system::error_code ec, tcp::resolver::results_type endpoints) {
                           if (ec) {
                             connect_error = ec;
                             connect_timer.cancel();
                             return;
                           }
                           resolved = true;
                           asio::async_connect(
                               connection->stream.lowest_layer(), endpoints,
                               [&](boost::system::error_code ec2, const tcp::endpoint&) {
                                 connect_error = ec2;
                                 connect_timer.cancel();
                               });
                         });
  io->run();
  record.tcp_connect_ms = milliseconds_since(connect_started);
  if (!resolved && !connect_timed_out) {
    fail(record, HandshakeError::dns_failure,
         "cannot resolve " + options.host + ": " + connect_error.message());
    session.record = record;
    return session;
  }
  if (connect_error || connect_timed_out) {
    classify_connect_failure(record, connect_error, connect_timed_out, options.connect_timeout);
    session.record = record;
    return session;
  }
  record.tcp_connected = true;
  boost::system::error_code ignored;
  record.peer_address = endpoint_text(connection->stream.lowest_layer().remote_endpoint(ignored));
  record.local_address = endpoint_text(connection->stream.lowest_layer().local_endpoint(ignored));

  // The handshake.
  auto handshake_started = Steady::now();
  boost::system::error_code handshake_error;
  bool handshake_timed_out = false;
  connection->with_deadline(
      options.handshake_timeout,
      [&](auto done) {
        connection->stream.async_handshake(
            asio::ssl::stream_base::client,
            [done = std::move(done)](boost::system::error_code ec) mutable { done(ec, 0); });
      },
      [&](boost::system::error_code ec, std::size_t, bool timed_out) {
        handshake_error = ec;
        handshake_timed_out = timed_out;
      });
  connection->run_own_context();
  record.handshake_ms = milliseconds_since(handshake_started);
  if (handshake_error || handshake_timed_out) {
    detail::read_connection_facts(ssl, capture, false);
    detail::classify_handshake_failure(ssl, capture, handshake_error, handshake_timed_out);
    session.record = record;
    return session;
  }
  detail::read_connection_facts(ssl, capture, true);

  // TLS 1.3 (RFC 8446 section 4.4.2): the client's handshake ends before the
  // server has judged our certificate, so its verdict comes as an alert on
  // the first read. TLS 1.2 servers judge before their Finished.
  if (SSL_version(ssl) >= TLS1_3_VERSION && options.verdict_wait.count() > 0) {
    record.waited_for_verdict = true;
    auto verdict_started = Steady::now();
    auto buffer = std::make_shared<std::string>(16 * 1024, '\0');
    connection->with_deadline(
        options.verdict_wait,
        [&](auto done) {
          connection->stream.async_read_some(asio::buffer(*buffer), std::move(done));
        },
        [&, buffer](boost::system::error_code ec, std::size_t bytes, bool) {
          if (!ec) connection->pending = buffer->substr(0, bytes);
        });
    connection->run_own_context();
    record.verdict_wait_ms = milliseconds_since(verdict_started);
    if (auto alert = detail::late_fatal_alert(record)) {
      record.peer_rejected_us = true;
      record.peer_rejected_us_after_handshake = true;
      record.rejection_alert = alert;
      fail(record, HandshakeError::peer_rejected_us,
           "the peer rejected us after the handshake with " + alert->name);
      session.record = record;
      return session;
    }
  }
  if (!record.peer_verification || !record.peer_verification->trusted) {
    std::string reason = record.peer_verification ? record.peer_verification->error
                                                  : std::string("it sent no certificate");
    fail(record, HandshakeError::we_rejected_peer,
         "the handshake completed, but we do not trust the server: " + reason);
  }
  session.record = record;
  session.connection = std::make_shared<EstablishedConnection>(connection);
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
