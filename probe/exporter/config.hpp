#pragma once
// The exporter's configuration (`mtlsprobe exporter --config FILE`) and what
// one GET /probe asks for. The file is TOML read by CLI11's config parser
// (the one `--config` uses everywhere), and every key is checked by CLI11
// as a command-line option would be, so no format is parsed by hand:
//
//   targets = ["lyncpool.example.com:5061", "edge.example.com"]
//   allowed_targets = true         # only those (the default when targets are listed)
//   max_concurrent_probes = 4      # probes running at once
//   max_queued_probes = 32         # waiting beyond those; more get 503
//   timeout_margin_seconds = 0.5   # kept from X-Prometheus-Scrape-Timeout-Seconds
//
//   [module.bems]                  # `connect`'s options without the leading --
//   store = "/srv/bems-store"
//   role = "bems"
//   sip = true
//   revocation = "both"
//   timeout = 5
//   dns-server = ["10.0.0.53"]     # resolve targets here; each address is probed
//
// Each module's store is loaded once, at start.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/online/connect_target.hpp"
#include "probe/online/endpoint.hpp"
#include "tls/result.hpp"
#include "tls/store.hpp"

namespace probe {

// In the 9100-9999 range exporters use; see the README's Monitoring section.
inline constexpr std::uint16_t kExporterDefaultPort = 9863;

struct ExporterModule {
  std::string name;
  tls::Store store;
  ConnectSettings settings;  // settings.store points at `store`
  std::string sni;           // as connect --sni / --expect-name; empty: the target's host
  std::string expect_name;
  // dns-server = ["ADDR[:PORT]"]: where the target's name is resolved (each
  // address is probed); empty: the system's resolvers.
  std::vector<std::string> dns_servers;
};

struct ExporterConfig {
  std::vector<std::unique_ptr<ExporterModule>> modules;  // stable addresses
  std::vector<HostPort> targets;
  bool restrict_targets = false;
  std::size_t max_concurrent = 4;
  std::size_t max_queued = 32;
  std::chrono::milliseconds timeout_margin{500};

  const ExporterModule* module(std::string_view name) const;
  bool allows(const HostPort& target) const;
};

// Every problem is one line naming the file and, where there is one, the
// [module.NAME] section and the key.
mtls::Result<ExporterConfig> load_exporter_config(const std::filesystem::path& file);
mtls::Result<ExporterConfig> parse_exporter_config(std::istream& in, const std::string& origin);

struct ProbeRequest {
  const ExporterModule* module = nullptr;
  ConnectTarget target;
  // From X-Prometheus-Scrape-Timeout-Seconds less the margin; none without it.
  std::optional<std::chrono::milliseconds> budget;
};

// GET /probe?target=HOST[:PORT]&module=NAME (module may be left out when the
// config has one). The error is the one-line reason of a 400: nothing is run.
mtls::Result<ProbeRequest> probe_request(const ExporterConfig& config, std::string_view http_target,
                                         std::string_view scrape_timeout_header);

// The module's settings with each step's timeout cut so that the whole probe
// fits in `budget`: a quarter each for TCP, TLS and TLS 1.3's verdict wait,
// a tenth for each certificate's revocation answer.
ConnectSettings settings_within(const ExporterModule& module,
                                std::optional<std::chrono::milliseconds> budget);

}  // namespace probe
