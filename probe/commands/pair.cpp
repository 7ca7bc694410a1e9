// `mtlsprobe pair`: both roles in one process over loopback - BEMS dials the
// Lync pool, then the Lync pool dials BEMS - each with its own store. With no
// stores given it builds a fresh lab PKI (optionally with one flaw) first.
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/diagnosis/handshake.hpp"
#include "probe/diagnosis/handshake_facts.hpp"
#include "probe/lab/pki.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/online/loopback.hpp"
#include "probe/rules/requirements.hpp"

namespace probe {
namespace {

struct PairFlags {
  std::string lab;
  std::string flaw;
  std::string key_type = "rsa2048";
  StoreFlags bems;
  StoreFlags lync;
  LiveFlags live;
  ReportFlags report;
};

struct Direction {
  std::string id;     // "bems-to-lync"
  std::string title;  // "BEMS dials the Lync/Skype pool"
  Side client;
};

void add_prefixed(std::vector<report::Finding>& into, std::vector<report::Finding> findings,
                  const std::string& prefix, const std::string& group) {
  for (auto& finding : findings) {
    finding.id = prefix + finding.id;
    finding.requirement = group + " - " + finding.requirement;
    into.push_back(std::move(finding));
  }
}

// A fresh lab PKI (with the --flaw, if any) in a new temporary folder.
mtls::Result<std::filesystem::path> build_temporary_lab(const PairFlags& flags) {
  std::string pattern = (std::filesystem::temp_directory_path() / "mtlsprobe-pair-XXXXXX").string();
  if (!mkdtemp(pattern.data())) return mtls::Error{"cannot create a temporary folder"};
  std::filesystem::path lab = pattern;
  LabOptions options;
  if (!flags.flaw.empty()) options.flaw = flags.flaw;
  options.key_type = flags.key_type == "ecdsa-p256" ? LabKeyType::ecdsa_p256 : LabKeyType::rsa2048;
  if (auto valid = validate_lab_options(options); !valid) return valid.error();
  std::cerr << "mtlsprobe: building a lab PKI"
            << (flags.flaw.empty() ? "" : " with flaw " + flags.flaw) << " in " << lab.string()
            << "\n";
  auto built = build_lab(lab, options);
  if (!built) return built.error();
  return lab;
}

// Where the two stores come from: the flags, a given lab, or a fresh lab in
// a temporary folder that is removed at the end.
struct PairStores {
  StoreFlags bems;
  StoreFlags lync;
  std::optional<std::filesystem::path> temporary_lab;
};

mtls::Result<PairStores> choose_stores(const PairFlags& flags) {
  PairStores stores{flags.bems, flags.lync, std::nullopt};
  if (stores.bems.empty() != stores.lync.empty())
    return mtls::Error{"give both --store and --peer-store, or neither (a fresh lab is built)"};
  if (!flags.lab.empty() && !stores.bems.empty())
    return mtls::Error{"--lab and --store/--peer-store exclude each other"};
  if (!stores.bems.empty()) return stores;
  std::filesystem::path lab = flags.lab;
  if (lab.empty()) {
    auto built = build_temporary_lab(flags);
    if (!built) return built.error();
    lab = *built;
    stores.temporary_lab = lab;
  } else if (!flags.flaw.empty()) {
    return mtls::Error{"--flaw builds a fresh lab; it cannot be combined with --lab"};
  }
  stores.bems.store = (lab / "bems").string();
  stores.lync.store = (lab / "lync").string();
  return stores;
}

// One direction's sections, facts and findings, the server's prefixed apart.
void report_direction(const Direction& direction, const LoopbackHandshake& run,
                      const LiveContext& client_view, const LiveContext& server_view,
                      report::Report& result, boost::json::array& facts) {
  result.sections.push_back(handshake_section(direction.title + ": client view", run.client));
  boost::json::object direction_facts;
  direction_facts["direction"] = direction.id.substr(0, direction.id.size() - 1);
  direction_facts["client"] = handshake_json(run.client);
  add_prefixed(result.findings, diagnose_handshake(run.client, client_view), direction.id,
               direction.title);
  if (run.server) {
    result.sections.push_back(handshake_section(direction.title + ": server view", *run.server));
    direction_facts["server"] = handshake_json(*run.server);
    std::vector<report::Finding> server_findings;
    for (auto& finding : diagnose_handshake(*run.server, server_view)) {
      // The client view already judged TCP, versions and the client's own
      // sending, and shows a rejection the client received.
      if (finding.id == id_text(FindingId::handshake_tcp) ||
          finding.id == id_text(FindingId::handshake_protocol) ||
          finding.id == id_text(FindingId::handshake_ca_list) ||
          finding.id == id_text(FindingId::handshake_peer_rejected_us))
        continue;
      if (finding.id == id_text(FindingId::handshake_we_rejected_peer) &&
          run.client.peer_rejected_us)
        continue;
      // A client that had no certificate to send shows it in its own view
      // (pointing to its key finding); the server saw the same absence.
      if (finding.id == id_text(FindingId::handshake_no_client_cert) &&
          !run.client.our_certificate_sent)
        continue;
      server_findings.push_back(std::move(finding));
    }
    add_prefixed(result.findings, std::move(server_findings), direction.id + "server.",
                 direction.title);
  } else {
    direction_facts["server"] = nullptr;
  }
  facts.push_back(std::move(direction_facts));
}

int run_pair(const PairFlags& flags) {
  // 1. Inputs: the version range, the two stores (a lab built when none is given).
  auto range = tls_range(flags.live);
  if (!range) return fail_input(range.error().message);
  auto stores = choose_stores(flags);
  if (!stores) return fail_input(stores.error().message);
  auto cleanup = [&] {
    if (stores->temporary_lab) std::filesystem::remove_all(*stores->temporary_lab);
  };
  auto bems = load_store_or_report(stores->bems, "BEMS");
  auto lync = load_store_or_report(stores->lync, "Lync/Skype");
  if (!bems || !lync) {
    cleanup();
    return report::kExitBadInput;
  }
  // A lab's pool and instances are known; otherwise the flags (or the CN) tell.
  LabOptions lab_defaults;
  std::optional<std::string> pool;
  std::vector<std::string> instances = flags.live.instances;
  if (!flags.live.pool.empty()) {
    pool = flags.live.pool;
  } else if (flags.bems.empty()) {
    pool = lab_defaults.pool;
    if (instances.empty()) instances = lab_defaults.instances;
  }
  auto name_of = [&](const tls::Store& store, Side side) {
    if (side == Side::bems && pool) return *pool;
    return store.leaf ? store.leaf->certificate.info().common_name : std::string();
  };

  // 2. Each direction over loopback, judged from both ends.
  report::Report result = start_report("pair");
  // Each certificate is judged once, with the offline rules; the handshake
  // findings of both directions show on the wire what those findings blame.
  OfflineInputs offline;
  offline.bems = &*bems;
  offline.lync = &*lync;
  offline.pool = pool;
  offline.instances = instances;
  offline.warn_days = flags.live.warn_days;
  const std::vector<report::Finding> judged = evaluate_offline(offline);
  result.findings = judged;
  const Direction directions[] = {{"bems-to-lync.", "BEMS dials the Lync/Skype pool", Side::bems},
                                  {"lync-to-bems.", "The Lync/Skype pool dials BEMS", Side::lync}};
  boost::json::array facts;
  for (const auto& direction : directions) {
    const tls::Store& client_store = direction.client == Side::bems ? *bems : *lync;
    const tls::Store& server_store = direction.client == Side::bems ? *lync : *bems;
    std::string server_name =
        name_of(server_store, direction.client == Side::bems ? Side::lync : Side::bems);
    // A side without its certificate and matching key cannot serve: its key
    // finding blames that once, and this direction is not run.
    if (!credentials_from(server_store)) {
      const Side server_side = direction.client == Side::bems ? Side::lync : Side::bems;
      auto tcp = finding(FindingId::handshake_tcp, "TCP connection to the peer");
      skip(tcp, side_name(server_side) +
                    " cannot serve without its certificate and matching private key (see " +
                    (server_side == Side::bems ? id_text(FindingId::bems_key_present) + " and " +
                                                     id_text(FindingId::bems_key_matches)
                                               : std::string("the pool's store")) +
                    "); this direction was not run");
      add_prefixed(result.findings, {tcp}, direction.id, direction.title);
      continue;
    }
    std::cerr << "mtlsprobe: " << direction.title << " on 127.0.0.1...\n";
    LoopbackOptions loopback;
    loopback.timeout =
        std::chrono::milliseconds(static_cast<long long>(flags.live.timeout_seconds * 1000));
    loopback.min_version = range->first;
    loopback.max_version = range->second;
    const LoopbackHandshake run =
        run_loopback_handshake(client_store, server_store, server_name, loopback);

    LiveContext client_view;
    client_view.us = direction.client;
    client_view.ours = &client_store;
    client_view.expected_name = server_name;
    client_view.warn_days = flags.live.warn_days;
    client_view.pool = pool;
    client_view.instances = instances;
    client_view.own_judged = &judged;
    client_view.peer_judged = &judged;
    LiveContext server_view = client_view;
    server_view.us = direction.client == Side::bems ? Side::lync : Side::bems;
    server_view.ours = &server_store;
    server_view.expected_name.clear();
    report_direction(direction, run, client_view, server_view, result, facts);
  }

  // 3. The report.
  result.facts["directions"] = std::move(facts);
  if (!flags.flaw.empty()) result.facts["flaw"] = flags.flaw;
  cleanup();
  return emit_report(result, flags.report);
}

}  // namespace

void add_pair_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<PairFlags>();
  auto* command = app.add_subcommand("pair",
                                     "Live, both roles in one process over loopback: BEMS dials "
                                     "the Lync/Skype pool, then the pool dials "
                                     "BEMS, each with its own store. With no stores it builds a "
                                     "fresh lab PKI first, so `mtlsprobe pair` "
                                     "is a complete demo; `pair --flaw NAME` shows what a flaw "
                                     "looks like on the wire (see `pki flaws`).");
  command->add_option("--lab", flags->lab,
                      "Use a lab made by `pki init DIR` instead of a fresh one");
  command->add_option("--flaw", flags->flaw,
                      "Build the fresh lab with this flaw (see `mtlsprobe pki flaws`)");
  command
      ->add_option("--key-type", flags->key_type, "Key type of a fresh lab: rsa2048 or ecdsa-p256")
      ->check(CLI::IsMember({"rsa2048", "ecdsa-p256"}))
      ->capture_default_str();
  add_store_flags(command, flags->bems, "", "BEMS");
  add_store_flags(command, flags->lync, "peer-", "Lync/Skype pool");
  add_live_flags(command, flags->live);
  add_report_flags(command, flags->report);
  command->callback([flags, &action] { action = [flags] { return run_pair(*flags); }; });
}

}  // namespace probe
