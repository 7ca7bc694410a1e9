#pragma once
// Findings about the SIP exchange on a live MTLS connection (`connect
// --sip`): sip.options and sip.presence. Pure: exchange facts in, findings out.
#include <optional>
#include <string>

#include "probe/sip/client.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"

namespace probe {

// `exchange` is nullopt when no request was sent (the handshake failed).
report::Finding sip_options_finding(const std::optional<sip::Exchange>& exchange,
                                    const tls::HandshakeRecord& record);

report::Finding sip_presence_finding(const std::optional<sip::Exchange>& exchange,
                                     const std::string& user, const tls::HandshakeRecord& record);

}  // namespace probe
