#pragma once
// Mutual-TLS client and server on Boost.Asio + OpenSSL that record what the
// handshake showed (tls/handshake_record.hpp). The OpenSSL-level checks are
// replaced by tls::verify_chain against the configured roots, so the peer's
// chain is always captured; the server still requires a client certificate
// and rejects a failing one with a real alert.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls/credentials.hpp"
#include "tls/handshake_record.hpp"
#include "tls/result.hpp"

namespace tls {

// What one side presents: its leaf, the key, and the certificates sent after
// the leaf, in that order (nothing is added to or taken from them).
struct Credentials {
  Certificate leaf;
  PrivateKey key;
  std::vector<Certificate> chain;
};

struct PeerTrust {
  std::vector<Certificate> roots;
  std::vector<Certificate> intermediates;  // used with what the peer sent
  VerifyPolicy policy;                     // purpose is set by the side
};

// Limits that keep a hostile peer's chain from costing more than this.
inline constexpr std::size_t kMaxPeerChainBytes = 1024 * 1024;
inline constexpr int kMaxVerifyDepth = 20;

// A client's TLS context, made once for many connections with the same
// versions and credentials: OpenSSL 3 makes a context slowly (providers,
// cipher lists, our certificate and key checked), and it is the same for
// every probe of an exporter's module. Shared read-only by any threads.
class PreparedClientContext;
Result<std::shared_ptr<const PreparedClientContext>> make_client_context(
    TlsVersion min_version, TlsVersion max_version, const std::optional<Credentials>& credentials);

struct ClientOptions {
  std::string host;  // name or IP literal to dial
  std::uint16_t port = 5061;
  std::string sni;  // server name to send; none when empty
  std::vector<std::string> alpn;
  TlsVersion min_version = TlsVersion::tls1_2;
  TlsVersion max_version = TlsVersion::tls1_3;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds handshake_timeout{10000};
  // TLS 1.3: how long to wait after the handshake for the server's verdict
  // on our certificate (an alert). 0: the caller's own exchange decides.
  std::chrono::milliseconds verdict_wait{1500};
  std::optional<Credentials> credentials;
  PeerTrust trust;
  // Send status_request and verify what the server staples.
  bool request_ocsp_staple = true;
  // false: an untrusted server is recorded and the handshake continues, so
  // its CertificateRequest and its verdict on us are captured too.
  bool abort_on_untrusted_peer = false;
  // Made by make_client_context() with min_version, max_version and
  // credentials as above; null (or made for others): one for this connection.
  std::shared_ptr<const PreparedClientContext> context;
};

enum class CaListMode { none, roots, certificates };

// Why a verified client chain is refused as revoked: which certificate
// (0 = leaf) and a readable reason ("revoked (OCSP http://...) since ...").
struct ClientRevocation {
  int depth = 0;
  std::string reason;
};

struct ServerOptions {
  std::string address = "127.0.0.1";       // IPv4 or IPv6 literal
  std::uint16_t port = 0;                  // 0: any free port, see HandshakeServer::port()
  std::optional<Credentials> credentials;  // required: listen() refuses to start without
  PeerTrust trust;
  std::vector<std::string> alpn;  // protocols we accept, in our preference order
  TlsVersion min_version = TlsVersion::tls1_2;
  TlsVersion max_version = TlsVersion::tls1_3;
  std::chrono::milliseconds handshake_timeout{10000};
  // The acceptable client-CA names in our CertificateRequest.
  CaListMode ca_list = CaListMode::roots;
  std::vector<Certificate> ca_list_certificates;  // for CaListMode::certificates
  // Lab switch: after seeing the client's certificate, reject it with this
  // alert name (see tls/alerts.hpp) whatever our verification said.
  std::string reject_with;
  // 0: unlimited. A connection closed before the peer sent anything (a TCP
  // port check) is reported but does not count.
  std::size_t max_handshakes = 0;
  // A DER OCSP response for our leaf, stapled when a client asks; empty:
  // none (the client's status_request is not acknowledged).
  std::vector<std::uint8_t> ocsp_staple;
  // Asked on one of the server's threads, inside the handshake, once the
  // client's chain verified, with that chain as built (leaf first); several
  // handshakes may ask at once. A value rejects the client certificate as
  // revoked (alert certificate_revoked), as a Windows server checking
  // revocation in the handshake does. It may block that thread (the other
  // threads go on serving): the caller bounds it.
  std::function<std::optional<ClientRevocation>(const std::vector<Certificate>& chain)>
      client_revocation_check;
  // Connections held at once. 0: derived from the descriptor limit, which
  // listen() raises to the hard limit (tls/descriptors.hpp). At the cap the
  // oldest connection still in its handshake is closed for the newcomer.
  std::size_t max_connections = 0;
  // Threads running handshakes (and the sessions' reads and writes); each
  // connection's handlers run one at a time, on whichever thread is free.
  std::size_t threads = 1;
};

// An established TLS connection for the application protocol (SIP). Reads
// and writes have deadlines. On the server its handlers run on the server's
// threads, one at a time (its own strand), and it must not outlive the
// HandshakeServer; on the client the
// blocking calls drive the client's own loop. Not thread-safe: use it from
// the thread that runs it.
class EstablishedConnection {
 public:
  class Impl;
  explicit EstablishedConnection(std::shared_ptr<Impl> impl);
  ~EstablishedConnection();

