#include "probe/online/endpoint.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "probe/rules/rules.hpp"
#include "report/utf8.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>

namespace probe {

std::optional<tls::Credentials> credentials_from(const tls::Store& store) {
  if (!store.leaf || !store.key || !store.key->matches(store.leaf->certificate))
    return std::nullopt;
  std::vector<tls::Certificate> pool = store.personal_extra_certificates();
  for (const auto& certificate : store.intermediate_certificates()) pool.push_back(certificate);
  auto built = tls::verify_chain(store.leaf->certificate, pool, store.trust_anchors(),
                                 rules::structural_policy(store));
  std::vector<tls::Certificate> chain;
  for (size_t i = 1; i < built.chain.size(); ++i)
    if (!built.chain[i].self_signed()) chain.push_back(built.chain[i]);
  return tls::Credentials{store.leaf->certificate, *store.key, chain};
}

std::string why_no_credentials(const tls::Store& store) {
  if (!store.unreadable_personal.empty() && (!store.leaf || !store.key))
    return report::one_line_printable(store.unreadable_personal.front().string()) +
           ": permission denied: this account (uid " + std::to_string(::geteuid()) +
           ") cannot read it; grant it read access or run as the service account that can";
  if (!store.leaf) return "no certificate of our own was found (personal/, --pfx or --cert)";
  if (!store.key)
    return "no private key was found for " +
           report::one_line_printable(store.leaf->certificate.subject()) +
           " (personal/, --pfx or --key)";
  return "the private key " +
         (store.key_file ? report::one_line_printable(store.key_file->string()) + " " : "") +
         "does not belong to " + report::one_line_printable(store.leaf->certificate.subject());
}

tls::PeerTrust trust_from(const tls::Store& store) {
  tls::PeerTrust trust;
  trust.roots = store.root_certificates();
  trust.intermediates = store.intermediate_certificates();
  trust.policy.system_roots = store.system_roots;
  // On the wire we accept and refuse as the peers we stand in for do: the
  // path (anchor, signatures, CA constraints, dates) and the purpose, which
  // every stack checks. Weak keys, SHA-1, a missing EKU or SAN are each
  // blamed by their own requirement finding, not by a refused handshake.
  trust.policy.strict = false;
  return trust;
}

std::shared_ptr<const PreparedEndpoint> prepare_endpoint(const tls::Store& store,
                                                         tls::TlsVersion min_version,
                                                         tls::TlsVersion max_version) {
  auto prepared = std::make_shared<PreparedEndpoint>();
  prepared->store = &store;
  prepared->credentials = credentials_from(store);
  prepared->trust = trust_from(store);
  if (auto context = tls::make_client_context(min_version, max_version, prepared->credentials))
    prepared->client_context = *context;
  if (prepared->credentials)
    prepared->own_chain =
        own_chain_of(prepared->credentials->leaf, prepared->credentials->chain, store);
  prepared->our_store = judged_against(store);
  return prepared;
}

mtls::Result<HostPort> parse_host_port(const std::string& text, std::uint16_t default_port) {
  auto authority = boost::urls::parse_authority(text);
  if (!authority || authority->has_userinfo() || authority->host().empty())
    return mtls::Error{"'" + text + "' is not HOST, HOST:PORT or [IPv6]:PORT"};
  HostPort result;
  result.host = authority->host_type() == boost::urls::host_type::ipv6
                    ? authority->host_ipv6_address().to_string()
                    : std::string(authority->host());
  result.port = default_port;
  if (authority->has_port()) {
    auto port = parse_port(authority->port());
    if (!port || *port == 0) return mtls::Error{"'" + text + "': the port must be 1-65535"};
    result.port = *port;
  }
  return result;
}

std::optional<std::uint16_t> parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

tls::Result<tls::DnsOptions> dns_options_from(const std::vector<std::string>& servers,
                                              std::chrono::milliseconds timeout) {
  tls::DnsOptions dns;
  dns.timeout = timeout;
  for (const std::string& text : servers) {
    auto server = parse_host_port(text, 53);
    if (!server || !is_ip_literal(server->host))
      return tls::Error{"--dns-server " + text + ": expected ADDR[:PORT] with an IP address"};
    dns.servers.push_back({server->host, server->port});
  }
  return dns;
}

void add_live_flags(CLI::App* command, LiveFlags& flags) {
  const std::string group = "Handshake";
  command
      ->add_option("--tls-min", flags.tls_min,
                   "Lowest TLS version to allow: 1.0, 1.1, 1.2 or 1.3 "
                   "(1.0/1.1 lower OpenSSL's security level, which is said)")
      ->capture_default_str()
      ->group(group);
  command
      ->add_option("--tls-max", flags.tls_max,
                   "Highest TLS version to allow (Lync/Skype on Windows Server "
                   "2019 and earlier top out at 1.2)")
      ->capture_default_str()
      ->group(group);
  command
      ->add_option("--timeout", flags.timeout_seconds,
                   "Seconds allowed for connect and for the handshake")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 600.0))
      ->group(group);
  command
      ->add_option("--pool", flags.pool,
                   "Trusted application pool FQDN, to judge a BEMS peer's names")
      ->group(group);
  command
      ->add_option("--instance", flags.instances,
                   "BEMS instance FQDN (repeat), to judge a BEMS peer's SAN")
      ->group(group)
      ->delimiter(',');
  command
      ->add_option("--warn-days", flags.warn_days, "Warn when a certificate expires within N days")
      ->capture_default_str()
      ->group(group);
}

mtls::Result<std::pair<tls::TlsVersion, tls::TlsVersion>> tls_range(const LiveFlags& flags) {
  auto low = tls::parse_tls_version(flags.tls_min);
  auto high = tls::parse_tls_version(flags.tls_max);
  if (!low) return mtls::Error{"--tls-min " + flags.tls_min + ": expected 1.0, 1.1, 1.2 or 1.3"};
  if (!high) return mtls::Error{"--tls-max " + flags.tls_max + ": expected 1.0, 1.1, 1.2 or 1.3"};
  if (*high < *low) return mtls::Error{"--tls-max is below --tls-min"};
  return std::make_pair(*low, *high);
}

}  // namespace probe
