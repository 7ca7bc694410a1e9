#pragma once
// The monitoring numbers of a run (report::Monitoring): certificate expiry
// dates, handshake phase durations, alerts, revocation answers and SIP
// timings, taken from the records and stores that the findings judged, so
// the metrics and the findings never disagree. Pure: no I/O.
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "probe/rules/requirements.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"
#include "tls/store.hpp"

namespace probe {

inline constexpr const char* kOurSide = "ours";
inline constexpr const char* kPeerSide = "peer";

// One handshake: its phases ("tcp" includes name resolution, "tls", and
// TLS 1.3's "verdict" wait), alerts, version and cipher.
report::HandshakeMeasurement measure_handshake(const tls::HandshakeRecord& record);

// Expiry dates of a chain, leaf first (depth 0).
void add_certificate_dates(report::Monitoring& monitoring,
                           const std::vector<tls::Certificate>& chain, const std::string& side,
                           const std::string& address = "");

// The revocation answers recorded in `facts` (facts.revocation.<side id>, as
// check_chain_revocation writes them, leaf first) for the side we played and
// the other one.
void add_revocation_states(report::Monitoring& monitoring, const boost::json::object& facts,
                           Side us, const std::string& peer_address = "");

// The SIP OPTIONS answer of a probe: seconds to the final answer and its code.
void add_sip_measurement(report::HandshakeMeasurement& handshake,
                         const boost::json::object& sip_facts);

// Stamps the end of the run: now, and the time since `started`.
void finish_monitoring(report::Monitoring& monitoring, tls::Clock::time_point started);

// Everything one live handshake (connect, a probe of the exporter) adds:
// the handshake, our store's chain (whatever the handshake did), the chain
// the peer presented, the revocation answers in report.facts and the SIP
// exchange in report.facts.sip.
// `built`: our chain as already built (see check_own_chain_online).
void add_handshake_monitoring(report::Report& report, const tls::HandshakeRecord& record,
                              const tls::Store& ours, Side us,
                              const std::vector<tls::Certificate>* built = nullptr);

}  // namespace probe
