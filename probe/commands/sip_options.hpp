#pragma once
// The SIP options of `serve` and `connect`, and what each command runs with
// them, so the command files only call in (serve.cpp, connect.cpp).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "probe/sip/server_session.hpp"
#include "report/model.hpp"
#include "tls/handshake.hpp"

// The flags' registration only needs the type; the .cpp includes CLI11.
namespace CLI {
class App;
}  // namespace CLI

namespace probe {

struct SipServeFlags {
  bool sip = false;
  std::vector<std::string> presence;  // user@domain=state
  std::vector<std::string> trusted_applications;
  double idle_timeout_seconds = 60;
};
void add_sip_serve_flags(CLI::App* command, SipServeFlags& flags);
// Checks the flags; the error names the option.
mtls::Result<SipServerConfig> sip_server_config(const SipServeFlags& flags);
// Starts the SIP session on a connection the server handed over; `watch`
// (may be null) is told what it sees.
void start_sip_session(const tls::HandshakeRecord& record,
                       std::shared_ptr<tls::EstablishedConnection> connection,
                       const SipServerConfig& config, SipLog log,
                       std::shared_ptr<SipSessionWatch> watch = nullptr);
// The SIP side of one served connection: sip.trusted-application and
// sip.requests, a text section and JSON facts. `facts` is nullopt when no
// session ran (the handshake failed); `waited` is how long the report waited
// for a first request; `judged` holds the report's other findings.
struct SipServeResult {
  std::vector<report::Finding> findings;
  report::Section section;
  boost::json::object facts;
};
SipServeResult sip_serve_result(const tls::HandshakeRecord& record,
                                const std::optional<SipSessionFacts>& facts,
                                const SipServerConfig& config, std::chrono::milliseconds waited,
                                const std::vector<report::Finding>& judged);

struct SipConnectFlags {
  bool sip = false;
  std::string subscribe;  // user@domain; implies --sip
  // What the SUBSCRIBE accepts: "msrtc" ([MS-PRES] categories first, as
  // Lync's own clients ask) or "pidf"; empty: msrtc toward a Lync peer.
  std::string presence_format;
  bool enabled() const { return sip || !subscribe.empty(); }
};
void add_sip_connect_flags(CLI::App* command, SipConnectFlags& flags);

struct SipProbeResult {
  tls::HandshakeRecord record;  // the session's record, with a late rejection if one came
  std::vector<report::Finding> findings;
  report::Section section;
  boost::json::object facts;
};
// OPTIONS sip:<expected_name>:<port>;transport=tls (and the presence
// SUBSCRIBE) on the session's connection, each bounded by `timeout`.
SipProbeResult run_sip_probe(const tls::ClientSession& session, const SipConnectFlags& flags,
                             const std::string& expected_name, std::uint16_t port,
                             std::chrono::milliseconds timeout);

}  // namespace probe
