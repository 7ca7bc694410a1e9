#pragma once
// From a loaded store to what a live handshake needs: the credentials one
// side presents and the trust it applies to the other side.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "probe/commands/options.hpp"
#include "probe/diagnosis/handshake.hpp"
#include "tls/dns.hpp"
#include "tls/handshake.hpp"
#include "tls/store.hpp"

namespace probe {

// The leaf, its key and the chain a Windows endpoint would send: the
// intermediates that chain the leaf, taken from personal/ and intermediate/
// (never the root). Nothing when the store has no matching key.
std::optional<tls::Credentials> credentials_from(const tls::Store& store);
// Why credentials_from() gives nothing, in one sentence naming the file:
// an unreadable key says so (the service account's permission, not a
// missing key), then a missing certificate, a missing key, a key that
// matches no certificate.
std::string why_no_credentials(const tls::Store& store);

// Roots from trusted-root/ (and the system's with --system-roots),
// intermediates from intermediate/.
tls::PeerTrust trust_from(const tls::Store& store);

// What a live command takes from its store once and uses for every
// handshake it makes: the credentials we present, the trust we apply to the
// peer, a TLS client context made of them, and our own chain judged against
// the store. Read-only, so probes on any thread share it; `store` must
// outlive it.
struct PreparedEndpoint {
  const tls::Store* store = nullptr;
  std::optional<tls::Credentials> credentials;
  tls::PeerTrust trust;
  // Null when the context cannot be made: each handshake then tries and
  // reports why (a local_error), as without preparation.
  std::shared_ptr<const tls::PreparedClientContext> client_context;
  std::shared_ptr<const OwnChain> own_chain;  // null without credentials
  std::shared_ptr<const OurStore> our_store;
};
std::shared_ptr<const PreparedEndpoint> prepare_endpoint(const tls::Store& store,
                                                         tls::TlsVersion min_version,
                                                         tls::TlsVersion max_version);

// "HOST", "HOST:PORT", "[v6]:PORT" via Boost.URL's authority grammar.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
tls::Result<HostPort> parse_host_port(const std::string& text, std::uint16_t default_port);

// A port as typed: decimal digits with a value of at most 65535 (Boost.URL's
// port_number() wraps 99999 to 34463). nullopt otherwise.
std::optional<std::uint16_t> parse_port(std::string_view digits);
bool is_ip_literal(const std::string& host);

// --dns-server ADDR[:PORT] (repeatable, IP literals) and the whole lookup's deadline.
tls::Result<tls::DnsOptions> dns_options_from(const std::vector<std::string>& servers,
                                              std::chrono::milliseconds timeout);

// Options every live command shares.
struct LiveFlags {
  std::string tls_min = "1.2";
  std::string tls_max = "1.3";
  double timeout_seconds = 10;
  std::string pool;
  std::vector<std::string> instances;
  int warn_days = 30;
};
void add_live_flags(CLI::App* command, LiveFlags& flags);
mtls::Result<std::pair<tls::TlsVersion, tls::TlsVersion>> tls_range(const LiveFlags& flags);

}  // namespace probe
