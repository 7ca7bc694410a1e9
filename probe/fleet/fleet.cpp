#include "probe/fleet/fleet.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "probe/commands/options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/monitoring.hpp"
#include "probe/findings.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/rules/rules.hpp"

namespace probe::fleet {
namespace {

// Lookups in flight at once: enough to hide a server's latency, few enough
// that a huge targets file does not open thousands of sockets.
constexpr std::size_t kLookupsInFlight = 64;

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// One handshake to run: a target, dialled at one address.
struct Job {
  ConnectTarget target;
  std::optional<Side> role;
  std::string group;
  std::optional<tls::HandshakeRecord> unresolved;  // the name did not resolve
};

struct Discovery {
  std::vector<Job> jobs;
  std::optional<report::Finding> srv_finding;
  boost::json::object facts;
  std::optional<double> dns_seconds;  // the address lookups, when any ran
};

report::Finding srv_finding(const tls::SrvAnswer& answer, const std::string& servers) {
  auto f =
      finding(FindingId::dns_srv, "The SRV record " + answer.name + " names the servers to test");
  if (answer.error != tls::DnsError::none)
    return fail(f, "Asked " + servers + " for SRV " + answer.name + ": " + answer.message + ".",
                "Publish the SRV record (" + answer.name +
                    " -> the edge or pool FQDN, port 5061) in the DNS view the peers use; "
                    "federation partners find Lync/Skype edges only through it.");
  std::string listed;
  bool says_no_service = false;
  for (const auto& record : answer.records) {
    if (record.target == ".") says_no_service = true;
    listed += (listed.empty() ? "" : ", ") + host_port(record.target, record.port) + " (priority " +
              std::to_string(record.priority) + ", weight " + std::to_string(record.weight) + ")";
  }
  if (says_no_service)
    return fail(f,
                "SRV " + answer.name + " at " + servers +
                    " says the service is not available (target \".\"): " + listed + ".",
                "Point the SRV record at the edge or pool FQDN and port 5061.");
  return pass(f, "SRV " + answer.name + " at " + servers + ": " + listed + ".");
}

mtls::Result<Discovery> discover(const FleetOptions& options) {
  Discovery found;
  boost::asio::io_context io;
  auto resolver = tls::DnsResolver::create(io, options.dns);
  if (!resolver) return mtls::Error{"--dns-server: " + resolver.error().message};
  const std::string servers = (*resolver)->servers_text();
  boost::json::object dns;
  dns["servers"] = servers;

  std::vector<TargetSpec> specs = options.targets;
  if (options.srv) {
    std::optional<tls::SrvAnswer> srv;
    (*resolver)->lookup_srv(*options.srv, [&](tls::SrvAnswer answer) { srv = std::move(answer); });
    io.run();
    io.restart();
    if (!srv) return mtls::Error{"SRV lookup of " + *options.srv + " ended without an answer"};
    found.srv_finding = srv_finding(*srv, servers);
    boost::json::array records;
    for (const auto& record : srv->records) {
      records.push_back(boost::json::object{{"target", record.target},
                                            {"port", record.port},
                                            {"priority", record.priority},
                                            {"weight", record.weight}});
      if (record.target == "." || record.port == 0) continue;
      TargetSpec spec;
      spec.host = record.target;
      spec.port = record.port;
      spec.origin = "SRV " + srv->name;
      specs.push_back(spec);
    }
    dns["srv"] = boost::json::object{{"name", srv->name},
                                     {"result", tls::to_string(srv->error)},
                                     {"message", srv->message},
                                     {"records", std::move(records)}};
  }

  // Every name's addresses, a bounded number of lookups at a time.
  std::vector<std::optional<tls::AddressAnswer>> answers(specs.size());
  std::size_t next = 0;
  std::function<void()> start_next = [&] {
    while (next < specs.size()) {
      const std::size_t index = next++;
      const TargetSpec& spec = specs[index];
      if (options.first_address || is_ip_literal(spec.host)) continue;
      (*resolver)->lookup_addresses(spec.host, [&, index](tls::AddressAnswer answer) {
        answers[index] = std::move(answer);
        start_next();
      });
      return;
    }
  };
  const auto lookups_started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < kLookupsInFlight; ++i) start_next();
  io.run();
  if (std::any_of(answers.begin(), answers.end(), [](const auto& a) { return a.has_value(); }))
    found.dns_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - lookups_started).count();

