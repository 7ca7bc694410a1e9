#include "probe/exporter/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

#include <CLI/CLI.hpp>
#include <boost/url/parse.hpp>

#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/rules/revocation_findings.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

// A TOML key and its values as the command-line arguments CLI11 checks:
// `sip = true` is --sip=true, `instance = ["a", "b"]` is --instance=a --instance=b.
void append_arguments(std::vector<std::string>& arguments, const CLI::ConfigItem& item) {
  if (item.inputs.empty()) arguments.push_back("--" + item.name);
  for (const auto& value : item.inputs) arguments.push_back("--" + item.name + "=" + value);
}

// CLI11 takes its arguments last first.
void parse_arguments(CLI::App& app, std::vector<std::string> arguments) {
  std::reverse(arguments.begin(), arguments.end());
  app.parse(arguments);
}

struct ModuleFlags {
  std::string role = "bems";
  StoreFlags store;
  std::string sni, expect_name;
  double verdict_wait_seconds = 1.5;
  std::vector<std::string> dns_servers;
  LiveFlags live;
  RevocationFlags revocation;
  SipConnectFlags sip;
};

// The options a module may set: `connect`'s, by the same definitions.
void add_module_flags(CLI::App& app, ModuleFlags& flags) {
  app.add_option("--role", flags.role)->check(CLI::IsMember({"bems", "lync"}));
  add_store_flags(&app, flags.store, "", "our endpoint");
  app.add_option("--sni", flags.sni);
  app.add_option("--expect-name", flags.expect_name);
  app.add_option("--verdict-wait", flags.verdict_wait_seconds)->check(CLI::Range(0.0, 30.0));
  app.add_option("--dns-server", flags.dns_servers);
  add_live_flags(&app, flags.live);
  add_revocation_flags(&app, flags.revocation);
  add_sip_connect_flags(&app, flags.sip);
}

mtls::Result<std::unique_ptr<ExporterModule>> build_module(
    const std::string& name, const std::vector<std::string>& arguments, const std::string& where) {
  ModuleFlags flags;
  CLI::App app{"module"};
  add_module_flags(app, flags);
  try {
    parse_arguments(app, arguments);
  } catch (const CLI::ParseError& e) {
    return mtls::Error{where + ": " + e.what()};
  }
  if (flags.store.empty()) return mtls::Error{where + ": no store (store = \"DIR\", or cert/pfx)"};
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return mtls::Error{where + ": " + revocation.error().message};
  auto range = tls_range(flags.live);
  if (!range) return mtls::Error{where + ": " + range.error().message};

  auto module = std::make_unique<ExporterModule>();
  module->name = name;
  module->sni = flags.sni;
  module->expect_name = flags.expect_name;
  if (auto dns = dns_options_from(flags.dns_servers, std::chrono::seconds(1)); !dns)
    return mtls::Error{where + ": dns-server: " + dns.error().message};
  module->dns_servers = flags.dns_servers;
  auto& settings = module->settings;
  settings.us = flags.role == "lync" ? Side::lync : Side::bems;
  auto options = to_store_options(flags.store);
  if (!options) return mtls::Error{where + ": " + options.error().message};
  module->store = tls::load_store(*options);
  if (!module->store.problems.empty())
    return mtls::Error{where + ": " + module->store.problems.front().reason};
  settings.store = &module->store;
  settings.min_version = range->first;
  settings.max_version = range->second;
  settings.timeout = milliseconds(flags.live.timeout_seconds);
  settings.verdict_wait = milliseconds(flags.verdict_wait_seconds);
  if (!flags.live.pool.empty()) settings.pool = flags.live.pool;
  settings.instances = flags.live.instances;
  settings.warn_days = flags.live.warn_days;
  settings.revocation = flags.revocation;
  settings.revocation_options = *revocation;
  settings.sip = flags.sip;
  if (settings.sip.presence_format.empty())
    settings.sip.presence_format = settings.us == Side::bems ? "msrtc" : "pidf";
  // Prometheus's own log says which target failed; one line per probe on
  // stderr would only repeat it, at every scrape.
  settings.announce = false;
  // Every probe of the module presents the same credentials and trusts the
  // same roots: made once here, not per probe.
  settings.prepared = prepare_endpoint(module->store, settings.min_version, settings.max_version);
  return module;
}

}  // namespace

const ExporterModule* ExporterConfig::module(std::string_view name) const {
  for (const auto& module : modules)
    if (module->name == name) return module.get();
  return nullptr;
}

bool ExporterConfig::allows(const HostPort& target) const {
  if (!restrict_targets) return true;
  return std::any_of(targets.begin(), targets.end(), [&](const HostPort& allowed) {
    return allowed.port == target.port && tls::iequals(allowed.host, target.host);
  });
}