  using ReadHandler = std::function<void(Result<std::string>)>;
  using WriteHandler = std::function<void(Status)>;
  void async_read_some(std::chrono::milliseconds timeout, ReadHandler handler);
  void async_write(std::string data, std::chrono::milliseconds timeout, WriteHandler handler);

  // Client only: run the asynchronous call to completion.
  Result<std::string> read_some(std::chrono::milliseconds timeout);
  Status write(const std::string& data, std::chrono::milliseconds timeout);

  // Sends close_notify (bounded) and closes the socket.
  void close();

  // The record, updated with alerts that arrive after the handshake (a TLS
  // 1.3 late rejection shows up here after a failed read).
  HandshakeRecord record() const;

 private:
  std::shared_ptr<Impl> impl_;
};

struct ClientSession {
  HandshakeRecord record;
  std::shared_ptr<EstablishedConnection> connection;  // null when the handshake failed
};

// Connects, handshakes and (TLS 1.3) waits for the verdict; keeps the
// connection open for the caller's application exchange.
ClientSession connect_client(const ClientOptions& options);

// The same, closing the connection when done.
HandshakeRecord run_client_handshake(const ClientOptions& options);

class HandshakeServer {
 public:
  // Called once per handshake (success or failure) on one of the server's
  // threads; with ServerOptions::threads > 1, calls for different
  // connections run at the same time.
  // `connection` is null when the handshake failed; keep it to talk on it,
  // drop it to have the server close the connection politely.
  using Callback =
      std::function<void(const HandshakeRecord&, std::shared_ptr<EstablishedConnection>)>;

  HandshakeServer(ServerOptions options, Callback callback);
  // stop() and join the thread running run() before destroying the server.
  ~HandshakeServer();
  HandshakeServer(const HandshakeServer&) = delete;
  HandshakeServer& operator=(const HandshakeServer&) = delete;

  // Loads the credentials and binds; errors name the address or the file.
  Status listen();
  std::uint16_t port() const;
  // Serves (on ServerOptions::threads threads, this one among them) until
  // stop() or until max_handshakes handshakes were recorded and their
  // sessions ended.
  void run();
  // Thread-safe: stops accepting and ends every session.
  void stop();
  std::size_t handshakes_recorded() const;
  // Thread-safe: handshakes closed unfinished to make room for a newcomer
  // (see ServerOptions::max_connections); they are not reported.
  std::size_t connections_evicted() const;
  // Thread-safe: the OCSP response stapled from the next handshake on
  // (a refreshed one); empty stops stapling.
  void set_ocsp_staple(std::vector<std::uint8_t> response_der);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tls
