// The floor for a mutual-TLS server's CPU per handshake: full mutual
// handshakes between two OpenSSL endpoints in one thread, over an in-memory
// BIO pair (no sockets, no event loop, nothing recorded or judged), with the
// server set up as nginx is with `ssl_verify_client on` (its chain and key,
// the client-CA names sent, the client chain verified against one root, no
// session tickets or cache). The CPU of the server's calls (SSL_new, each
// SSL_do_handshake step, SSL_free) is counted apart from the client's with
// the thread's CPU clock. Built by bench/handshakes.sh with the system
// compiler; never part of the product or its tests.
//
//   lean_handshakes 1.2|1.3 SECONDS SERVER_CHAIN SERVER_KEY CLIENT_ROOT
//                   CLIENT_CHAIN CLIENT_KEY SERVER_ROOT
//
// prints "handshakes server-CPU-us/handshake client-CPU-us/handshake".
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "lean_handshakes: %s\n", what.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

double thread_cpu_us() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

// CPU spent in `step`, added to `total`.
template <typename Step>
auto timed(double& total, Step step) {
  const double before = thread_cpu_us();
  auto result = step();
  total += thread_cpu_us() - before;
  return result;
}

SslCtxPtr make_context(bool server, int version, const char* chain, const char* key,
                       const char* peer_root) {
  SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), chain) != 1) die(std::string("chain ") + chain);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key, SSL_FILETYPE_PEM) != 1)
    die(std::string("key ") + key);
  if (SSL_CTX_load_verify_locations(ctx.get(), peer_root, nullptr) != 1)
    die(std::string("root ") + peer_root);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (server) {
    // As nginx does for ssl_client_certificate: the root's name is sent.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(peer_root);
    if (!names) die("client CA names");
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    // Full handshakes only: no tickets (TLS 1.2 and 1.3), no cache.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx.get(), 0);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  } else {
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  }
  return ctx;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: lean_handshakes 1.2|1.3 SECONDS SERVER_CHAIN SERVER_KEY CLIENT_ROOT "
                 "CLIENT_CHAIN CLIENT_KEY SERVER_ROOT\n");
    return 2;
  }
  const std::string version_text = argv[1];
  const int version = version_text == "1.2"   ? TLS1_2_VERSION
                      : version_text == "1.3" ? TLS1_3_VERSION
                                              : 0;
  if (version == 0) die("version must be 1.2 or 1.3");
  const double seconds = std::atof(argv[2]);
  if (seconds <= 0) die("seconds must be positive");
  SslCtxPtr server_ctx = make_context(true, version, argv[3], argv[4], argv[5]);
  SslCtxPtr client_ctx = make_context(false, version, argv[6], argv[7], argv[8]);

  double server_us = 0;
  double client_us = 0;
  long handshakes = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    SslPtr server(timed(server_us, [&] { return SSL_new(server_ctx.get()); }));
    SslPtr client(timed(client_us, [&] { return SSL_new(client_ctx.get()); }));
    if (!server || !client) die("SSL_new");
    BIO* client_side = nullptr;
    BIO* server_side = nullptr;
    if (BIO_new_bio_pair(&client_side, 0, &server_side, 0) != 1) die("BIO_new_bio_pair");
    SSL_set_bio(client.get(), client_side, client_side);  // each SSL owns its end
    SSL_set_bio(server.get(), server_side, server_side);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client.get());
    bool client_done = false;
    bool server_done = false;
    for (int step = 0; !(client_done && server_done); ++step) {
      if (step > 20) die("the handshake does not finish");
      if (!client_done) {
        const int ret = timed(client_us, [&] { return SSL_do_handshake(client.get()); });
        if (ret == 1) {
          client_done = true;
        } else if (SSL_get_error(client.get(), ret) != SSL_ERROR_WANT_READ) {
          die("client handshake failed");
        }
      }
      if (!server_done) {
        const int ret = timed(server_us, [&] { return SSL_do_handshake(server.get()); });
        if (ret == 1) {
          server_done = true;
        } else if (SSL_get_error(server.get(), ret) != SSL_ERROR_WANT_READ) {
          die("server handshake failed");
        }
      }
    }
    // Both sides saw and verified the other's certificate: a full mutual handshake.
    if (SSL_get_verify_result(server.get()) != X509_V_OK ||
        !SSL_get0_peer_certificate(server.get()))
      die("the server did not verify a client certificate");
    if (SSL_get_verify_result(client.get()) != X509_V_OK) die("the client did not verify");
    if (SSL_session_reused(server.get())) die("a session was resumed");
    timed(server_us, [&] {
      server.reset();
      return 0;
    });
    timed(client_us, [&] {
      client.reset();
      return 0;
    });
    ++handshakes;
  }
  if (handshakes == 0) die("no handshake in the time given");
  std::printf("%ld %.0f %.0f\n", handshakes, server_us / static_cast<double>(handshakes),
              client_us / static_cast<double>(handshakes));
  return 0;
}
