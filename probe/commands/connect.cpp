// `mtlsprobe connect HOST[:PORT]`: a real mutual-TLS handshake as the BEMS
// (or Lync) side against a live peer, diagnosed against the requirements.
#include <fstream>
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/handshake.hpp"
#include "probe/diagnosis/handshake_facts.hpp"
#include "probe/online/checks.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/rules/rules.hpp"

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

tls::Status save_chain(const std::string& folder, const std::vector<tls::Certificate>& chain) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return tls::Error{folder + ": cannot create folder: " + ec.message()};
  std::string all;
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string pem = chain[i].pem();
    all += pem;
    std::ofstream out(std::filesystem::path(folder) / ("cert" + std::to_string(i) + ".pem"));
    out << pem;
    if (!out) return tls::Error{folder + ": cannot write cert" + std::to_string(i) + ".pem"};
  }
  std::ofstream out(std::filesystem::path(folder) / "chain.pem");
  out << all;
  if (!out) return tls::Error{folder + ": cannot write chain.pem"};
  return tls::Done{};
}

int run_connect(const ConnectFlags& flags) {
  auto target = parse_host_port(flags.target, 5061);
  if (!target) return fail_input(target.error().message);
  HostPort dial = *target;
  if (!flags.connect_to.empty()) {
    auto other = parse_host_port(flags.connect_to, target->port);
    if (!other) return fail_input("--connect-to: " + other.error().message);
    dial = *other;
  }
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return fail_input(revocation.error().message);
  auto range = tls_range(flags.live);
  if (!range) return fail_input(range.error().message);
  Side us = flags.role == "lync" ? Side::lync : Side::bems;
  auto store = load_store_or_report(flags.store, side_name(us));
  if (!store) return report::kExitBadInput;

  tls::ClientOptions options;
  options.host = dial.host;
  options.port = dial.port;
  // RFC 6066: SNI carries host names only, never address literals.
  options.sni =
      !flags.sni.empty() ? flags.sni : (is_ip_literal(target->host) ? std::string() : target->host);
  options.min_version = range->first;
  options.max_version = range->second;
  auto timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.live.timeout_seconds * 1000));
  options.connect_timeout = timeout;
  options.handshake_timeout = timeout;
  options.credentials = credentials_from(*store);
  options.trust = trust_from(*store);

  std::cerr << "mtlsprobe: connecting to " << dial.host << ":" << dial.port
            << (options.sni.empty() ? "" : " (SNI " + options.sni + ")") << " as " << side_name(us)
            << "...\n";
  options.verdict_wait =
      std::chrono::milliseconds(static_cast<long long>(flags.verdict_wait_seconds * 1000));
  if (flags.sip.enabled()) options.verdict_wait = std::min(options.verdict_wait, timeout);
  tls::ClientSession session = tls::connect_client(options);
  std::optional<SipProbeResult> sip;
  if (flags.sip.enabled())
    sip = run_sip_probe(session, flags.sip,
                        flags.expect_name.empty() ? target->host : flags.expect_name, target->port,
                        timeout);
  tls::HandshakeRecord record = sip ? sip->record : session.record;
  if (session.connection) {
    session.connection->close();
    record.alerts = session.connection->record().alerts;  // alerts that came with the close
  }
  record.target =
      target->host + ":" + std::to_string(target->port) +
      (flags.connect_to.empty() ? "" : " via " + dial.host + ":" + std::to_string(dial.port));

  if (!flags.save_chain.empty() && !record.peer_chain.empty()) {
    auto saved = save_chain(flags.save_chain, record.peer_chain);
    if (!saved) return fail_input(saved.error().message);
  }

  LiveContext context;
  context.us = us;
  context.ours = &*store;
  context.expected_name = flags.expect_name.empty() ? target->host : flags.expect_name;
  if (!flags.live.pool.empty()) context.pool = flags.live.pool;
  context.instances = flags.live.instances;
  context.warn_days = flags.live.warn_days;

  report::Report result = start_report("connect");
  result.sections.push_back(handshake_section("Handshake with " + record.target, record));
  result.facts["handshake"] = handshake_json(record);
  result.facts["store"] = store_json(*store);
  result.findings = diagnose_handshake(record, context);
  // As BEMS with the topology's names given, our own certificate's names are
  // judged too: the pool and every instance must be in what we present.
  if (us == Side::bems && store->leaf && (context.pool || !context.instances.empty())) {
    const tls::Certificate& leaf = store->leaf->certificate;
    result.findings.push_back(rules::subject_cn(leaf.info(), context.pool));
    if (context.pool) result.findings.push_back(rules::san_pool(leaf, *context.pool, false));
    if (!context.instances.empty())
      result.findings.push_back(rules::san_instances(leaf, context.instances));
  }
  // Both chains, as far as they could be built: ours from our store, the
  // peer's as our verification built it (or as it arrived).
  RevocationMemo memo;
  check_own_chain_online(record, us, *store, flags.revocation, *revocation, result, &memo);
  check_peer_chain_online(record, us == Side::bems ? Side::lync : Side::bems, *store,
                          flags.revocation, *revocation, result, &memo);
  if (sip) {
    result.sections.push_back(sip->section);
    result.facts["sip"] = sip->facts;
    result.findings.insert(result.findings.end(), sip->findings.begin(), sip->findings.end());
  }
  return emit_report(result, flags.report);
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
