#pragma once
// Inside tls/ only: the per-connection state OpenSSL's callbacks fill in,
// how a context is set up to call them, and how a failure is classified.
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tls/detail/openssl.hpp"
#include "tls/handshake.hpp"

namespace tls::detail {

// A PeerTrust made ready once for every connection that uses it: its
// anchors' store looked up once, not per handshake, and the lists (a
// Windows-sized store holds 1,400 certificates) not copied per connection.
struct PreparedTrust {
  explicit PreparedTrust(PeerTrust given);
  PeerTrust trust;
  TrustAnchors anchors;
};

struct Capture {
  HandshakeRecord record;
  // Never null once the connection is set up (a server shares one for all).
  std::shared_ptr<const PreparedTrust> trust;
  Purpose purpose = Purpose::any;
  bool reject_untrusted = true;
  std::optional<int> reject_with_verify_error;  // server lab switch
  std::string reject_with_name;
  // Server: ServerOptions::client_revocation_check (may be null).
  const std::function<std::optional<ClientRevocation>(const std::vector<Certificate>&)>*
      client_revocation_check = nullptr;
  std::chrono::milliseconds handshake_timeout{0};
  // Server: the OCSP response to staple when the client asks (may be null).
  std::shared_ptr<const std::vector<std::uint8_t>> ocsp_staple;

  bool certificate_message_sent = false;
  bool first_record_header_seen = false;
  std::string first_bytes;  // raw, the first record header the peer sent and what followed
};

// Sets versions, limits, credentials and every capture callback on `ctx`.
// `record` learns the allowed versions and whether the security level was lowered.
Status configure_context(SSL_CTX* ctx, HandshakeRole role, TlsVersion min_version,
                         TlsVersion max_version, const std::optional<Credentials>& credentials,
                         HandshakeRecord& record);

// Links `capture` to `ssl`; the capture must outlive the SSL object's use.
void attach_capture(SSL* ssl, Capture* capture);

// Reads what the finished (or failed) handshake left in `ssl` into the record.
void read_connection_facts(SSL* ssl, Capture& capture, bool handshake_completed);

// Names the failure of a handshake that ended with `ec` (timed_out: our deadline fired).
void classify_handshake_failure(SSL* ssl, Capture& capture, const boost::system::error_code& ec,
                                bool timed_out);

// The fatal alert the peer sent after our handshake had finished, if any.
std::optional<AlertRecord> late_fatal_alert(const HandshakeRecord& record);

// "HTTP", "SIP", "SSH" or "" from a peer's first bytes.
std::string recognise_protocol(const std::string& first_bytes);
// The bytes with anything outside printable ASCII as '.', at most 64.
std::string printable(const std::string& bytes);

std::string one_line_name(const X509_NAME* name);
int openssl_version(TlsVersion version);
// SSL_version()'s value as ours; nothing for SSL 3 or DTLS, which we never allow.
std::optional<TlsVersion> tls_version_of(int openssl);

}  // namespace tls::detail
