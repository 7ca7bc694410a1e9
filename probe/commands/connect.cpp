// `mtlsprobe connect HOST[:PORT]`: a real mutual-TLS handshake as the BEMS
// (or Lync) side against a live peer, diagnosed against the requirements.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/fleet/fleet.hpp"
#include "probe/fleet/targets.hpp"
#include "probe/online/connect_target.hpp"
#include "probe/online/endpoint.hpp"
#include "report/target_stream.hpp"

namespace probe {
namespace {

struct ConnectFlags {
  std::string target;
  std::string targets_file;
  std::vector<std::string> target_lines;  // --target, the config's `target = [...]`
  std::string srv;
  std::vector<std::string> dns_servers;
  bool first_address = false;
  std::size_t concurrency = 16;
  std::string progress = "auto";
  DialFlags dial;
  std::string save_chain;
  double verdict_wait_seconds = 1.5;
  LiveFlags live;
  RevocationFlags revocation;
  SipConnectFlags sip;
  ReportFlags report;
};

mtls::Status save_chain(const std::string& folder, const std::vector<tls::Certificate>& chain) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return mtls::Error{folder + ": cannot create folder: " + ec.message()};
  std::string all;
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string pem = chain[i].pem();
    all += pem;
    std::ofstream out(std::filesystem::path(folder) / ("cert" + std::to_string(i) + ".pem"));
    out << pem;
    if (!out) return mtls::Error{folder + ": cannot write cert" + std::to_string(i) + ".pem"};
  }
  std::ofstream out(std::filesystem::path(folder) / "chain.pem");
  out << all;
  if (!out) return mtls::Error{folder + ": cannot write chain.pem"};
  return mtls::Done{};
}

mtls::Result<ConnectSettings> connect_settings(const ConnectFlags& flags, const tls::Store& store,
                                               RevocationMemo& memo) {
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return revocation.error();
  auto range = tls_range(flags.live);
  if (!range) return range.error();
  ConnectSettings settings;
  settings.us = flags.dial.role == "lync" ? Side::lync : Side::bems;
  settings.store = &store;
  settings.min_version = range->first;
  settings.max_version = range->second;
  settings.timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.live.timeout_seconds * 1000));
  settings.verdict_wait =
      std::chrono::milliseconds(static_cast<long long>(flags.verdict_wait_seconds * 1000));
  if (!flags.live.pool.empty()) settings.pool = flags.live.pool;
  settings.instances = flags.live.instances;
  settings.warn_days = flags.live.warn_days;
  settings.revocation = flags.revocation;
  settings.revocation_options = *revocation;
  settings.memo = &memo;
  settings.sip = flags.sip;
  // Every target of a run presents the same credentials and trusts the same
  // roots: made once here (as the exporter does per module), not per target.
  settings.prepared = prepare_endpoint(store, settings.min_version, settings.max_version);
  return settings;
}

mtls::Result<tls::DnsOptions> dns_options(const ConnectFlags& flags) {
  return dns_options_from(
      flags.dns_servers,
      std::chrono::milliseconds(static_cast<long long>(flags.live.timeout_seconds * 1000)));
}

// One target, dialled once: today's connect, with --save-chain.
int run_single(const ConnectFlags& flags, const ConnectTarget& target,
               const ConnectSettings& settings,
               const std::optional<tls::HandshakeRecord>& unresolved) {
  if (unresolved) return emit_report(diagnose_target(*unresolved, target, settings), flags.report);
  TargetOutcome outcome = connect_target(target, settings);
  if (!flags.save_chain.empty() && !outcome.record.peer_chain.empty()) {
    auto saved = save_chain(flags.save_chain, outcome.record.peer_chain);
    if (!saved) return fail_input(saved.error().message);
  }
  return emit_report(outcome.report, flags.report);
}

