#pragma once
// Findings about the SIP exchange on a live MTLS connection: as the client
// (`connect --sip`) sip.options and sip.presence, as the mock pool (`serve
// --sip`) sip.trusted-application and sip.requests. Pure: exchange facts in,
// findings out.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "probe/sip/client.hpp"
#include "probe/sip/server_session.hpp"
#include "report/model.hpp"
#include "tls/handshake_record.hpp"

namespace probe {

// `exchange` is nullopt when no request was sent (the handshake failed).
report::Finding sip_options_finding(const std::optional<sip::Exchange>& exchange,
                                    const tls::HandshakeRecord& record);

report::Finding sip_presence_finding(const std::optional<sip::Exchange>& exchange,
                                     const std::string& user, const tls::HandshakeRecord& record);

// serve --sip. `facts` is nullopt when no SIP session ran (the handshake
// failed); `trusted` is the topology's trusted applications (--trusted-app);
// `judged` holds the report's other findings, so a name defect they already
// blame is pointed to, not blamed again.
report::Finding sip_trusted_application_finding(const tls::HandshakeRecord& record,
                                                const std::optional<SipSessionFacts>& facts,
                                                const std::vector<std::string>& trusted,
                                                const std::vector<report::Finding>& judged);
// `waited` is how long the report waited for the client's first request.
report::Finding sip_requests_finding(const tls::HandshakeRecord& record,
                                     const std::optional<SipSessionFacts>& facts,
                                     std::chrono::milliseconds waited);

}  // namespace probe