  boost::json::object names;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const TargetSpec& spec = specs[i];
    Job base;
    base.target.host = spec.host;
    base.target.port = spec.port;
    base.target.sni = spec.sni;
    base.target.expect_name = options.expect_name;
    base.role = spec.role;
    base.group = host_port(spec.host, spec.port);
    if (!answers[i]) {  // an address literal, or --first-address
      found.jobs.push_back(base);
      continue;
    }
    const tls::AddressAnswer& answer = *answers[i];
    boost::json::array addresses(answer.addresses.begin(), answer.addresses.end());
    names[spec.host] = boost::json::object{{"addresses", std::move(addresses)},
                                           {"result", tls::to_string(answer.error)},
                                           {"message", answer.message}};
    if (answer.addresses.empty()) {
      tls::HandshakeRecord record;
      record.role = tls::HandshakeRole::client;
      record.target = base.group;
      record.error = tls::HandshakeError::dns_failure;
      record.error_message = answer.message;
      base.unresolved = record;
      found.jobs.push_back(base);
      continue;
    }
    const std::size_t limit = options.max_addresses_per_name;
    if (limit > 0 && answer.addresses.size() > limit)
      names[spec.host].as_object()["dialled"] = limit;
    const std::size_t dialled =
        limit > 0 ? std::min(limit, answer.addresses.size()) : answer.addresses.size();
    for (std::size_t n = 0; n < dialled; ++n) {
      const std::string& address = answer.addresses[n];
      Job job = base;
      job.target.dial_address = address;
      found.jobs.push_back(job);
    }
  }
  dns["names"] = std::move(names);
  found.facts = std::move(dns);
  return found;
}

ServerFacts server_facts(const Job& job, const tls::HandshakeRecord& record) {
  ServerFacts facts;
  facts.group = job.group;
  facts.address = !job.target.dial_address.empty() ? job.target.dial_address
                  : is_ip_literal(job.target.host) ? job.target.host
                                                   : record.peer_address;
  if (facts.address.empty()) facts.address = "-";
  facts.version = tls::to_string(record.protocol_version);
  facts.cipher = record.cipher_suite;
  if (record.peer_chain.empty()) return facts;
  facts.certificate_seen = true;
  const auto& leaf = record.peer_chain.front().info();
  facts.subject = leaf.subject;
  facts.issuer = leaf.issuer;
  facts.sha256 = leaf.sha256;
  facts.not_after = rfc3339(leaf.not_after).substr(0, 10);
  for (std::size_t i = 1; i < record.peer_chain.size(); ++i) {
    facts.sent_after_leaf.push_back(record.peer_chain[i].sha256());
    facts.sent_after_leaf_subjects.push_back(record.peer_chain[i].subject());
  }
  const auto& chain = record.peer_chain;
  if (chain.size() > 1 && chain[0].issued_by(chain[1]))
    facts.issuer_sha256 = chain[1].sha256();
  else if (record.peer_verification && record.peer_verification->chain.size() > 1)
    facts.issuer_sha256 = record.peer_verification->chain[1].sha256();
  return facts;
}

std::string verdict(const report::Report& report) {
  const auto counts = report::count(report);
  return counts.fail > 0 ? "fail" : counts.warn > 0 ? "warn" : "pass";
}

std::string first_failing(const report::Report& report) {
  for (const auto& finding : report.findings)
    if (finding.status == report::Status::fail) return finding.id;
  for (const auto& finding : report.findings)
    if (finding.status == report::Status::warn) return finding.id + " (warn)";
  return "-";
}

// The text table shows the start of each fingerprint: enough to tell the
// servers apart; the JSON targets carry it whole.
std::string short_fingerprint(const std::string& sha256) {
  return sha256.size() > 23 ? sha256.substr(0, 23) + "..." : sha256;
}

