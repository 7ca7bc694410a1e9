#pragma once
// The one result model every renderer reads. Plain data: no OpenSSL here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

namespace report {

enum class Status { pass, warn, fail, skip };
std::string_view to_string(Status status);

// The certificate a finding is about, as a person identifies it.
struct CertificateRef {
  std::string subject;
  std::string issuer;
  std::string serial;  // upper-case hex
  std::string sha256;  // upper-case hex pairs joined by ':'
};

struct Finding {
  std::string id;           // stable, e.g. "bems.san.pool"
  std::string requirement;  // the seed requirement it checks; text groups by it
  Status status = Status::skip;
  std::string title;   // short, e.g. "SAN lists the pool FQDN"
  std::string detail;  // what was seen, one or two sentences
  std::string remedy;  // what to do, for a Windows admin; empty on pass
  std::optional<CertificateRef> certificate;
};

// Key/value lines a person reads above the findings (a handshake summary,
// which stores were read). JSON carries the full structure in `facts`.
struct Section {
  std::string title;
  std::vector<std::pair<std::string, std::string>> lines;
};

// What a run measured, for monitoring (report/prometheus.hpp renders it):
// dates, durations and codes a time series tracks, where the findings say
// what is wrong. probe/ fills it from its records; empty for runs without it.
struct CertificateDates {
  std::string side;     // "ours" (our store) or "peer" (what the peer presented, or its store)
  std::string address;  // the handshake that showed it ("127.0.0.1:5061"); empty: from a store
  int depth = 0;        // 0: the leaf
  CertificateRef certificate;
  std::int64_t not_after = 0;  // seconds since the Unix epoch
};

struct RevocationState {
  std::string side;  // as CertificateDates::side
  std::string address;
  int depth = 0;
  std::string status;  // "good", "revoked", "unknown", "unavailable", "not_published"
};

struct TlsAlertSeen {
  std::string direction;  // "sent" or "received"
  std::string name;       // "unknown_ca"
};

struct HandshakeMeasurement {
  std::string address;  // the resolved address dialled, "127.0.0.1:5061"
  bool completed = false;
  // In the order they ran: "dns", "tcp", "tls", "verdict".
  std::vector<std::pair<std::string, double>> phase_seconds;
  std::vector<TlsAlertSeen> alerts;
  std::string tls_version;  // "TLSv1.3"; empty when none was agreed
  std::string cipher_suite;
  std::optional<double> sip_options_seconds;  // when a SIP OPTIONS was sent
  std::optional<int> sip_status_code;         // its final answer's code
};

struct Monitoring {
  std::int64_t finished_at = 0;  // seconds since the Unix epoch; 0: not known
  std::optional<double> duration_seconds;
  // Resolving the target's name, when the run resolved it before dialling
  // each address (the exporter's /probe); a name dialled directly counts
  // its resolution in the "tcp" phase instead.
  std::optional<double> dns_seconds;
  std::vector<HandshakeMeasurement> handshakes;
  std::vector<CertificateDates> certificates;
  std::vector<RevocationState> revocation;
};

// Rows a person compares at a glance (one per address of a pool); JSON
// carries the same facts per target.
struct Table {
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each as long as `columns`
};

// How much a difference between two compared things matters (rollover: the
// certificate deployed today and the one that replaces it).
enum class ChangeClass { breaking, risky, neutral };
std::string_view to_string(ChangeClass change_class);

// One row of a side-by-side comparison, as a person reads it.
struct ComparisonRow {
  std::string field;   // "subject CN", "SAN DNS", "issuing CA", ...
  std::string before;  // "(none)" when absent
  std::string after;
  std::optional<ChangeClass> change;  // nullopt: both sides are the same
  std::string reason;                 // why the change has its class; empty when unchanged
};

struct Comparison {
  std::string before_name = "current";  // column titles and JSON keys
  std::string after_name = "next";
  boost::json::object before, after;  // each side's facts (JSON only)
  std::vector<ComparisonRow> rows;    // every field compared, changed or not
};

struct Report {
  std::string tool = "mtlsprobe";
  std::string version;
  std::string command;       // "check", "connect", ...
  std::string generated_at;  // RFC 3339 UTC
  std::vector<Section> sections;
  boost::json::object facts;  // command-specific structured data (JSON only)
  std::vector<Finding> findings;
  // --strict: a warning fails the run. Every renderer and the exit code read
  // it through overall(), so text, JSON, JUnit and $? never disagree.
  bool strict = false;
  Monitoring monitoring;
  std::optional<Comparison> comparison;  // commands that compare two things (rollover)
  // A run over many targets (a pool's addresses, SRV targets, a targets
  // file): `tables` open the report, `findings` hold what is about the run
  // as a whole (pool.consistent, dns.srv), and each target has a full
  // report of its own, named by `target`. Such a run always has a table,
  // even when DNS gave it no target. It fails when any target fails.
  std::vector<Table> tables;
  std::vector<Report> targets;
  std::string target;  // in a target's report: "host:port via address:port"
  // In a target's report: its row in the run's table (0-based), which follows
  // the order of the input (targets, then each name's addresses). Streamed
  // targets are written as they finish; this puts them back in order.
  std::optional<std::size_t> index;
  // Targets written out as they finished and not kept (report/target_stream.hpp):
  // only counted, each judged under the run's `strict`.
  std::size_t streamed_targets = 0, streamed_failing = 0;
};

struct Counts {
  int pass = 0, warn = 0, fail = 0, skip = 0;
};
Counts count(const Report& report);

// The verdict of the whole report: fail when a finding fails, or warns under
// `strict`; pass otherwise.
// A run over many targets fails when any target fails.
Status overall(const Report& report);

// A run over many targets: how many it has, kept or streamed, and how many fail.
std::size_t target_count(const Report& report);
std::size_t failing_targets(const Report& report);
// Whether `report` or any of its targets has a finding that fails (or warns, under `strict`).
bool fails(const Report& report, bool strict);
// Whether this finding counts as a failure of the run (a warning does under `strict`).
bool fails_run(const Report& report, const Finding& finding);

// 0 when overall() passes, 1 otherwise. Exit code 2 (bad invocation or
// unreadable input) is decided before a report exists.
int exit_code(const Report& report);

inline constexpr int kExitPass = 0;
inline constexpr int kExitFail = 1;
inline constexpr int kExitBadInput = 2;

}  // namespace report
