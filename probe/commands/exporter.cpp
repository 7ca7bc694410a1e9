// `mtlsprobe exporter --config exporter.toml`: a Prometheus exporter that
// Prometheus drives as it drives blackbox_exporter: GET
// /probe?target=HOST[:PORT]&module=NAME runs one connect and answers with its
// metrics, which say why a rejected handshake was rejected.
#include <iostream>
#include <memory>

#include <boost/url/parse.hpp>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/exporter/service.hpp"

namespace probe {
namespace {

struct ExporterFlags {
  std::string listen = "127.0.0.1:" + std::to_string(kExporterDefaultPort);
  std::string config;
};

int run_exporter(const ExporterFlags& flags) {
  auto listen = parse_host_port(flags.listen, kExporterDefaultPort);
  if (!listen) return fail_input("--listen: " + listen.error().message);
  if (!is_ip_literal(listen->host))
    return fail_input("--listen '" + flags.listen + "': give an IP address to listen on");
  auto config = load_exporter_config(flags.config);
  if (!config) return fail_input(config.error().message);
  if (!config->restrict_targets)
    std::cerr << "mtlsprobe exporter: warning: no targets listed in " << flags.config
              << ": any host can be probed through this exporter\n";

  ExporterService service(std::move(*config));
  auto server = tls::HttpServer::listen(listen->host, listen->port, service.routes());
  if (!server) return fail_input(server.error().message);
  std::cout << "mtlsprobe exporter on " << (*server)->url() << " (/probe, /metrics), "
            << service.config().modules.size() << " module(s), at most "
            << service.config().max_concurrent << " probes at once. Ctrl-C stops.\n"
            << std::flush;
  (*server)->run_until_signal();
  // The workers answer through the server's loop: stop taking requests
  // first, then let the running probes finish, then close the server.
  (*server)->stop();
  service.stop();
  return report::kExitPass;
}

}  // namespace

void add_exporter_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ExporterFlags>();
  auto* command = app.add_subcommand(
      "exporter",
      "Monitoring: a Prometheus exporter. GET /probe?target=HOST[:PORT]&module=NAME runs one "
      "connect with the module's options and answers with its metrics (also when the handshake "
      "is rejected); GET /metrics gives the exporter's own.\n"
      "Example: mtlsprobe exporter --config exporter.toml --listen 127.0.0.1:9863");
  command
      ->add_option("--listen", flags->listen, "ADDRESS:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  command
      ->add_option("--config", flags->config,
                   "TOML file: targets, limits and a [module.NAME] section of connect options per "
                   "module (see the README's Monitoring section)")
      ->required();
  command->callback([flags, &action] { action = [flags] { return run_exporter(*flags); }; });
}

}  // namespace probe
