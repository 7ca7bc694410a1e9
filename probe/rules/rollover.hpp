#pragma once
// Rollover: the BEMS certificate deployed today beside the one that replaces
// it. Pure: both sides' facts and the findings of every check rule on each
// in, the side-by-side comparison and the rollover's findings out. No I/O:
// `commands/rollover.cpp` loads the stores and runs the rules.
//
// A rule that passes (or warns, or is skipped) today and fails with the next
// certificate is a breaking change. Differences no rule judges (a new
// issuing CA the pool lacks, a key type the pool may not offer) are
// classified here, each with its reason.
#include <optional>
#include <string>
#include <vector>

#include "probe/findings.hpp"
#include "probe/rules/requirements.hpp"
#include "report/model.hpp"
#include "tls/certificate.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

// One BEMS certificate with what the rules saw.
struct RolloverSide {
  const tls::Store* store = nullptr;      // the BEMS store holding it (never null)
  std::vector<tls::Certificate> chain;    // leaf first, as far as the stores build it
  std::vector<report::Finding> findings;  // every check rule, judged for this side
};

struct RolloverInputs {
  RolloverSide current;
  RolloverSide next;
  const tls::Store* peer = nullptr;  // the Lync/Skype pool's store, when given
  std::string peer_store_name;       // "lab/lync" or "--peer-intermediate ...", for remedies
  std::string pool;                  // the pool FQDN the rules used
  std::vector<std::string> instances;
  bool instances_from_current = false;  // no --instance: the current SAN names them
  tls::Clock::time_point now = tls::Clock::now();
  std::optional<tls::Clock::time_point> switch_at;  // --at
};

struct RolloverVerdict {
  std::vector<report::Finding> findings;  // check's ids, then rollover.*
  report::Comparison comparison;
};

RolloverVerdict judge_rollover(const RolloverInputs& inputs);

// A live rehearsal at one address: the reports of two real handshakes
// (connect_target) with the current and with the next certificate against
// the same server.
struct LiveRehearsal {
  std::string target;   // "lyncpool.example.com:5061 via 10.0.0.5:5061"
  std::string address;  // "10.0.0.5": names the rows when the name has several
  const report::Report* current = nullptr;
  const report::Report* next = nullptr;
  bool sip = false;  // SIP OPTIONS was sent on both connections
};

// The other direction, where the pool's store is known (--peer-store with
// its key): an in-process server presents BEMS's certificate and a client
// with the pool's credentials and trust dials it over loopback, once with
// the current and once with the next certificate.
struct ReverseDial {
  const tls::HandshakeRecord* pool = nullptr;  // the client's view: the pool dialling (never null)
  const tls::HandshakeRecord* bems = nullptr;  // the server's view; null when it recorded none
  const std::vector<tls::Certificate>* chain = nullptr;  // BEMS's chain as its stores build it
};
struct ReverseRehearsal {
  ReverseDial current, next;
  std::string peer_store_name;  // "--peer-store lab/lync"
};

// Every address of the pool's name (each Front End behind it may trust other
// CAs) and the reverse direction when rehearsed: the live rows of each, and
// one rollover.live finding for them all (a defect seen in both directions
// is one defect). `name` is what was rehearsed against ("lyncpool.example.com:5061").
void judge_live(const std::string& name, const std::vector<LiveRehearsal>& rehearsals,
                const std::optional<ReverseRehearsal>& reverse, RolloverVerdict& verdict);

// The BEMS instances a rollover guards when none are named: the DNS names
// of the current certificate's SAN other than the pool (wildcards cannot be
// dialled, so they are left out).
std::vector<std::string> instances_from_san(const tls::CertificateInfo& current,
                                            const std::string& pool);

// "2027-03-01" (midnight UTC) or "2027-03-01T08:00:00Z". nullopt when not one of them.
std::optional<tls::Clock::time_point> parse_switch_date(const std::string& text);

}  // namespace probe