mtls::Result<ExporterConfig> parse_exporter_config(std::istream& in, const std::string& origin) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(in);
  } catch (const CLI::ParseError& e) {
    return mtls::Error{origin + ": " + e.what()};
  }
  std::vector<std::string> top_arguments;
  std::map<std::string, std::vector<std::string>> module_arguments;
  std::vector<std::string> module_order;
  for (const auto& item : items) {
    // CLI11 marks entering and leaving a [section] with these names.
    if (item.name == "++" || item.name == "--") continue;
    if (item.parents.empty()) {
      append_arguments(top_arguments, item);
    } else if (item.parents.size() == 2 && item.parents[0] == "module") {
      const std::string& name = item.parents[1];
      if (!module_arguments.contains(name)) module_order.push_back(name);
      append_arguments(module_arguments[name], item);
    } else {
      std::string section;
      for (const auto& parent : item.parents) section += (section.empty() ? "" : ".") + parent;
      return mtls::Error{origin + ": [" + section +
                         "] is not a section the exporter knows (use [module.NAME])"};
    }
  }

  ExporterConfig config;
  std::vector<std::string> targets;
  bool allowed_targets = false;
  std::size_t max_concurrent = config.max_concurrent, max_queued = config.max_queued;
  double margin_seconds = 0.5;
  CLI::App top{"exporter configuration"};
  top.add_option("--targets", targets);
  top.add_option("--allowed_targets", allowed_targets);
  top.add_option("--max_concurrent_probes", max_concurrent)->check(CLI::Range(1, 256));
  top.add_option("--max_queued_probes", max_queued)->check(CLI::Range(0, 10000));
  top.add_option("--timeout_margin_seconds", margin_seconds)->check(CLI::Range(0.0, 60.0));
  try {
    parse_arguments(top, top_arguments);
  } catch (const CLI::ParseError& e) {
    return mtls::Error{origin + ": " + e.what()};
  }
  for (const auto& text : targets) {
    auto target = parse_host_port(text, 5061);
    if (!target) return mtls::Error{origin + ": targets: " + target.error().message};
    config.targets.push_back(*target);
  }
  config.restrict_targets =
      top.count("--allowed_targets") > 0 ? allowed_targets : !config.targets.empty();
  if (config.restrict_targets && config.targets.empty())
    return mtls::Error{origin + ": allowed_targets = true needs a targets list"};
  config.max_concurrent = max_concurrent;
  config.max_queued = max_queued;
  config.timeout_margin = milliseconds(margin_seconds);

  if (module_order.empty())
    return mtls::Error{origin + ": no [module.NAME] section: a module names at least a store"};
  for (const auto& name : module_order) {
    auto module = build_module(name, module_arguments[name], origin + " [module." + name + "]");
    if (!module) return module.error();
    config.modules.push_back(std::move(*module));
  }
  return config;
}

mtls::Result<ExporterConfig> load_exporter_config(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return mtls::Error{file.string() + ": cannot be read"};
  return parse_exporter_config(in, file.string());
}

mtls::Result<ProbeRequest> probe_request(const ExporterConfig& config, std::string_view http_target,
                                         std::string_view scrape_timeout_header) {
  auto url = boost::urls::parse_origin_form(http_target);
  if (!url) return mtls::Error{"the request target is not a valid URL"};
  auto params = url->params();
  auto target_param = params.find("target");
  if (target_param == params.end() || !(*target_param).has_value || (*target_param).value.empty())
    return mtls::Error{"target parameter is missing (GET /probe?target=HOST[:PORT]&module=NAME)"};
  const std::string target_text = (*target_param).value;

  ProbeRequest request;
  auto module_param = params.find("module");
  if (module_param == params.end() || (*module_param).value.empty()) {
    if (config.modules.size() != 1)
      return mtls::Error{"module parameter is missing and the config has several modules"};
    request.module = config.modules.front().get();
  } else {
    request.module = config.module((*module_param).value);
    if (!request.module)
      return mtls::Error{"unknown module '" + std::string((*module_param).value) + "'"};
  }
  auto target = parse_host_port(target_text, 5061);
  if (!target) return mtls::Error{"target " + target.error().message};
  if (!config.allows(*target))
    return mtls::Error{"target '" + target_text +
                       "' is not in the exporter's allowed targets (targets in its config)"};
  request.target.host = target->host;
  request.target.port = target->port;
  request.target.sni = request.module->sni;
  request.target.expect_name = request.module->expect_name;

  if (!scrape_timeout_header.empty()) {
    double seconds = 0;
    auto [end, ec] =
        std::from_chars(scrape_timeout_header.data(),
                        scrape_timeout_header.data() + scrape_timeout_header.size(), seconds);
    if (ec != std::errc() || end != scrape_timeout_header.data() + scrape_timeout_header.size() ||
        !(seconds > 0))
      return mtls::Error{"X-Prometheus-Scrape-Timeout-Seconds is not a positive number"};
    auto whole = milliseconds(std::min(seconds, 3600.0));
    // The margin leaves time to render and send; a scrape timeout shorter
    // than twice the margin keeps half of it instead.
    request.budget = whole > 2 * config.timeout_margin ? whole - config.timeout_margin : whole / 2;
  }
  return request;
}

ConnectSettings settings_within(const ExporterModule& module,
                                std::optional<std::chrono::milliseconds> budget) {
  ConnectSettings settings = module.settings;
  if (!budget) return settings;
  settings.timeout = std::min(settings.timeout, *budget / 4);
  settings.verdict_wait = std::min(settings.verdict_wait, *budget / 4);
  auto& revocation = settings.revocation_options;
  revocation.total_timeout = std::min(revocation.total_timeout, *budget / 10);
  revocation.http.timeout = std::min(revocation.http.timeout, revocation.total_timeout);
  return settings;
}

}  // namespace probe