std::string listed(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// Each certificate some servers send after their leaf and others do not
// (one server without the intermediate), by name: "127.0.0.4 does not send
// 'CN=Issuing CA' (SHA-256 ...), which 127.0.0.2, 127.0.0.3 send."
std::string missing_from_chains(const std::vector<const ServerFacts*>& servers) {
  struct Sent {
    std::string subject;
    std::vector<std::string> by;
  };
  std::vector<std::string> order;  // first seen first
  std::map<std::string, Sent> sent;
  for (const ServerFacts* server : servers)
    for (std::size_t i = 0; i < server->sent_after_leaf.size(); ++i) {
      const std::string& sha256 = server->sent_after_leaf[i];
      auto& entry = sent[sha256];
      if (entry.by.empty()) {
        order.push_back(sha256);
        if (i < server->sent_after_leaf_subjects.size())
          entry.subject = server->sent_after_leaf_subjects[i];
      }
      if (entry.by.empty() || entry.by.back() != server->address)
        entry.by.push_back(server->address);
    }
  std::string text;
  for (const std::string& sha256 : order) {
    const Sent& entry = sent[sha256];
    if (entry.by.size() == servers.size()) continue;
    std::vector<std::string> without;
    for (const ServerFacts* server : servers)
      if (std::find(entry.by.begin(), entry.by.end(), server->address) == entry.by.end())
        without.push_back(server->address);
    const std::string what =
        (entry.subject.empty() ? std::string("a certificate") : rules::in_quotes(entry.subject)) +
        " (SHA-256 " + short_fingerprint(sha256) + ")";
    text += listed(without) + (without.size() == 1 ? " does" : " do") + " not send " + what +
            ", which " + listed(entry.by) + (entry.by.size() == 1 ? " sends" : " send") + ". ";
  }
  return text;
}

// The findings that blame a server for the chain it presents: when they
// fail, the server's own row already says what is wrong with its chain.
std::vector<std::string> chain_findings_failing(const ServerFacts& server) {
  static constexpr FindingId kChain[] = {
      FindingId::lync_chain_trusted, FindingId::bems_chain_trusted,
      FindingId::lync_chain_intermediates, FindingId::bems_chain_intermediates,
      FindingId::trust_mutual};
  std::vector<std::string> blamed;
  for (const auto& id : server.failing) {
    const FindingKind* kind = find_finding_kind(id);
    if (kind && std::find(std::begin(kChain), std::end(kChain), kind->id) != std::end(kChain))
      blamed.push_back(id);
  }
  return blamed;
}

}  // namespace

