#include "tls/handshake_record.hpp"

namespace tls {

const char* to_string(HandshakeError error) {
  switch (error) {
    case HandshakeError::none:
      return "none";
    case HandshakeError::dns_failure:
      return "dns-failure";
    case HandshakeError::connection_refused:
      return "connection-refused";
    case HandshakeError::network_unreachable:
      return "network-unreachable";
    case HandshakeError::connect_timeout:
      return "connect-timeout";
    case HandshakeError::tcp_error:
      return "tcp-error";
    case HandshakeError::handshake_timeout:
      return "handshake-timeout";
    case HandshakeError::peer_closed:
      return "peer-closed";
    case HandshakeError::not_tls:
      return "not-tls";
    case HandshakeError::no_common_version:
      return "no-common-version";
    case HandshakeError::no_common_cipher:
      return "no-common-cipher";
    case HandshakeError::peer_rejected_us:
      return "peer-rejected-us";
    case HandshakeError::we_rejected_peer:
      return "we-rejected-peer";
    case HandshakeError::no_peer_certificate:
      return "no-peer-certificate";
    case HandshakeError::tls_error:
      return "tls-error";
    case HandshakeError::local_error:
      return "local-error";
  }
  return "unknown";
}

const char* to_string(HandshakeRole role) {
  return role == HandshakeRole::client ? "client" : "server";
}

const char* to_string(AlertPhase phase) {
  return phase == AlertPhase::during_handshake ? "during-handshake" : "after-handshake";
}

std::optional<AlertRecord> HandshakeRecord::first_fatal_alert(bool sent) const {
  for (const AlertRecord& alert : alerts)
    if (alert.sent == sent && alert.fatal) return alert;
  return std::nullopt;
}

}  // namespace tls
