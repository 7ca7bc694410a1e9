#include "probe/diagnosis/handshake_facts.hpp"

#include <boost/json/array.hpp>

#include "probe/diagnosis/facts.hpp"

namespace probe {
namespace {

std::string alert_text(const tls::AlertRecord& alert) {
  return std::string(alert.sent ? "sent " : "received ") + (alert.fatal ? "fatal " : "warning ") +
         alert.name + " (" + std::to_string(alert.code) + ")" +
         (alert.phase == tls::AlertPhase::after_handshake ? " after the handshake" : "");
}

std::string staple_text(const tls::HandshakeRecord& record) {
  const auto& staple = record.ocsp_staple;
  if (record.role == tls::HandshakeRole::server) {
    if (!staple.requested) return "the client did not ask";
    return staple.present ? "the client asked; we stapled our OCSP response"
                          : "the client asked; we had none to staple";
  }
  if (!staple.requested) return "not asked for";
  if (!staple.present) return "asked for, none stapled";
  return "stapled, " + std::to_string(staple.response_der.size()) +
         " bytes: " + (staple.status ? revocation_text(*staple.status) : "not verified");
}

}  // namespace

report::Section handshake_section(const std::string& title, const tls::HandshakeRecord& record) {
  report::Section section{title, {}};
  auto& lines = section.lines;
  bool client = record.role == tls::HandshakeRole::client;
  if (client) lines.emplace_back("target", record.target);
  if (!record.peer_address.empty()) lines.emplace_back("peer", record.peer_address);
  if (client && record.tcp_connected)
    lines.emplace_back("TCP connect", milliseconds_text(record.tcp_connect_ms));
  if (record.handshake_completed) {
    lines.emplace_back("TLS", tls::to_string(record.protocol_version) + ", " + record.cipher_suite +
                                  ", " + milliseconds_text(record.handshake_ms));
  } else if (!record.error_message.empty()) {
    lines.emplace_back("failed", record.error_message);
  }
  if (client) lines.emplace_back("SNI sent", record.sni_sent.empty() ? "(none)" : record.sni_sent);
  if (!client)
    lines.emplace_back("SNI received",
                       record.sni_received.empty() ? "(none)" : record.sni_received);
  if (record.our_certificate_sent) {
    lines.emplace_back("we sent", record.our_certificate_sent->subject() + " + " +
                                      std::to_string(record.our_chain_sent.size()) +
                                      " chain certificate(s)");
  } else {
    lines.emplace_back("we sent", "no certificate");
  }
  if (record.peer_chain.empty()) {
    lines.emplace_back("peer sent", "no certificate");
  } else {
    for (size_t i = 0; i < record.peer_chain.size(); ++i) {
      const auto& info = record.peer_chain[i].info();
      lines.emplace_back(i == 0 ? "peer chain" : "", "[" + std::to_string(i) + "] " + info.subject +
                                                         "  (issuer " + info.issuer + ", until " +
                                                         rfc3339(info.not_after) + ")");
    }
    lines.emplace_back("chain complete", record.peer_chain_complete ? "yes" : "no");
  }
  if (client) {
    if (!record.certificate_request_received) {
      lines.emplace_back("acceptable CAs", "no CertificateRequest");
    } else if (record.acceptable_ca_names.empty()) {
      lines.emplace_back("acceptable CAs", "(empty list)");
    } else {
      for (size_t i = 0; i < record.acceptable_ca_names.size(); ++i)
        lines.emplace_back(i == 0 ? "acceptable CAs" : "", record.acceptable_ca_names[i].subject);
    }
  }
  if (record.handshake_completed) lines.emplace_back("OCSP staple", staple_text(record));
  for (const auto& alert : record.alerts) lines.emplace_back("alert", alert_text(alert));
  if (record.peer_verification) {
    const auto& v = *record.peer_verification;
    lines.emplace_back("our verification",
                       v.trusted
                           ? "trusted"
                           : "failed at depth " + std::to_string(v.error_depth) + ": " + v.error);
  }
  return section;
}

boost::json::object handshake_json(const tls::HandshakeRecord& record) {
  boost::json::object o;
  o["role"] = tls::to_string(record.role);
  o["target"] = record.target;
  o["peer_address"] = record.peer_address;
  o["local_address"] = record.local_address;
  o["tcp_connected"] = record.tcp_connected;
  o["tcp_connect_ms"] = record.tcp_connect_ms;
  o["handshake_completed"] = record.handshake_completed;
  o["handshake_ms"] = record.handshake_ms;
  o["protocol_version"] = tls::to_string(record.protocol_version);
  o["cipher_suite"] = record.cipher_suite;
  o["sni_sent"] = record.sni_sent;
  o["sni_received"] = record.sni_received;
  o["alpn"] = record.alpn;
  o["min_version_allowed"] = tls::to_string(record.min_version_allowed);
  o["max_version_allowed"] = tls::to_string(record.max_version_allowed);
  o["security_level_lowered"] = record.security_level_lowered;
  boost::json::array chain;
  for (const auto& certificate : record.peer_chain)
    chain.push_back(certificate_json(certificate.info()));
  o["peer_chain"] = std::move(chain);
  o["peer_sent_certificate"] = record.peer_sent_certificate;
  o["peer_chain_in_order"] = record.peer_chain_in_order;
  o["peer_chain_complete"] = record.peer_chain_complete;
  o["our_certificate_sent"] =
      record.our_certificate_sent
          ? boost::json::value(certificate_json(record.our_certificate_sent->info()))
          : nullptr;
  boost::json::array sent_chain;
  for (const auto& certificate : record.our_chain_sent)
    sent_chain.emplace_back(certificate.subject());
  o["our_chain_sent"] = std::move(sent_chain);
  o["certificate_request_received"] = record.certificate_request_received;
  auto names = [](const std::vector<tls::CaName>& list) {
    boost::json::array array;
    for (const auto& name : list) array.emplace_back(name.subject);
    return array;
  };
  o["acceptable_ca_names"] = names(record.acceptable_ca_names);
  o["acceptable_ca_der_bytes"] = record.acceptable_ca_der_bytes;
  o["acceptable_ca_names_sent"] = record.acceptable_ca_names_sent
                                      ? names(*record.acceptable_ca_names_sent)
                                      : boost::json::array();
  boost::json::array alerts;
  for (const auto& alert : record.alerts) {
    boost::json::object a;
    a["direction"] = alert.sent ? "sent" : "received";
    a["level"] = alert.fatal ? "fatal" : "warning";
    a["code"] = alert.code;
    a["name"] = alert.name;
    a["phase"] = tls::to_string(alert.phase);
    alerts.push_back(std::move(a));
  }
  o["alerts"] = std::move(alerts);
  if (record.peer_verification) {
    boost::json::object v;
    v["trusted"] = record.peer_verification->trusted;
    v["error"] = record.peer_verification->error;
    v["error_depth"] = record.peer_verification->error_depth;
    v["error_certificate"] =
        record.peer_verification->error_certificate
            ? boost::json::value(record.peer_verification->error_certificate->subject)
            : nullptr;
    o["peer_verification"] = std::move(v);
  } else {
    o["peer_verification"] = nullptr;
  }
  boost::json::object staple;
  staple["requested"] = record.ocsp_staple.requested;
  staple["present"] = record.ocsp_staple.present;
  staple["bytes"] = record.ocsp_staple.response_der.size();
  staple["verification"] = record.ocsp_staple.status
                               ? boost::json::value(revocation_json(*record.ocsp_staple.status))
                               : nullptr;
  o["ocsp_staple"] = std::move(staple);
  o["peer_rejected_us"] = record.peer_rejected_us;
  o["peer_rejected_us_after_handshake"] = record.peer_rejected_us_after_handshake;
  o["error"] = tls::to_string(record.error);
  o["error_message"] = record.error_message;
  o["openssl_error"] = record.openssl_error;
  o["non_tls_protocol"] = record.non_tls_protocol;
  o["first_bytes_received"] = record.first_bytes_received;
  return o;
}

}  // namespace probe