// Many targets: each one's report is written as it finishes (JSON, JUnit) and
// not kept, so a long targets file does not fill memory.
int run_many(const ConnectFlags& flags, const fleet::FleetOptions& fleet,
             const ConnectSettings& settings) {
  // The exposition has one set of series per probe; many targets are what
  // `mtlsprobe exporter` is for (Prometheus asks for each).
  if (report_format(flags.report) == report::Format::prometheus)
    return fail_input(
        "--format prometheus takes one target; for many, run `mtlsprobe exporter` and let "
        "Prometheus ask for each");
  std::ofstream file;
  if (!flags.report.output.empty()) {
    file.open(flags.report.output, std::ios::binary | std::ios::trunc);
    if (!file) return fail_input(flags.report.output + ": cannot write the report");
  }
  std::ostream& out = flags.report.output.empty() ? std::cout : file;
  report::Report header = start_report("connect");
  header.strict = flags.report.strict;
  report::TargetStream stream(report_format(flags.report), text_options(flags.report), header, out);
  auto result = fleet::run_fleet(fleet, settings,
                                 [&](report::Report target) { stream.add(std::move(target)); });
  if (!result) return fail_input(result.error().message);
  result->generated_at = header.generated_at;
  const report::Report run = stream.finish(std::move(*result));
  if (!out) return fail_input(flags.report.output + ": cannot write the report");
  return report::exit_code(run);
}

int run_connect(const ConnectFlags& flags) {
  const bool many =
      !flags.targets_file.empty() || !flags.target_lines.empty() || !flags.srv.empty();
  if (flags.target.empty() && !many)
    return fail_input("connect: give a target HOST[:PORT], --targets FILE or --srv");
  if (many && !flags.dial.connect_to.empty())
    return fail_input("--connect-to dials one target; it cannot be used with --targets or --srv");
  if (many && !flags.save_chain.empty())
    return fail_input(
        "--save-chain saves one target's chain; it cannot be used with --targets or --srv");

  fleet::FleetOptions fleet;
  fleet.first_address = flags.first_address;
  fleet.concurrency = flags.concurrency;
  fleet.expect_name = flags.dial.expect_name;
  const bool terminal = isatty(STDERR_FILENO) != 0;
  using Progress = fleet::FleetOptions::Progress;
  fleet.progress = flags.progress == "never"    ? Progress::none
                   : terminal                   ? Progress::redrawn
                   : flags.progress == "always" ? Progress::lines
                                                : Progress::none;
  auto dns = dns_options(flags);
  if (!dns) return fail_input(dns.error().message);
  fleet.dns = *dns;
  if (!flags.srv.empty()) {
    // federation / internal are asked for under the domain given as target.
    auto name = fleet::srv_name(flags.srv, flags.target);
    if (!name) return fail_input(name.error().message);
    if (flags.srv[0] != '_' && flags.target.empty())
      return fail_input("--srv " + flags.srv + ": give the domain as target");
    fleet.srv = *name;
  } else if (!flags.target.empty()) {
    auto spec = fleet::parse_target_line(flags.target, 5061);
    if (!spec) return fail_input(spec.error().message);
    spec->sni = flags.dial.sni;
    spec->origin = "command line";
    fleet.targets.push_back(*spec);
  }
  for (const std::string& line : flags.target_lines) {
    auto spec = fleet::parse_target_line(line, 5061);
    if (!spec) return fail_input("--target " + line + ": " + spec.error().message);
    spec->origin = "--target";
    fleet.targets.push_back(*spec);
  }
  if (!flags.targets_file.empty()) {
    auto specs = fleet::read_targets_file(flags.targets_file, 5061);
    if (!specs) return fail_input(specs.error().message);
    fleet.targets.insert(fleet.targets.end(), specs->begin(), specs->end());
  }
  if (fleet.targets.size() > fleet::kMaxTargets)
    return fail_input("more than " + std::to_string(fleet::kMaxTargets) +
                      " targets; split them into several runs");

  const Side us = flags.dial.role == "lync" ? Side::lync : Side::bems;
  auto store = load_store_or_report(flags.dial.store, side_name(us));
  if (!store) return report::kExitBadInput;
  RevocationMemo memo;
  auto settings = connect_settings(flags, *store, memo);
  if (!settings) return fail_input(settings.error().message);

  if (!many) {
    const fleet::TargetSpec& spec = fleet.targets.front();
    ConnectTarget target;
    target.host = spec.host;
    target.port = spec.port;
    target.sni = flags.dial.sni;
    target.expect_name = flags.dial.expect_name;
    if (!flags.dial.connect_to.empty()) {
      auto other = parse_host_port(flags.dial.connect_to, spec.port);
      if (!other) return fail_input("--connect-to: " + other.error().message);
      target.dial_address = other->host;
      target.dial_port = other->port;
    }
    if (!flags.dial.connect_to.empty() || flags.first_address || is_ip_literal(spec.host))
      return run_single(flags, target, *settings, std::nullopt);
    // A name: every address it has. One address is today's single report.
    auto answer = tls::resolve_addresses(spec.host, fleet.dns);
    if (answer.addresses.empty()) {
      tls::HandshakeRecord record;
      record.target = target_label(target);
      record.error = tls::HandshakeError::dns_failure;
      record.error_message = answer.message;
      return run_single(flags, target, *settings, record);
    }
    if (answer.addresses.size() == 1) {
      target.dial_address = answer.addresses.front();
      return run_single(flags, target, *settings, std::nullopt);
    }
    if (!flags.save_chain.empty())
      return fail_input("--save-chain: " + spec.host + " has " +
                        std::to_string(answer.addresses.size()) +
                        " addresses; choose one with --connect-to");
  }
  return run_many(flags, fleet, *settings);
}

}  // namespace

