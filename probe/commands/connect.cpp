// `mtlsprobe connect HOST[:PORT]`: a real mutual-TLS handshake as the BEMS
// (or Lync) side against a live peer, diagnosed against the requirements.
#include <fstream>
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/online/connect_target.hpp"
#include "probe/online/endpoint.hpp"

namespace probe {
namespace {

struct ConnectFlags {
  std::string target;
  std::string role = "bems";
  StoreFlags store;
  std::string sni;
  std::string expect_name;
  std::string connect_to;
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

int run_connect(const ConnectFlags& flags) {
  auto parsed = parse_host_port(flags.target, 5061);
  if (!parsed) return fail_input(parsed.error().message);
  ConnectTarget target;
  target.host = parsed->host;
  target.port = parsed->port;
  target.sni = flags.sni;
  target.expect_name = flags.expect_name;
  if (!flags.connect_to.empty()) {
    auto other = parse_host_port(flags.connect_to, parsed->port);
    if (!other) return fail_input("--connect-to: " + other.error().message);
    target.dial_address = other->host;
    target.dial_port = other->port;
  }
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return fail_input(revocation.error().message);
  auto range = tls_range(flags.live);
  if (!range) return fail_input(range.error().message);
  ConnectSettings settings;
  settings.us = flags.role == "lync" ? Side::lync : Side::bems;
  auto store = load_store_or_report(flags.store, side_name(settings.us));
  if (!store) return report::kExitBadInput;
  RevocationMemo memo;
  settings.store = &*store;
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
  if (settings.sip.presence_format.empty())
    settings.sip.presence_format = settings.us == Side::bems ? "msrtc" : "pidf";

  TargetOutcome outcome = connect_target(target, settings);
  if (!flags.save_chain.empty() && !outcome.record.peer_chain.empty()) {
    auto saved = save_chain(flags.save_chain, outcome.record.peer_chain);
    if (!saved) return fail_input(saved.error().message);
  }
  return emit_report(outcome.report, flags.report);
}

}  // namespace

void add_connect_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ConnectFlags>();
  auto* command = app.add_subcommand(
      "connect",
      "Live: dial a Lync/Skype pool (or a BEMS server with --role lync), perform a real mutual-TLS "
      "handshake with our certificate, and explain what each side presented and why it failed.\n"
      "Example: mtlsprobe connect lyncpool.example.com:5061 --store bems-store");
  command->add_option("target", flags->target, "HOST[:PORT] of the peer (port 5061 by default)")
      ->required();
  command
      ->add_option("--role", flags->role, "Our role: bems (dial the Lync pool) or lync (dial BEMS)")
      ->check(CLI::IsMember({"bems", "lync"}))
      ->capture_default_str();
  add_store_flags(command, flags->store, "", "our endpoint");
  command->add_option("--sni", flags->sni, "Server name to send (default: HOST when it is a name)");
  command->add_option("--expect-name", flags->expect_name,
                      "FQDN the peer's certificate must cover (default: HOST)");
  command->add_option(
      "--connect-to", flags->connect_to,
      "Dial ADDR[:PORT] instead, keeping HOST for SNI and name checks (labs, DNS trouble)");
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
