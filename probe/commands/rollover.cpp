// `mtlsprobe rollover`: the next BEMS certificate judged beside the current
// one before the switch: every check rule on both, a side-by-side table of
// what matters to MTLS, each difference classified.
#include "probe/rules/rollover.hpp"

#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/handshake_facts.hpp"
#include "probe/online/connect_target.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/online/loopback.hpp"
#include "probe/online/missing_issuer.hpp"
#include "probe/rules/requirements.hpp"
#include "probe/rules/revocation_findings.hpp"
#include "tls/dns_name.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

struct RolloverFlags {
  StoreFlags current;
  StoreFlags next;
  StoreFlags lync;
  std::string pool;
  std::vector<std::string> instances;
  int warn_days = 30;
  std::string at;
  std::string live;        // HOST[:PORT] of the real pool
  std::string connect_to;  // ADDR[:PORT] to dial instead, keeping HOST for SNI and names
  std::vector<std::string> dns_servers;
  bool first_address = false;  // dial HOST once by name, not each of its addresses
  double timeout_seconds = 10;
  double verdict_wait_seconds = 1.5;
  SipConnectFlags sip;
  RevocationFlags revocation;
  ReportFlags report;
};

std::string store_label(const StoreFlags& flags) {
  if (!flags.store.empty()) return flags.store;
  if (!flags.pfx.empty()) return flags.pfx;
  if (!flags.cert.empty()) return flags.cert;
  return "the files given";
}

// A renewal usually replaces only the personal certificate: what the next
// store does not hold itself (its roots, its intermediates) is the current
// store's, as it will be on the day of the switch.
std::vector<std::string> inherit_from(const tls::Store& current, tls::Store& next) {
  std::vector<std::string> inherited;
  if (next.trusted_roots.empty()) {
    next.trusted_roots = current.trusted_roots;
    inherited.push_back("trusted-root/");
  }
  if (next.intermediates.empty()) {
    next.intermediates = current.intermediates;
    inherited.push_back("intermediate/");
  }
  next.system_roots = next.system_roots || current.system_roots;
  return inherited;
}

struct SideRun {
  std::vector<report::Finding> findings;
  std::vector<tls::Certificate> chain;
  boost::json::array revocation;
};

SideRun run_rules(const OfflineInputs& inputs, const tls::RevocationOptions& revocation,
                  RevocationMemo& memo, const RevocationCheck& lync_revocation) {
  SideRun run;
  run.findings = evaluate_offline(inputs);
  run.chain = side_chain(inputs, Side::bems);
  auto bems_revocation = check_chain_revocation(Side::bems, run.chain, revocation, {}, &memo);
  run.findings.push_back(bems_revocation.finding);
  run.revocation = std::move(bems_revocation.certificates);
  if (inputs.lync) run.findings.push_back(lync_revocation.finding);
  return run;
}

// Where the live rehearsal dials: each address of the pool's name (each
// Front End behind it may trust other CAs), or the one --connect-to gives.
struct LiveDial {
  ConnectTarget target;
  std::string address;                             // as dialled: names the rows
  std::optional<tls::HandshakeRecord> unresolved;  // the name did not resolve
};

// A handshake pair each, one after the other: a bound on the run's length.
constexpr std::size_t kMaxLiveAddresses = 16;

std::vector<LiveDial> live_dials(const ConnectTarget& target, const RolloverFlags& flags,
                                 const tls::DnsOptions& dns, std::string& note) {
  if (!target.dial_address.empty() || flags.first_address || is_ip_literal(target.host))
    return {{target, target.dial_address.empty() ? target.host : target.dial_address, {}}};
  const tls::AddressAnswer answer = tls::resolve_addresses(target.host, dns);
  if (answer.addresses.empty()) {
    tls::HandshakeRecord record;
    record.role = tls::HandshakeRole::client;
    record.target = target_label(target);
    record.error = tls::HandshakeError::dns_failure;
    record.error_message = answer.message;
    note = answer.message;
    return {{target, target.host, record}};
  }
  std::vector<LiveDial> dials;
  for (const auto& address : answer.addresses) {
    if (dials.size() == kMaxLiveAddresses) {
      note = "the first " + std::to_string(kMaxLiveAddresses) + " of " +
             std::to_string(answer.addresses.size()) + " addresses";
      break;
    }
    LiveDial dial{target, address, {}};
    dial.target.dial_address = address;
    dials.push_back(std::move(dial));
  }
  return dials;
}

// The pool dialling BEMS, where its store is known: one loopback handshake
// with BEMS's current certificate and one with the next, the pool's
// credentials and trust on the client side.
struct ReverseRuns {
  LoopbackHandshake current, next;
};

