#pragma once
// Everything one TLS handshake showed, as plain facts: no OpenSSL or Asio
// types, so probe/ can judge it and report/ can render it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/certificate.hpp"
#include "tls/chain.hpp"
#include "tls/revocation.hpp"

namespace tls {

enum class HandshakeRole { client, server };

enum class TlsVersion { tls1_0, tls1_1, tls1_2, tls1_3 };

// "1.0", "1.1", "1.2", "1.3" (also "TLSv1.2", "tls1.2").
std::optional<TlsVersion> parse_tls_version(const std::string& text);
std::string to_string(TlsVersion version);  // "TLSv1.2", OpenSSL's spelling
// The same, and "" for none (no handshake completed, nothing configured).
std::string to_string(const std::optional<TlsVersion>& version);

enum class AlertPhase { during_handshake, after_handshake };

struct AlertRecord {
  bool sent = false;  // false: received from the peer
  bool fatal = false;
  int code = 0;
  std::string name;  // "unknown_ca"
  AlertPhase phase = AlertPhase::during_handshake;
};

// One distinguished name from a CertificateRequest's certificate_authorities.
struct CaName {
  std::string subject;  // one line, RFC 2253 order, as CertificateInfo::subject
  std::vector<std::uint8_t> der;
};

// What went wrong, as precisely as the wire allows. The order follows the
// connection: name resolution, TCP, TLS protocol, certificates.
enum class HandshakeError {
  none,
  dns_failure,          // the host name did not resolve
  connection_refused,   // RST on connect: nothing listens on the port
  network_unreachable,  // no route to the network or host
  connect_timeout,      // no answer to the SYN within the connect timeout
  tcp_error,            // any other socket error
  handshake_timeout,    // the peer went silent during the handshake
  peer_closed,          // the peer closed the connection during the handshake
  not_tls,              // the peer spoke something else (HTTP, SIP, ...)
  no_common_version,    // no TLS version both sides allow
  no_common_cipher,     // no cipher suite / group / signature both sides allow
  peer_rejected_us,     // the peer sent a fatal alert (in the handshake or right after it)
  we_rejected_peer,     // our verification of the peer's certificate failed
  no_peer_certificate,  // server side: the client sent no certificate
  tls_error,            // any other TLS failure, with OpenSSL's reason
  local_error,          // our own configuration (bad credentials, bind failure, ...)
};

const char* to_string(HandshakeError error);
const char* to_string(HandshakeRole role);
const char* to_string(AlertPhase phase);

// OCSP stapling (RFC 6066 status_request; in TLS 1.3 carried with the leaf).
struct OcspStapleRecord {
  bool requested = false;                  // client: we asked for it; server: the client asked
  bool present = false;                    // client: the server stapled one; server: we stapled one
  std::vector<std::uint8_t> response_der;  // client: the stapled bytes
  // Client: the stapled response verified for the server's leaf and its
  // issuer (unset when nothing was stapled).
  std::optional<RevocationStatus> status;
};

struct HandshakeRecord {
  HandshakeRole role = HandshakeRole::client;

  // TCP
  std::string target;        // client: "HOST:PORT" as dialled
  std::string peer_address;  // "127.0.0.1:5061", "[::1]:5061"
  std::string local_address;
  bool tcp_connected = false;
  double tcp_connect_ms = 0;  // resolution + connect (client only)

  // TLS
  bool handshake_completed = false;
  double handshake_ms = 0;
  std::optional<TlsVersion> protocol_version;  // set once a handshake completed
  std::string cipher_suite;  // "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256"
  std::string sni_sent;      // client: the server name we sent, empty for none
  std::string sni_received;  // server: the server name the client sent
  std::string alpn;          // the negotiated application protocol, empty for none
  std::optional<TlsVersion> min_version_allowed;  // as configured; unset when that failed
  std::optional<TlsVersion> max_version_allowed;
  bool security_level_lowered = false;  // only when TLS 1.0 / 1.1 was asked for
  // OpenSSL's reason ("ee key too small", "ca md too weak") when its default
  // security level would refuse to send our own certificate or chain; we send
  // it anyway, as the BEMS or Lync server we stand in for would.
  std::string own_chain_below_security_level;

  // The peer's certificates exactly as they arrived, leaf first.
  bool peer_sent_certificate = false;
  std::vector<Certificate> peer_chain;
  // Each certificate is issued by the next one (by name and signature).
  bool peer_chain_in_order = false;
  // In order, and it ends at a self-signed certificate or at one issued by a
  // root we trust: the peer sent every intermediate we need.
  bool peer_chain_complete = false;

  // What we sent.
  std::optional<Certificate> our_certificate_sent;
  std::vector<Certificate> our_chain_sent;  // after the leaf

  // Client side: the server's CertificateRequest.
  bool certificate_request_received = false;
  std::vector<CaName> acceptable_ca_names;  // empty when it named none
  std::size_t acceptable_ca_der_bytes = 0;
  // Server side: the names we put in our CertificateRequest (null: none).
  // One list, made at listen, shared by every record: a Windows-sized root
  // store names 400 CAs, copied into each handshake's record it was 7% of
  // serve's CPU (issue 17).
  std::shared_ptr<const std::vector<CaName>> acceptable_ca_names_sent;

  OcspStapleRecord ocsp_staple;

  std::vector<AlertRecord> alerts;

  // Our own verification of the peer's chain (tls::verify_chain).
  std::optional<ChainVerification> peer_verification;
  // Server side: the alert we were told to reject with, if any.
  std::string rejected_with;

  // The peer sent a fatal alert; after_handshake is TLS 1.3's late verdict
  // on our certificate, read after our side had already finished.
  bool peer_rejected_us = false;
  bool peer_rejected_us_after_handshake = false;
  std::optional<AlertRecord> rejection_alert;
  // Client side, TLS 1.3: we waited after the handshake for the verdict and
  // none came (no alert within the wait, or data / an orderly close).
  bool waited_for_verdict = false;
  double verdict_wait_ms = 0;  // how long that wait took (it ends early on an alert or data)

  HandshakeError error = HandshakeError::none;
  std::string error_message;  // one line for a person
  std::string openssl_error;  // OpenSSL's reason text, when there was one
  // When the peer did not speak TLS: what it spoke ("HTTP", "SIP", "") and
  // its first bytes with non-printable ones as '.'.
  std::string non_tls_protocol;
  std::string first_bytes_received;
  // The connection ended before the peer sent a whole TLS record: a TCP
  // port check (load balancer, monitoring), not a TLS client.
  bool peer_sent_nothing = false;

  bool ok() const { return error == HandshakeError::none && handshake_completed; }
  // The first fatal alert of a direction, if any.
  std::optional<AlertRecord> first_fatal_alert(bool sent) const;
};

}  // namespace tls