report::Finding pool_consistency(const std::string& group,
                                 const std::vector<ServerFacts>& servers) {
  auto f = finding(FindingId::pool_consistent,
                   "The servers behind " + group + " present the same issuer and chain");
  std::vector<const ServerFacts*> seen;
  std::vector<std::string> unseen;
  for (const auto& server : servers) {
    if (server.certificate_seen)
      seen.push_back(&server);
    else
      unseen.push_back(server.address);
  }
  const std::string not_compared =
      unseen.empty()
          ? ""
          : " Not compared (no certificate seen; see their own findings): " + listed(unseen) + ".";
  if (seen.size() < 2)
    return skip(f,
                "Fewer than two servers behind " + group + " showed a certificate." + not_compared);
  // Group the addresses by what they present. A server whose issuing
  // certificate is unknown (it sent none and we hold none) is not a different
  // issuer: it counts as the one CA of that name the others showed, if one.
  std::map<std::string, std::set<std::string>> issuer_certificates;
  for (const ServerFacts* server : seen)
    if (!server->issuer_sha256.empty())
      issuer_certificates[server->issuer].insert(server->issuer_sha256);
  std::map<std::string, std::vector<std::string>> by_issuer, by_chain, by_leaf;
  // The servers presenting the same issuer and chain, together.
  std::map<std::string, std::vector<const ServerFacts*>> alike;
  for (const ServerFacts* server : seen) {
    std::string issuer = rules::in_quotes(server->issuer);
    std::string issuer_sha256 = server->issuer_sha256;
    if (const auto& known = issuer_certificates[server->issuer];
        issuer_sha256.empty() && known.size() == 1)
      issuer_sha256 = *known.begin();
    if (!issuer_sha256.empty()) issuer += " (SHA-256 " + short_fingerprint(issuer_sha256) + ")";
    by_issuer[issuer].push_back(server->address);
    by_leaf[server->sha256].push_back(server->address);
    std::string chain = std::to_string(server->sent_after_leaf.size()) + " certificate" +
                        (server->sent_after_leaf.size() == 1 ? "" : "s") + " after the leaf";
    std::vector<std::string> fingerprints;
    for (const auto& sha256 : server->sent_after_leaf)
      fingerprints.push_back(short_fingerprint(sha256));
    if (!fingerprints.empty()) chain += " (" + listed(fingerprints) + ")";
    by_chain[chain].push_back(server->address);
    alike[issuer + "\n" + chain].push_back(server);
  }
  auto describe = [](const std::map<std::string, std::vector<std::string>>& groups) {
    std::string text;
    for (const auto& [what, addresses] : groups)
      text += (text.empty() ? "" : "; ") + listed(addresses) + ": " + what;
    return text;
  };
  std::string differences;
  if (by_issuer.size() > 1) differences += "Issuers differ: " + describe(by_issuer) + ". ";
  if (by_chain.size() > 1) {
    differences += "The chains sent differ: " + describe(by_chain) + ". ";
    differences += missing_from_chains(seen);
  }
  // One defect, one failing finding: when the servers of one configuration
  // all pass their chain findings and every other server fails one, the
  // differences are those servers' defects, and their rows blame them.
  std::size_t sound = 0;
  std::string blamed;
  bool every_other_blamed = true;
  for (const auto& [what, servers] : alike) {
    std::size_t failing = 0;
    for (const ServerFacts* server : servers) {
      auto ids = chain_findings_failing(*server);
      if (ids.empty()) continue;
      ++failing;
      blamed += (blamed.empty() ? "" : "; ") + server->address + ": " + listed(ids);
    }
    if (failing == 0)
      ++sound;
    else if (failing != servers.size())
      every_other_blamed = false;
  }
  if (!differences.empty() && sound == 1 && every_other_blamed)
    return skip(f, "The " + std::to_string(seen.size()) + " servers behind " + group +
                       " do not present the same trust. " + differences +
                       "Each server that differs from the others fails a chain finding of its "
                       "own, which blames it (" +
                       blamed + "): fix those, and the pool is consistent." + not_compared);
  if (!differences.empty())
    return fail(
        f,
        "The " + std::to_string(seen.size()) + " servers behind " + group +
            " do not present the same trust. " + differences +
            "A client then fails on some connections and not others (DNS load balancing)." +
            not_compared,
        "Install the same CA's certificate, and the same intermediates, on every server of the "
        "pool (on Lync/Skype: the Deployment Wizard's certificate step on each Front End).");
  const std::string leaves =
      by_leaf.size() == 1
          ? "the same certificate (SHA-256 " + seen.front()->sha256 + ")"
          : std::to_string(by_leaf.size()) + " certificates of their own from the same issuer";
  return pass(f, "All " + std::to_string(seen.size()) + " servers behind " + group + " present " +
                     leaves + " with the same chain." + not_compared);
}