ReverseRuns rehearse_reverse(const tls::Store& lync, const tls::Store& current,
                             const tls::Store& next, const std::string& pool,
                             std::chrono::milliseconds timeout) {
  LoopbackOptions options;
  options.timeout = timeout;
  std::cerr << "mtlsprobe: the pool's store dials BEMS on 127.0.0.1, current then next...\n";
  ReverseRuns runs;
  runs.current = run_loopback_handshake(lync, current, pool, options);
  runs.next = run_loopback_handshake(lync, next, pool, options);
  return runs;
}

ReverseDial reverse_dial(const LoopbackHandshake& run, const std::vector<tls::Certificate>& chain) {
  return {&run.client, run.server ? &*run.server : nullptr, &chain};
}

boost::json::object loopback_json(const LoopbackHandshake& run) {
  boost::json::object out;
  out["pool"] = handshake_json(run.client);
  if (run.server)
    out["bems"] = handshake_json(*run.server);
  else
    out["bems"] = nullptr;
  return out;
}

int run_rollover(const RolloverFlags& flags) {
  if (flags.current.empty())
    return fail_input("rollover needs the current BEMS store: --store DIR (or --cert/--pfx)");
  if (flags.next.empty() && flags.next.key.empty())
    return fail_input(
        "rollover needs the next certificate: --next-store DIR, --next-pfx FILE or --next-cert "
        "FILE --next-key FILE");
  auto current = load_store_or_report(flags.current, "current BEMS");
  if (!current) return report::kExitBadInput;
  auto next = load_store_or_report(flags.next, "next BEMS");
  if (!next) return report::kExitBadInput;
  std::optional<tls::Store> lync;
  if (!flags.lync.empty()) {
    lync = load_store_or_report(flags.lync, "Lync/Skype");
    if (!lync) return report::kExitBadInput;
  }
  if (!current->leaf)
    return fail_input("current BEMS store " + store_label(flags.current) +
                      ": no certificate in personal/ to compare with");
  if (!next->leaf)
    return fail_input("next BEMS store " + store_label(flags.next) +
                      ": no certificate to judge (give --next-store, --next-pfx or --next-cert)");
  for (const auto& name : flags.instances)
    if (!tls::is_valid_fqdn(name))
      return fail_input("--instance " + name + ": not a fully qualified domain name");
  if (!flags.pool.empty() && !tls::is_valid_fqdn(flags.pool))
    return fail_input("--pool " + flags.pool + ": not a fully qualified domain name");
  std::optional<tls::Clock::time_point> at;
  if (!flags.at.empty()) {
    at = parse_switch_date(flags.at);
    if (!at)
      return fail_input("--at " + flags.at +
                        ": not a date; give YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
  }
  std::optional<ConnectTarget> live_target;
  if (!flags.live.empty()) {
    auto parsed = parse_host_port(flags.live, 5061);
    if (!parsed) return fail_input("--live: " + parsed.error().message);
    live_target.emplace();
    live_target->host = parsed->host;
    live_target->port = parsed->port;
    if (!flags.connect_to.empty()) {
      auto other = parse_host_port(flags.connect_to, parsed->port);
      if (!other) return fail_input("--connect-to: " + other.error().message);
      live_target->dial_address = other->host;
      live_target->dial_port = other->port;
    }
  }
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return fail_input(revocation.error().message);
  const auto live_timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  auto dns = dns_options_from(flags.dns_servers, live_timeout);
  if (!dns) return fail_input(dns.error().message);
  const auto inherited = inherit_from(*current, *next);

  // The current certificate describes what is deployed: without --pool and
  // --instance, its CN and SAN name the pool and the instances to keep.
  const auto& current_info = current->leaf->certificate.info();
  const std::string pool = flags.pool.empty() ? current_info.common_name : flags.pool;
  const bool instances_from_current = flags.instances.empty();
  const std::vector<std::string> instances =
      instances_from_current ? instances_from_san(current_info, pool) : flags.instances;

  const auto now = tls::Clock::now();
  OfflineInputs today;
  today.bems = &*current;
  today.lync = lync ? &*lync : nullptr;
  if (!pool.empty()) today.pool = pool;
  today.instances = instances;
  today.warn_days = flags.warn_days;
  today.now = now;
  OfflineInputs after = today;
  after.bems = &*next;
  after.now = at.value_or(now);

  RevocationMemo memo;
  RevocationCheck lync_revocation;
  if (lync)
    lync_revocation =
        check_chain_revocation(Side::lync, side_chain(today, Side::lync), *revocation, {}, &memo);
  SideRun current_run = run_rules(today, *revocation, memo, lync_revocation);
  SideRun next_run = run_rules(after, *revocation, memo, lync_revocation);

  RolloverInputs inputs;
  inputs.current = {&*current, current_run.chain, current_run.findings};
  inputs.next = {&*next, next_run.chain, next_run.findings};
  inputs.peer = lync ? &*lync : nullptr;
  inputs.peer_store_name = lync ? "--peer-store " + store_label(flags.lync) : "";
  inputs.pool = pool;
  inputs.instances = instances;
  inputs.instances_from_current = instances_from_current;
  inputs.now = now;
  inputs.switch_at = at;
  RolloverVerdict verdict = judge_rollover(inputs);
  std::optional<boost::json::object> live_facts;
  std::string live_plan, reverse_plan;

  if (live_target) {
    const ConnectTarget& target = *live_target;
    // The same handshake twice, only the BEMS store differs: nothing
    // deployed is touched, and the peer judges each chain as it will on the day.
    ConnectSettings settings;
    settings.us = Side::bems;
    settings.timeout = live_timeout;
    settings.verdict_wait =
        std::chrono::milliseconds(static_cast<long long>(flags.verdict_wait_seconds * 1000));
    if (!pool.empty()) settings.pool = pool;
    settings.instances = instances;
    settings.warn_days = flags.warn_days;
    settings.revocation = flags.revocation;
    settings.revocation_options = *revocation;
    settings.memo = &memo;
    settings.sip = flags.sip;
    if (settings.sip.presence_format.empty()) settings.sip.presence_format = "msrtc";
    std::string note;
    const std::vector<LiveDial> dials = live_dials(target, flags, *dns, note);
    auto run = [&](const LiveDial& dial, const tls::Store& store) {
      settings.store = &store;
      if (dial.unresolved) return diagnose_target(*dial.unresolved, dial.target, settings);
      report::Report report = connect_target(dial.target, settings).report;
      settings.announce = false;
      return report;
    };
    std::vector<std::pair<report::Report, report::Report>> reports;
    for (const auto& dial : dials) {
      report::Report with_current = run(dial, *current);
      reports.emplace_back(std::move(with_current), run(dial, *next));
    }
    std::vector<LiveRehearsal> rehearsals;
    boost::json::array addresses;
    std::vector<std::string> dialled;
    for (std::size_t i = 0; i < dials.size(); ++i) {
      rehearsals.push_back({target_label(dials[i].target), dials[i].address, &reports[i].first,
                            &reports[i].second, flags.sip.enabled()});
      addresses.push_back({{"target", target_label(dials[i].target)},
                           {"current", reports[i].first.facts},
                           {"next", reports[i].second.facts}});
      dialled.push_back(dials[i].address);
    }
    // The other direction needs the pool's own key and trust: with them, a
    // loopback rehearsal shows what the pool does when it dials BEMS.
    std::optional<ReverseRuns> reverse_runs;
    reverse_plan = "not rehearsed: give --peer-store with the pool's key";
    if (lync && credentials_from(*lync)) {
      reverse_runs = rehearse_reverse(*lync, *current, *next, pool, live_timeout);
      reverse_plan = "the pool's store dials BEMS on 127.0.0.1, current then next";
    } else if (lync) {
      reverse_plan = "not rehearsed: --peer-store holds no key for the pool's certificate";
    }
    std::optional<ReverseRehearsal> reverse;
    if (reverse_runs)
      reverse = ReverseRehearsal{reverse_dial(reverse_runs->current, current_run.chain),
                                 reverse_dial(reverse_runs->next, next_run.chain),
                                 inputs.peer_store_name};
    judge_live(target_label(target), rehearsals, reverse, verdict);
    boost::json::object live;
    if (reverse_runs)
      live["reverse"] = {{"current", loopback_json(reverse_runs->current)},
                         {"next", loopback_json(reverse_runs->next)}};
    live["target"] = target_label(target);
    if (reports.size() == 1) {
      live["current"] = reports.front().first.facts;
      live["next"] = reports.front().second.facts;
    }
    live["addresses"] = std::move(addresses);
    live_facts = std::move(live);
    live_plan = target_label(target) + ": " + tls::joined(dialled) +
                (note.empty() ? std::string() : " (" + note + ")");
  }

  if (!flags.revocation.no_aia && next->leaf)
    add_missing_issuer_location(verdict.findings, Side::bems, next->leaf->certificate,
                                certificates_at_hand(*next), revocation->http);

  report::Report result = start_report("rollover");
  report::Section plan{"Rollover", {}};
  plan.lines.emplace_back("current", store_label(flags.current));
  plan.lines.emplace_back(
      "next", store_label(flags.next) +
                  (inherited.empty()
                       ? std::string()
                       : " (with the current store's " + tls::joined(inherited, " and ") + ")"));
  plan.lines.emplace_back("peer",
                          lync ? store_label(flags.lync) : "(none: --peer-store not given)");
  plan.lines.emplace_back("pool", pool + (flags.pool.empty() ? " (the current CN)" : ""));
  plan.lines.emplace_back(
      "instances",
      (instances.empty() ? "(none)" : tls::joined(instances)) +
          (instances_from_current ? " (from the current SAN; --instance to name them)" : ""));
  plan.lines.emplace_back("switch", at ? rfc3339(*at) : "now (--at DATE for a planned date)");
  if (!live_plan.empty()) plan.lines.emplace_back("live", live_plan);
  if (!reverse_plan.empty()) plan.lines.emplace_back("pool -> BEMS", reverse_plan);
  result.sections.push_back(std::move(plan));

  result.facts["bems_current"] = store_json(*current);
  result.facts["bems_next"] = store_json(*next);
  if (lync) result.facts["lync"] = store_json(*lync);
  boost::json::object revocation_facts;
  revocation_facts["bems_current"] = std::move(current_run.revocation);
  revocation_facts["bems_next"] = std::move(next_run.revocation);
  if (lync) revocation_facts["lync"] = std::move(lync_revocation.certificates);
  result.facts["revocation"] = std::move(revocation_facts);
  if (live_facts) result.facts["live"] = std::move(*live_facts);
  result.findings = std::move(verdict.findings);
  result.comparison = std::move(verdict.comparison);
  return emit_report(result, flags.report);
}

}  // namespace

