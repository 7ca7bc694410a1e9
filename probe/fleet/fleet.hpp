#pragma once
// Many live targets in one run: every address of a pool name (DNS load
// balancing puts each Front End behind the same FQDN), every target an SRV
// record names, every line of a targets file; each dialled by address with
// the name kept for SNI and checks, run by connect_target() on a bounded
// number of threads, in one report with a row per address.
//
// Run-level findings:
//   pool.consistent  the addresses of one name:port present the same issuer
//                    and chain (one Front End with an old or wrong
//                    certificate shows up as intermittent failures)
//   dns.srv          the SRV record asked for exists and names servers
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "probe/fleet/targets.hpp"
#include "probe/online/connect_target.hpp"
#include "report/model.hpp"
#include "tls/dns.hpp"
#include "tls/result.hpp"

namespace probe::fleet {

struct FleetOptions {
  std::vector<TargetSpec> targets;
  std::optional<std::string> srv;  // _service._proto.domain; its targets are added
  tls::DnsOptions dns;
  // Dial each name once, keeping whichever address accepts TCP first (the
  // system's resolver; connect's behaviour before fleets).
  bool first_address = false;
  std::size_t concurrency = 16;
  // "done/total targets done, N failing" on stderr while it runs, never in
  // the report: redrawn on one line (a terminal), or a line at each tenth of
  // the targets and at the end (a log that keeps every line).
  enum class Progress { none, redrawn, lines };
  Progress progress = Progress::none;
  std::string expect_name;  // for every target; empty: each target's host
  // At most this many addresses of one name are dialled (the first ones, A
  // before AAAA); 0: all of them.
  std::size_t max_addresses_per_name = 0;
};

// Receives each target's report as it finishes, one call at a time.
using TargetSink = std::function<void(report::Report)>;

// A report with the table (a row per address, in the order of the targets),
// the run-level findings and, without a sink, `targets` (one per address).
// With a sink the targets go there instead and are not kept, so memory does
// not grow with the targets done. Errors: the DNS options cannot be used, or
// the SRV lookup ended without an answer (exit 2; no target was tested).
mtls::Result<report::Report> run_fleet(const FleetOptions& options, const ConnectSettings& settings,
                                       const TargetSink& sink = {});

// A monitoring probe (the exporter's /probe) dials at most this many
// addresses of the target's name, all at once: each its own series.
inline constexpr std::size_t kMaxAddressesPerProbe = 16;

// One target at every address of its name, as one report for the metrics:
// each address's handshake, certificates and revocation answers under its
// own `address`, the findings of every address (the exposition keeps each
// id's worst status) and pool.consistent, and in monitoring.dns_seconds how
// long the name took to resolve. An address literal is dialled as it is.
// Errors as run_fleet's.
mtls::Result<report::Report> probe_every_address(const ConnectTarget& target,
                                                 const ConnectSettings& settings,
                                                 const tls::DnsOptions& dns,
                                                 std::size_t max_addresses = kMaxAddressesPerProbe);

// What the table and the pool comparison need from one handshake, kept
// instead of the whole record.
struct ServerFacts {
  std::string group;    // "host:port" the address belongs to
  std::string address;  // as dialled
  bool certificate_seen = false;
  std::string version, cipher;
  std::string subject, issuer, sha256, not_after;
  std::vector<std::string> sent_after_leaf;  // SHA-256 of each, as presented
  // The issuing certificate's SHA-256, when it is known (sent, or in our
  // store): two CAs may carry the same name.
  std::string issuer_sha256;
  // The subject of each of sent_after_leaf, in the same order.
  std::vector<std::string> sent_after_leaf_subjects;
  // The ids of the findings that fail in this server's own report: a server
  // that presents a chain unlike the others' is usually blamed there first.
  std::vector<std::string> failing;
};

// pool.consistent for the servers of one name:port (pure: facts in, finding out).
report::Finding pool_consistency(const std::string& group, const std::vector<ServerFacts>& servers);

}  // namespace probe::fleet
