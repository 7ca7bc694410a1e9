#include "probe/exporter/handshake_counts.hpp"

#include "report/prometheus.hpp"

namespace probe {

std::string handshake_outcome(const tls::HandshakeRecord& record) {
  if (record.ok()) return "success";
  return tls::to_string(record.error);
}

void HandshakeCounts::count(const tls::HandshakeRecord& record) {
  std::string subject = record.peer_chain.empty() ? "" : record.peer_chain.front().subject();
  std::lock_guard lock(mutex_);
  if (!subject.empty() && !subjects_.contains(subject)) {
    if (subjects_.size() >= kMaxSubjects)
      subject = "(other)";
    else
      subjects_[subject] = true;
  }
  ++handshakes_[{handshake_outcome(record), subject}];
}

void HandshakeCounts::count_port_check() {
  std::lock_guard lock(mutex_);
  ++port_checks_;
}

std::string HandshakeCounts::exposition() const {
  report::Exposition out;
  out.family("mtlsprobe_serve_handshakes_total", report::MetricType::counter,
             "Handshakes this server saw, by outcome (success, we-rejected-peer, "
             "no-peer-certificate, ...) and the client certificate's subject (empty: none sent).");
  out.family("mtlsprobe_serve_port_checks_total", report::MetricType::counter,
             "Connections closed before sending anything (TCP port checks), not handshakes.");
  std::lock_guard lock(mutex_);
  for (const auto& [key, count] : handshakes_)
    out.sample("mtlsprobe_serve_handshakes_total",
               {{"outcome", key.first}, {"client_subject", key.second}},
               static_cast<double>(count));
  out.sample("mtlsprobe_serve_port_checks_total", {}, static_cast<double>(port_checks_));
  return out.text();
}

}  // namespace probe