mtls::Result<report::Report> run_fleet(const FleetOptions& options, const ConnectSettings& settings,
                                       const TargetSink& sink) {
  auto discovered = discover(options);
  if (!discovered) return discovered.error();
  Discovery& found = *discovered;
  const std::size_t total = found.jobs.size();

  std::vector<report::Report> reports(sink ? 0 : total);
  std::vector<ServerFacts> facts(total);
  std::vector<std::pair<std::string, std::string>> verdicts(total);  // verdict, first failing
  std::atomic<std::size_t> next{0};
  std::mutex done_mutex;
  std::size_t done = 0, failing = 0;
  auto worker = [&] {
    for (std::size_t i = next++; i < total; i = next++) {
      const Job& job = found.jobs[i];
      ConnectSettings own = settings;
      own.announce = false;
      if (job.role) own.us = *job.role;
      tls::HandshakeRecord record;
      report::Report report;
      if (job.unresolved) {
        record = *job.unresolved;
        report = diagnose_target(record, job.target, own);
        // The metrics of a name that did not resolve: our certificate and a
        // handshake that never completed.
        static const tls::Store kEmptyStore;
        add_handshake_monitoring(report, record, own.store ? *own.store : kEmptyStore, own.us);
      } else {
        TargetOutcome outcome = connect_target(job.target, own);
        record = std::move(outcome.record);
        report = std::move(outcome.report);
      }
      report.target = target_label(job.target);
      report.index = i;
      facts[i] = server_facts(job, record);
      for (const auto& finding : report.findings)
        if (finding.status == report::Status::fail) facts[i].failing.push_back(finding.id);
      verdicts[i] = {verdict(report), first_failing(report)};
      const bool failed = report::fails(report, false);
      std::lock_guard lock(done_mutex);
      ++done;
      if (failed) ++failing;
      if (sink)
        sink(std::move(report));
      else
        reports[i] = std::move(report);
      const std::string line = "mtlsprobe: " + std::to_string(done) + "/" + std::to_string(total) +
                               " targets done, " + std::to_string(failing) + " failing";
      if (options.progress == FleetOptions::Progress::redrawn)
        std::cerr << "\r" << line << (done == total ? "\n" : "") << std::flush;
      else if (options.progress == FleetOptions::Progress::lines &&
               (done == total || done * 10 / total != (done - 1) * 10 / total))
        std::cerr << line << '\n' << std::flush;
    }
  };
  const std::size_t threads =
      std::clamp<std::size_t>(options.concurrency, 1, std::max<std::size_t>(total, 1));
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();

  report::Report result = start_report("connect");
  report::Table table;
  table.title = "Servers (" + std::to_string(total) + ")";
  table.columns = {"target",  "address", "TLS",
                   "cipher",  "subject", "SHA-256",
                   "expires", "verdict", "first failing finding"};
  for (std::size_t i = 0; i < total; ++i) {
    const ServerFacts& server = facts[i];
    table.rows.push_back(
        {server.group, server.address, server.version.empty() ? "-" : server.version,
         server.cipher.empty() ? "-" : server.cipher, server.subject.empty() ? "-" : server.subject,
         server.sha256.empty() ? "-" : short_fingerprint(server.sha256),
         server.not_after.empty() ? "-" : server.not_after, verdicts[i].first, verdicts[i].second});
  }
  result.tables.push_back(std::move(table));
  if (found.srv_finding) result.findings.push_back(*found.srv_finding);
  // pool.consistent for every name that resolved to more than one address,
  // in the order the names first appear.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<ServerFacts>> members;
  for (std::size_t i = 0; i < total; ++i) {
    if (found.jobs[i].target.dial_address.empty()) continue;
    auto& servers = members[facts[i].group];
    if (servers.empty()) groups.push_back(facts[i].group);
    servers.push_back(facts[i]);
  }
  for (const std::string& group : groups)
    if (members[group].size() > 1)
      result.findings.push_back(pool_consistency(group, members[group]));
  result.facts["dns"] = std::move(found.facts);
  result.monitoring.dns_seconds = found.dns_seconds;
  result.targets = std::move(reports);
  return result;
}

mtls::Result<report::Report> probe_every_address(const ConnectTarget& target,
                                                 const ConnectSettings& settings,
                                                 const tls::DnsOptions& dns,
                                                 std::size_t max_addresses) {
  const auto started = tls::Clock::now();
  FleetOptions options;
  TargetSpec spec;
  spec.host = target.host;
  spec.port = target.port;
  spec.sni = target.sni;
  spec.origin = "the probe's target";
  options.targets = {spec};
  options.dns = dns;
  options.expect_name = target.expect_name;
  options.concurrency = max_addresses;
  options.max_addresses_per_name = max_addresses;
  report::Report merged = start_report("connect");
  auto& monitoring = merged.monitoring;
  auto fleet = run_fleet(options, settings, [&](report::Report one) {
    merged.findings.insert(merged.findings.end(), one.findings.begin(), one.findings.end());
    auto append = [](auto& into, auto& from) {
      into.insert(into.end(), std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.end()));
    };
    append(monitoring.handshakes, one.monitoring.handshakes);
    append(monitoring.certificates, one.monitoring.certificates);
    append(monitoring.revocation, one.monitoring.revocation);
  });
  if (!fleet) return fleet.error();
  merged.findings.insert(merged.findings.end(), fleet->findings.begin(), fleet->findings.end());
  merged.facts["dns"] = std::move(fleet->facts["dns"]);
  finish_monitoring(monitoring, started);
  monitoring.dns_seconds = fleet->monitoring.dns_seconds;
  return merged;
}

}  // namespace probe::fleet
