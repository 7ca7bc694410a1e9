#pragma once
// Inside tls/ only: what the blocking client (connect_client) and the
// asynchronous one (load's AsyncClientConnection) must do alike, so a load
// run classifies and records a connection exactly as `connect` does (the
// server shares endpoint_text, so addresses read the same in every record).
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>

#include "tls/detail/connection_impl.hpp"
#include "tls/handshake.hpp"

namespace tls::detail {

double milliseconds_since(std::chrono::steady_clock::time_point start);

// "192.0.2.1:5061", "[2001:db8::1]:5061".
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

void fail(HandshakeRecord& record, HandshakeError error, std::string message);

// A failed TCP connect to record.target, as a typed error and one line.
void classify_connect_failure(HandshakeRecord& record, const boost::system::error_code& ec,
                              bool timed_out, std::chrono::milliseconds timeout);

// The connection before any I/O: the capture's trust and policy and the
// ClientHello's extensions (SNI, status_request, ALPN).
void prepare_client_connection(EstablishedConnection::Impl& connection,
                               const ClientOptions& options);

}  // namespace tls::detail
