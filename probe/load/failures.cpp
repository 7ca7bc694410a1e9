#include "probe/load/failures.hpp"

#include <array>

#include "probe/diagnosis/sip_findings.hpp"
#include "probe/findings.hpp"

namespace probe::load {
namespace {

// connect's handshake findings, in its order; peer.name is not among them:
// a name mismatch does not fail a handshake.
constexpr std::array kHandshakeIds{FindingId::handshake_tcp,
                                   FindingId::handshake_protocol,
                                   FindingId::handshake_ca_list,
                                   FindingId::handshake_no_client_cert,
                                   FindingId::handshake_peer_rejected_us,
                                   FindingId::handshake_we_rejected_peer};

std::string failure_key(const tls::HandshakeRecord& record) {
  std::string key = tls::to_string(record.error);
  key += '|';
  if (record.rejection_alert)
    key += std::to_string(record.rejection_alert->code) +
           (record.peer_rejected_us_after_handshake ? "late" : "");
  key += '|' + tls::to_string(record.protocol_version);
  key += '|' + std::to_string(record.acceptable_ca_names.size()) + '/' +
         std::to_string(record.acceptable_ca_der_bytes);
  key += record.certificate_request_received ? "|cr" : "|-";
  key += record.our_certificate_sent ? "|sent" : "|-";
  key += '|' + (record.peer_chain.empty() ? std::string() : record.peer_chain.front().sha256());
  if (record.peer_verification) key += '|' + record.peer_verification->error;
  key += '|' + record.error_message;
  return key;
}

}  // namespace

report::Finding blamed_finding(const tls::HandshakeRecord& record, const LiveContext& context) {
  const std::vector<report::Finding> findings = diagnose_handshake(record, context);
  for (FindingId id : kHandshakeIds) {
    const std::string text = id_text(id);
    for (const report::Finding& f : findings)
      if (f.id == text && f.status == report::Status::fail) return f;
  }
  // A rejection our own certificate explains is blamed by that certificate's
  // finding (the handshake finding then points there and does not fail).
  for (const report::Finding& f : findings)
    if (f.status == report::Status::fail) return f;
  // Every failed record fails one finding; should the diagnosis ever pass
  // them all, the protocol finding carries the record's own words.
  auto f = finding(FindingId::handshake_protocol, "TLS version and cipher suite agreed");
  return fail(f, "The handshake failed: " + record.error_message + ".",
              "Run `mtlsprobe connect` against the target for the full diagnosis.");
}

report::Finding blamed_sip_finding(const sip::Exchange& exchange,
                                   const tls::HandshakeRecord& record) {
  return sip_options_finding(exchange, record);
}

const report::Finding& FailureClassifier::classify(const tls::HandshakeRecord& record) {
  std::string key = failure_key(record);
  if (auto found = known_.find(key); found != known_.end()) return found->second;
  if (known_.size() >= kMaxKinds) {
    last_ = blamed_finding(record, context_);
    return last_;
  }
  return known_.emplace(std::move(key), blamed_finding(record, context_)).first->second;
}

}  // namespace probe::load
