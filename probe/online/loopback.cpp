#include "probe/online/loopback.hpp"

#include <thread>

#include "probe/online/endpoint.hpp"

namespace probe {

LoopbackHandshake run_loopback_handshake(const tls::Store& client_store,
                                         const tls::Store& server_store,
                                         const std::string& server_name,
                                         const LoopbackOptions& options) {
  LoopbackHandshake result;
  tls::ServerOptions server_options;
  server_options.address = "127.0.0.1";
  server_options.port = 0;
  server_options.credentials = credentials_from(server_store);
  server_options.trust = trust_from(server_store);
  server_options.min_version = options.min_version;
  server_options.max_version = options.max_version;
  server_options.handshake_timeout = options.timeout;
  server_options.max_handshakes = 1;
  tls::HandshakeServer server(
      server_options, [&](const tls::HandshakeRecord& record,
                          std::shared_ptr<tls::EstablishedConnection>) { result.server = record; });
  if (auto listening = server.listen(); !listening) {
    result.client.error = tls::HandshakeError::local_error;
    result.client.error_message = listening.error().message;
    return result;
  }
  std::thread server_thread([&] { server.run(); });

  tls::ClientOptions client_options;
  client_options.host = "127.0.0.1";
  client_options.port = server.port();
  client_options.sni = server_name;
  client_options.min_version = options.min_version;
  client_options.max_version = options.max_version;
  client_options.connect_timeout = options.timeout;
  client_options.handshake_timeout = options.timeout;
  client_options.credentials = credentials_from(client_store);
  client_options.trust = trust_from(client_store);
  result.client = tls::run_client_handshake(client_options);
  result.client.target = server_name + ":" + std::to_string(server.port()) + " via 127.0.0.1";

  // The server records the handshake when its session ends; a client that
  // never got through leaves it waiting, so stop it after a bounded wait.
  auto deadline = std::chrono::steady_clock::now() + options.timeout + std::chrono::seconds(2);
  while (server.handshakes_recorded() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stop();
  server_thread.join();
  return result;
}

}  // namespace probe
