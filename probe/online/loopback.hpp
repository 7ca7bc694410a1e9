#pragma once
// One MTLS handshake between two stores inside this process over
// 127.0.0.1: a server presenting one store's credentials and applying its
// trust, dialled by a client doing the same with the other store. Real TLS
// on a real socket; only the peer is ours. `pair` runs both directions of
// a lab with it; `rollover --live` rehearses the Lync pool dialling BEMS's
// next certificate with the pool's own store.
#include <chrono>
#include <optional>
#include <string>

#include "tls/handshake.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

struct LoopbackOptions {
  std::chrono::milliseconds timeout{10000};  // the TCP connect and the handshake, each
  tls::TlsVersion min_version = tls::TlsVersion::tls1_2;
  tls::TlsVersion max_version = tls::TlsVersion::tls1_3;
};

struct LoopbackHandshake {
  tls::HandshakeRecord client;                 // the dialling store's view
  std::optional<tls::HandshakeRecord> server;  // none when the server never recorded one
};

// `server_name` is sent as SNI and names the target, as the client would
// dial the server's FQDN. A server that cannot listen is a local_error in
// the client's record.
LoopbackHandshake run_loopback_handshake(const tls::Store& client_store,
                                         const tls::Store& server_store,
                                         const std::string& server_name,
                                         const LoopbackOptions& options);

}  // namespace probe
