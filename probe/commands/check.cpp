// `mtlsprobe check`: the offline evaluation of both sides' stores.
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/online/missing_issuer.hpp"
#include "probe/rules/requirements.hpp"
#include "probe/rules/revocation_findings.hpp"

namespace probe {
namespace {

struct CheckFlags {
  StoreFlags bems;
  StoreFlags lync;
  std::string pool;
  std::vector<std::string> instances;
  int warn_days = 30;
  RevocationFlags revocation;
  ReportFlags report;
};

int run_check(const CheckFlags& flags) {
  if (flags.bems.empty())
    return fail_input(
        "check needs the BEMS side: --store DIR (or --cert/--key/--pfx and --trusted-root)");
  auto bems = load_store_or_report(flags.bems, "BEMS");
  if (!bems) return report::kExitBadInput;
  std::optional<tls::Store> lync;
  if (!flags.lync.empty()) {
    lync = load_store_or_report(flags.lync, "Lync/Skype");
    if (!lync) return report::kExitBadInput;
  }
  for (const auto& name : flags.instances)
    if (!tls::is_valid_fqdn(name))
      return fail_input("--instance " + name + ": not a fully qualified domain name");
  if (!flags.pool.empty() && !tls::is_valid_fqdn(flags.pool))
    return fail_input("--pool " + flags.pool + ": not a fully qualified domain name");

  OfflineInputs inputs;
  inputs.bems = &*bems;
  inputs.lync = lync ? &*lync : nullptr;
  if (!flags.pool.empty()) inputs.pool = flags.pool;
  inputs.instances = flags.instances;
  inputs.warn_days = flags.warn_days;

  report::Report result = start_report("check");
  result.sections.push_back(store_section(
      "BEMS store" + (flags.bems.store.empty() ? "" : " " + flags.bems.store), *bems));
  result.facts["bems"] = store_json(*bems);
  if (lync) {
    result.sections.push_back(store_section(
        "Lync/Skype store" + (flags.lync.store.empty() ? "" : " " + flags.lync.store), *lync));
    result.facts["lync"] = store_json(*lync);
  }
  result.findings = evaluate_offline(inputs);
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return fail_input(revocation.error().message);
  boost::json::object revocation_facts;
  RevocationMemo memo;
  auto bems_revocation =
      check_chain_revocation(Side::bems, side_chain(inputs, Side::bems), *revocation, {}, &memo);
  result.findings.push_back(bems_revocation.finding);
  revocation_facts["bems"] = std::move(bems_revocation.certificates);
  if (lync) {
    auto lync_revocation =
        check_chain_revocation(Side::lync, side_chain(inputs, Side::lync), *revocation, {}, &memo);
    result.findings.push_back(lync_revocation.finding);
    revocation_facts["lync"] = std::move(lync_revocation.certificates);
  }
  result.facts["revocation"] = std::move(revocation_facts);
  if (!flags.revocation.no_aia) {
    const auto at_hand = certificates_at_hand(*bems);
    if (bems->leaf)
      add_missing_issuer_location(result.findings, Side::bems, bems->leaf->certificate, at_hand,
                                  revocation->http);
    if (lync && lync->leaf)
      add_missing_issuer_location(result.findings, Side::lync, lync->leaf->certificate, at_hand,
                                  revocation->http);
  }
  return emit_report(result, flags.report);
}

}  // namespace

void add_check_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<CheckFlags>();
  auto* command =
      app.add_subcommand("check",
                         "Offline: evaluate the BEMS store (and the Lync/Skype pool's store) "
                         "against every MTLS certificate "
                         "requirement, before anything is deployed.\n"
                         "Example: mtlsprobe check --store lab/bems --peer-store lab/lync --pool "
                         "bemsapppool.example.com "
                         "--instance bemsserver01.example.com --instance bemsserver02.example.com");
  add_store_flags(command, flags->bems, "", "BEMS");
  add_store_flags(command, flags->lync, "peer-", "Lync/Skype pool");
  command->add_option(
      "--pool", flags->pool,
      "Trusted application pool FQDN (New-CsTrustedApplicationPool); default: the BEMS CN");
  command
      ->add_option("--instance", flags->instances,
                   "FQDN of a BEMS instance (repeat for each server)")
      ->delimiter(',');
  command
      ->add_option("--warn-days", flags->warn_days, "Warn when a certificate expires within N days")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_revocation_flags(command, flags->revocation);
  add_report_flags(command, flags->report);
  command->callback([flags, &action] { action = [flags] { return run_check(*flags); }; });
}

}  // namespace probe