void add_connect_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ConnectFlags>();
  auto* command = app.add_subcommand(
      "connect",
      "Live: dial a Lync/Skype pool (or a BEMS server with --role lync), perform a real mutual-TLS "
      "handshake with our certificate, and explain what each side presented and why it failed.\n"
      "Example: mtlsprobe connect lyncpool.example.com:5061 --store bems-store");
  command->add_option("target", flags->target,
                      "HOST[:PORT] of the peer (port 5061 by default); every address of a name is "
                      "tested. With --srv federation|internal: the domain");
  const std::string fleet_group = "Many servers";
  command
      ->add_option("--targets", flags->targets_file,
                   "File of targets, one `host[:port] [sni=NAME] [role=bems|lync]` a line, # "
                   "comments")
      ->group(fleet_group);
  command
      ->add_option("--target", flags->target_lines,
                   "Another target line (repeatable; a `target = [...]` list in the config file)")
      ->group(fleet_group);
  command
      ->add_option("--srv", flags->srv,
                   "Test every server an SRV record names: federation "
                   "(_sipfederationtls._tcp.DOMAIN), internal (_sipinternaltls._tcp.DOMAIN) or "
                   "_service._proto.domain")
      ->group(fleet_group);
  command
      ->add_option("--dns-server", flags->dns_servers,
                   "Ask this DNS server, ADDR[:PORT] (repeatable; split-horizon: inside and "
                   "outside views differ); default: the system's")
      ->group(fleet_group);
  command
      ->add_flag("--first-address", flags->first_address,
                 "Dial each name once, keeping the first address that accepts TCP (do not test "
                 "every address)")
      ->group(fleet_group);
  command->add_option("--concurrency", flags->concurrency, "Targets tested at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str()
      ->group(fleet_group);
  command
      ->add_option("--progress", flags->progress,
                   "Targets done and failing so far, on stderr (never in the report): auto (when "
                   "stderr is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str()
      ->group(fleet_group);
  add_dial_flags(command, flags->dial);
  command->add_option("--save-chain", flags->save_chain,
                      "Save the peer's chain as presented: one PEM per certificate plus chain.pem");
  command
      ->add_option("--verdict-wait", flags->verdict_wait_seconds,
                   "TLS 1.3: seconds to wait after the handshake for the server's verdict on our "
                   "certificate (a late alert); 0 skips the wait")
      ->check(CLI::Range(0.0, 30.0))
      ->capture_default_str();
  add_live_flags(command, flags->live);
  add_revocation_flags(command, flags->revocation);
  add_sip_connect_flags(command, flags->sip);
  add_report_flags(command, flags->report);
  command->callback([flags, &action] { action = [flags] { return run_connect(*flags); }; });
}

}  // namespace probe
