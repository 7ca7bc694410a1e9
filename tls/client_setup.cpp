#include "tls/detail/client_setup.hpp"

#include <boost/asio/error.hpp>
#include <vector>

namespace tls::detail {
namespace {

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

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint) {
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
  namespace error = boost::asio::error;
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

void prepare_client_connection(EstablishedConnection::Impl& connection,
                               const ClientOptions& options) {
  Capture& capture = connection.capture;
  capture.trust = std::make_shared<const PreparedTrust>(options.trust);
  capture.purpose = Purpose::server_auth;
  capture.reject_untrusted = options.abort_on_untrusted_peer;
  capture.handshake_timeout = options.handshake_timeout;
  SSL* ssl = connection.stream.native_handle();
  if (!options.sni.empty()) {
    SSL_set_tlsext_host_name(ssl, options.sni.c_str());
    capture.record.sni_sent = options.sni;
  }
  if (options.request_ocsp_staple) {
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    capture.record.ocsp_staple.requested = true;
  }
  if (!options.alpn.empty()) {
    std::string wire = alpn_wire_format(options.alpn);
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
}

}  // namespace tls::detail
