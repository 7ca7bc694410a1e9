#include "probe/diagnosis/monitoring.hpp"

#include <chrono>
#include <cmath>

namespace probe {
namespace {

// Microseconds are as precise as these clocks are worth, and spare the
// reader 3.3860000000000004e-05.
double seconds_from_ms(double milliseconds) { return std::round(milliseconds * 1000.0) / 1e6; }

}  // namespace

report::HandshakeMeasurement measure_handshake(const tls::HandshakeRecord& record) {
  report::HandshakeMeasurement m;
  m.address = record.peer_address.empty() ? record.target : record.peer_address;
  m.completed = record.handshake_completed;
  m.phase_seconds.emplace_back("tcp", seconds_from_ms(record.tcp_connect_ms));
  if (record.tcp_connected)
    m.phase_seconds.emplace_back("tls", seconds_from_ms(record.handshake_ms));
  if (record.waited_for_verdict)
    m.phase_seconds.emplace_back("verdict", seconds_from_ms(record.verdict_wait_ms));
  for (const auto& alert : record.alerts)
    m.alerts.push_back({alert.sent ? "sent" : "received", alert.name});
  if (record.handshake_completed) {
    m.tls_version = tls::to_string(record.protocol_version);
    m.cipher_suite = record.cipher_suite;
  }
  return m;
}

void add_certificate_dates(report::Monitoring& monitoring,
                           const std::vector<tls::Certificate>& chain, const std::string& side,
                           const std::string& address) {
  for (std::size_t depth = 0; depth < chain.size(); ++depth) {
    const auto& info = chain[depth].info();
    report::CertificateDates dates;
    dates.side = side;
    dates.address = address;
    dates.depth = static_cast<int>(depth);
    dates.certificate = certificate_ref(info);
    dates.not_after =
        std::chrono::duration_cast<std::chrono::seconds>(info.not_after.time_since_epoch()).count();
    monitoring.certificates.push_back(std::move(dates));
  }
}

void add_revocation_states(report::Monitoring& monitoring, const boost::json::object& facts,
                           Side us, const std::string& peer_address) {
  const auto* revocation = facts.if_contains("revocation");
  if (!revocation || !revocation->is_object()) return;
  const Side peer = us == Side::bems ? Side::lync : Side::bems;
  for (Side side : {us, peer}) {
    const auto* certificates = revocation->as_object().if_contains(side_id(side));
    if (!certificates || !certificates->is_array()) continue;
    int depth = 0;
    for (const auto& entry : certificates->as_array()) {
      const auto* answer =
          entry.is_object() ? entry.as_object().if_contains("revocation") : nullptr;
      const auto* status =
          answer && answer->is_object() ? answer->as_object().if_contains("status") : nullptr;
      if (status && status->is_string())
        monitoring.revocation.push_back({side == us ? kOurSide : kPeerSide,
                                         side == us ? std::string() : peer_address, depth,
                                         std::string(status->as_string())});
      ++depth;
    }
  }
}

void add_sip_measurement(report::HandshakeMeasurement& handshake,
                         const boost::json::object& sip_facts) {
  const auto* options = sip_facts.if_contains("options");
  if (!options || !options->is_object()) return;
  const auto& o = options->as_object();
  if (const auto* code = o.if_contains("status"); code && code->is_int64())
    handshake.sip_status_code = static_cast<int>(code->as_int64());
  if (const auto* ms = o.if_contains("round_trip_ms"); ms && ms->is_number())
    handshake.sip_options_seconds = seconds_from_ms(ms->to_number<double>());
}

void finish_monitoring(report::Monitoring& monitoring, tls::Clock::time_point started) {
  const auto now = tls::Clock::now();
  monitoring.finished_at =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  monitoring.duration_seconds = std::chrono::duration<double>(now - started).count();
}

void add_handshake_monitoring(report::Report& report, const tls::HandshakeRecord& record,
                              const tls::Store& ours, Side us,
                              const std::vector<tls::Certificate>* built) {
  auto& monitoring = report.monitoring;
  auto handshake = measure_handshake(record);
  if (const auto* sip = report.facts.if_contains("sip"); sip && sip->is_object())
    add_sip_measurement(handshake, sip->as_object());
  OfflineInputs own;
  own.bems = &ours;
  add_certificate_dates(monitoring, built ? *built : side_chain(own, Side::bems), kOurSide);
  add_certificate_dates(monitoring, record.peer_chain, kPeerSide, handshake.address);
  add_revocation_states(monitoring, report.facts, us, handshake.address);
  monitoring.handshakes.push_back(std::move(handshake));
}

}  // namespace probe
