#pragma once
// One live target, start to finish: dial it (one given address, or the name),
// handshake as BEMS or Lync, diagnose, check both chains online, and return
// the report a single `connect` prints. `connect` runs it once; the fleet
// (probe/fleet/) runs it for every address of every target, and other
// commands may run it as a library call. No command-line parsing here: the
// command turns its flags into ConnectSettings once.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/commands/sip_options.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/rules/requirements.hpp"
#include "probe/rules/revocation_findings.hpp"
#include "report/model.hpp"
#include "tls/handshake.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

// What is dialled and which name it must answer for.
struct ConnectTarget {
  std::string host;  // the name (or literal) the peer is known by
  std::uint16_t port = 5061;
  // Dial this address (an IP literal, or another name) instead of `host`,
  // keeping `host` for SNI and the name checks: --connect-to, or one of the
  // addresses `host` resolved to.
  std::string dial_address;
  std::uint16_t dial_port = 0;  // 0: `port`
  std::string sni;              // empty: `host` when it is a name (RFC 6066)
  std::string expect_name;      // empty: `host`
};

// Everything that is the same for every target of a run. `store` and
// `memo` must outlive the calls; `memo` may be shared by threads.
struct ConnectSettings {
  Side us = Side::bems;
  const tls::Store* store = nullptr;
  tls::TlsVersion min_version = tls::TlsVersion::tls1_2;
  tls::TlsVersion max_version = tls::TlsVersion::tls1_3;
  std::chrono::milliseconds timeout{10000};  // connect, and handshake, each
  std::chrono::milliseconds verdict_wait{1500};
  std::optional<std::string> pool;  // to judge names (ours as BEMS, a BEMS peer's)
  std::vector<std::string> instances;
  int warn_days = 30;
  RevocationFlags revocation;
  tls::RevocationOptions revocation_options;
  RevocationMemo* memo = nullptr;  // answers shared across targets; null: none kept
  // Credentials, trust, TLS context and our chain's judgement made once from
  // `store` (prepare_endpoint, with these versions); null: made per target.
  std::shared_ptr<const PreparedEndpoint> prepared;
  SipConnectFlags sip;
  // Say "connecting to ..." on stderr (a single connect); a fleet shows
  // progress instead.
  bool announce = true;
};

struct TargetOutcome {
  tls::HandshakeRecord record;  // what the handshake showed (SIP's, when SIP ran)
  report::Report report;        // command "connect": sections, facts, findings
};

// "host:port" or "host:port via addr:port", as the report names the target.
std::string target_label(const ConnectTarget& target);

// Handshake and full diagnosis of one target. Network I/O, each step bounded
// by the settings' timeouts.
TargetOutcome connect_target(const ConnectTarget& target, const ConnectSettings& settings);

// The diagnosis half alone, for a handshake that never started (the name did
// not resolve: `record` carries that error) or ran elsewhere.
report::Report diagnose_target(const tls::HandshakeRecord& record, const ConnectTarget& target,
                               const ConnectSettings& settings);

}  // namespace probe
