#pragma once
// Which finding a failed handshake of a load run is counted under: the one
// `connect` fails for it, from the same diagnosis of the same record, so a
// tester reads "20 x handshake.ca-list" and `connect` explains it in full.
// Only failures are diagnosed, and each distinct kind of failure once per
// worker: a run against a broken peer repeats the same failure thousands
// of times. No I/O.
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "probe/diagnosis/handshake.hpp"
#include "probe/sip/client.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"

namespace probe::load {

// The failing handshake finding of connect's diagnosis, in the order connect
// reports them (handshake.tcp, .protocol, .ca-list, .no-client-cert,
// .peer-rejected-us, .we-rejected-peer). Its detail names the likely cause
// (our certificate's own finding, the peer's) as connect's does.
report::Finding blamed_finding(const tls::HandshakeRecord& record, const LiveContext& context);

// A handshake that completed but whose SIP OPTIONS failed: sip.options, as
// connect --sip judges the exchange.
report::Finding blamed_sip_finding(const sip::Exchange& exchange,
                                   const tls::HandshakeRecord& record);

// blamed_finding() remembered by what decides it (the error, the alert, the
// peer's leaf, the verification error, the CA list), up to kMaxKinds kinds.
class FailureClassifier {
 public:
  static constexpr std::size_t kMaxKinds = 256;
  explicit FailureClassifier(LiveContext context) : context_(std::move(context)) {}
  const report::Finding& classify(const tls::HandshakeRecord& record);

 private:
  LiveContext context_;
  std::map<std::string, report::Finding> known_;
  report::Finding last_;
};

}  // namespace probe::load