void add_rollover_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<RolloverFlags>();
  auto* command = app.add_subcommand(
      "rollover",
      "Before a renewal: judge the next BEMS certificate beside the current one with every check "
      "rule, compare what matters to MTLS side by side, and classify each difference as "
      "breaking, risky or neutral.\n"
      "Example: mtlsprobe rollover --store lab/bems --next-store lab/next --peer-store lab/lync "
      "--at 2027-03-01");
  add_store_flags(command, flags->current, "", "current BEMS");
  add_store_flags(command, flags->next, "next-", "next BEMS");
  add_store_flags(command, flags->lync, "peer-", "Lync/Skype pool");
  command->add_option("--pool", flags->pool,
                      "Trusted application pool FQDN; default: the current certificate's CN");
  command
      ->add_option("--instance", flags->instances,
                   "FQDN of a BEMS instance (repeat); default: the current certificate's SAN "
                   "names other than the pool")
      ->delimiter(',');
  command
      ->add_option("--warn-days", flags->warn_days, "Warn when a certificate expires within N days")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--at", flags->at,
                      "Planned switch date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC): the next "
                      "certificate is judged valid or not then; default: now");
  const std::string live = "Live rehearsal";
  command
      ->add_option("--live", flags->live,
                   "HOST[:PORT] of the real Lync/Skype pool (5061 by default): one real MTLS "
                   "handshake with the current certificate and one with the next, side by side")
      ->group(live);
  command
      ->add_option("--connect-to", flags->connect_to,
                   "Dial ADDR[:PORT] instead of HOST, keeping HOST for SNI and name checks")
      ->group(live);
  command
      ->add_option("--dns-server", flags->dns_servers,
                   "Resolve HOST at this DNS server, ADDR[:PORT] (repeatable); default: the "
                   "system's. Each address of HOST is rehearsed")
      ->group(live);
  command
      ->add_flag("--first-address", flags->first_address,
                 "Dial HOST once by name instead of each of its addresses")
      ->group(live);
  command
      ->add_option("--timeout", flags->timeout_seconds,
                   "Seconds for the TCP connect and for the handshake, each")
      ->check(CLI::Range(0.1, 300.0))
      ->capture_default_str()
      ->group(live);
  command
      ->add_option("--verdict-wait", flags->verdict_wait_seconds,
                   "TLS 1.3: seconds to wait after the handshake for the pool's verdict on our "
                   "certificate")
      ->check(CLI::Range(0.0, 30.0))
      ->capture_default_str()
      ->group(live);
  add_revocation_flags(command, flags->revocation);
  add_sip_connect_flags(command, flags->sip);
  add_report_flags(command, flags->report);
  command->callback([flags, &action] {
    if (!flags->connect_to.empty() && flags->live.empty())
      throw CLI::ValidationError("--connect-to", "needs --live HOST[:PORT]");
    if (flags->sip.enabled() && flags->live.empty())
      throw CLI::ValidationError("--sip", "needs --live HOST[:PORT]");
    if ((!flags->dns_servers.empty() || flags->first_address) && flags->live.empty())
      throw CLI::ValidationError("--dns-server/--first-address", "needs --live HOST[:PORT]");
    if (!flags->dns_servers.empty() && !flags->connect_to.empty())
      throw CLI::ValidationError("--dns-server", "excludes --connect-to (which names the address)");
    action = [flags] { return run_rollover(*flags); };
  });
}

}  // namespace probe
