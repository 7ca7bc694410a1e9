#include "probe/commands/sip_options.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>

#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/sip_findings.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/sip/builders.hpp"
#include "probe/sip/client.hpp"
#include "probe/sip/ms_diagnostics.hpp"
#include "probe/sip/presence_formats.hpp"
#include "tls/dns_name.hpp"

namespace probe {
namespace {

boost::json::object exchange_json(const sip::Exchange& exchange) {
  boost::json::object out;
  out["request"] = exchange.request_line;
  out["outcome"] = sip::to_string(exchange.outcome);
  if (exchange.response) {
    out["status"] = exchange.response->status_code;
    out["reason"] = exchange.response->reason;
    out["round_trip_ms"] = exchange.round_trip_ms;
    boost::json::array diagnostics;
    for (const sip::MsDiagnostic& diagnostic : sip::ms_diagnostics_of(*exchange.response)) {
      boost::json::object item;
      item["header"] = diagnostic.public_header ? "ms-diagnostics-public" : "ms-diagnostics";
      item["error_id"] = diagnostic.error_id;
      if (diagnostic.sub_code) item["sub_code"] = *diagnostic.sub_code;
      item["reason"] = diagnostic.reason;
      item["source"] = diagnostic.source;
      const auto* meaning = sip::ms_diagnostic_meaning(diagnostic.error_id);
      item["meaning"] =
          meaning ? boost::json::value(std::string(meaning->meaning)) : boost::json::value(nullptr);
      boost::json::object attributes;
      for (const auto& [name, value] : diagnostic.attributes) attributes[name] = value;
      item["attributes"] = std::move(attributes);
      diagnostics.push_back(std::move(item));
    }
    if (!diagnostics.empty()) out["ms_diagnostics"] = std::move(diagnostics);
  }
  if (exchange.notify) {
    auto state = sip::notify_presence_state(*exchange.notify);
    out["notify_content_type"] = exchange.notify->header("Content-Type").value_or("");
    out["notify_state"] = state ? boost::json::value(*state) : boost::json::value(nullptr);
  }
  if (!exchange.error.empty()) out["error"] = exchange.error;
  out["nothing_received"] = exchange.nothing_received;
  return out;
}

std::string exchange_line(const sip::Exchange& exchange) {
  if (!exchange.response)
    return std::string(sip::to_string(exchange.outcome)) + ": " + exchange.error;
  std::string line =
      sip::start_line_text(*exchange.response) + " in " + milliseconds_text(exchange.round_trip_ms);
  if (exchange.notify) {
    auto state = sip::notify_presence_state(*exchange.notify);
    line += "; NOTIFY (" + exchange.notify->header("Content-Type").value_or("no Content-Type") +
            "): " + state.value_or("no presence document");
  }
  return line;
}

// The late TLS 1.3 rejection that arrived instead of a SIP answer belongs to
// the handshake record, so the handshake findings name it.
void take_late_rejection(tls::HandshakeRecord& record, const tls::HandshakeRecord& updated) {
  record.alerts = updated.alerts;
  if (!updated.peer_rejected_us || record.peer_rejected_us) return;
  record.peer_rejected_us = true;
  record.peer_rejected_us_after_handshake = updated.peer_rejected_us_after_handshake;
  record.rejection_alert = updated.rejection_alert;
  record.error = updated.error;
  record.error_message = updated.error_message;
}

}  // namespace

void add_sip_serve_flags(CLI::App* command, SipServeFlags& flags) {
  command->add_flag("--sip", flags.sip,
                    "Speak SIP after each handshake as a mock Lync Front End: OPTIONS -> 200, "
                    "presence SUBSCRIBE -> 200 + NOTIFY, keep-alive CRLFCRLF -> CRLF");
  command->add_option("--presence", flags.presence,
                      "With --sip: a user's presence, user@domain=available|busy|away|offline "
                      "(repeatable)");
  command->add_option("--trusted-app", flags.trusted_applications,
                      "With --sip: a trusted application pool FQDN of our topology (repeatable); "
                      "a client whose certificate names none is dropped after the handshake, as "
                      "Lync does");
  command
      ->add_option("--sip-idle-timeout", flags.idle_timeout_seconds,
                   "With --sip: close a SIP connection idle this many seconds")
      ->capture_default_str();
}

mtls::Result<SipServerConfig> sip_server_config(const SipServeFlags& flags) {
  if (!flags.sip && (!flags.presence.empty() || !flags.trusted_applications.empty()))
    return mtls::Error{"--presence and --trusted-app need --sip"};
  if (!(flags.idle_timeout_seconds > 0))
    return mtls::Error{"--sip-idle-timeout must be a positive number of seconds"};
  SipServerConfig config;
  for (const std::string& text : flags.presence) {
    auto assignment = sip::parse_presence_assignment(text);
    if (!assignment) return mtls::Error{"--presence: " + assignment.error().message};
    config.mock.presence[assignment->user] = assignment->state;
  }
  for (const std::string& fqdn : flags.trusted_applications) {
    if (!tls::is_valid_fqdn(fqdn))
      return mtls::Error{"--trusted-app " + fqdn + ": not a valid FQDN"};
  }
  config.trusted_applications = flags.trusted_applications;
  config.idle_timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.idle_timeout_seconds * 1000));
  return config;
}

void start_sip_session(const tls::HandshakeRecord& record,
                       std::shared_ptr<tls::EstablishedConnection> connection,
                       const SipServerConfig& config, SipLog log,
                       std::shared_ptr<SipSessionWatch> watch) {
  if (!connection) return;
  auto local = parse_host_port(record.local_address, 5061);
  SipServerConfig session_config = config;
  if (local) session_config.mock.local_host = local->host;
  std::make_shared<SipServerSession>(std::move(connection), record, session_config, std::move(log),
                                     std::move(watch))
      ->start();
}

SipServeResult sip_serve_result(const tls::HandshakeRecord& record,
                                const std::optional<SipSessionFacts>& facts,
                                const SipServerConfig& config, std::chrono::milliseconds waited,
                                const std::vector<report::Finding>& judged) {
  SipServeResult result;
  result.findings.push_back(
      sip_trusted_application_finding(record, facts, config.trusted_applications, judged));
  result.findings.push_back(sip_requests_finding(record, facts, waited));
  result.section.title = "SIP over the MTLS connection (we are the pool)";
  if (!facts || !facts->started) {
    result.section.lines.emplace_back("session", "none: the handshake did not complete");
    result.facts["session"] = false;
    return result;
  }
  result.facts["session"] = true;
  boost::json::array requests;
  for (const sip::ServedRequest& served : facts->requests) {
    result.section.lines.emplace_back(served.request,
                                      served.answers.empty() ? "no answer due" : served.answers);
    boost::json::object item;
    item["request"] = served.request;
    item["method"] = served.method;
    item["status"] = served.status;
    item["answers"] = served.answers;
    requests.push_back(std::move(item));
  }
  result.facts["requests"] = std::move(requests);
  result.facts["keep_alives"] = facts->keep_alives;
  if (facts->keep_alives)
    result.section.lines.emplace_back("keep-alives", std::to_string(facts->keep_alives));
  if (facts->untrusted_application) {
    result.facts["untrusted_application"] = *facts->untrusted_application;
    result.section.lines.emplace_back("closed at once", *facts->untrusted_application);
  }
  if (!facts->framing_error.empty()) result.facts["framing_error"] = facts->framing_error;
  if (facts->ended) {
    result.facts["ended"] = *facts->ended;
    result.section.lines.emplace_back("ended", *facts->ended);
  } else {
    result.facts["ended"] = nullptr;
    result.section.lines.emplace_back("session", "still open when this report was made");
  }
  return result;
}

void add_sip_connect_flags(CLI::App* command, SipConnectFlags& flags) {
  command->add_flag("--sip", flags.sip,
                    "After the handshake send SIP OPTIONS on the connection and report the "
                    "answer (sip.options)");
  command->add_option("--sip-subscribe", flags.subscribe,
                      "Also subscribe to user@domain's presence and report it (sip.presence); "
                      "implies --sip");
  command
      ->add_option("--sip-presence-format", flags.presence_format,
                   "What the presence SUBSCRIBE accepts: msrtc (Lync's "
                   "application/msrtc-event-categories+xml first, then PIDF) or pidf "
                   "(application/pidf+xml only); default msrtc as BEMS, pidf as Lync")
      ->check(CLI::IsMember({"msrtc", "pidf"}));
}

SipProbeResult run_sip_probe(const tls::ClientSession& session, const SipConnectFlags& flags,
                             const std::string& expected_name, std::uint16_t port,
                             std::chrono::milliseconds timeout) {
  SipProbeResult result;
  result.record = session.record;
  result.section.title = "SIP over the MTLS connection";
  std::optional<sip::Exchange> options, presence;
  if (session.connection && session.record.ok()) {
    // We speak as the trusted application: From names our certificate's CN.
    std::string from = "sip:mtlsprobe.invalid";
    if (session.record.our_certificate_sent &&
        !session.record.our_certificate_sent->info().common_name.empty())
      from = "sip:" + session.record.our_certificate_sent->info().common_name;
    auto local = parse_host_port(session.record.local_address, 5061);
    std::string via_host = local ? local->host : std::string("mtlsprobe.invalid");
    std::string target =
        "sip:" + sip::uri_host(expected_name) + ":" + std::to_string(port) + ";transport=tls";

    sip::Client client(session.connection, timeout);
    options = client.send(sip::build_options_request(target, from, via_host));
    result.section.lines.emplace_back(options->request_line, exchange_line(*options));
    result.facts["options"] = exchange_json(*options);
    if (!flags.subscribe.empty() && options->outcome == sip::ExchangeOutcome::answered) {
      sip::Message subscribe =
          sip::build_subscribe_presence("sip:" + flags.subscribe, from, via_host, 60);
      // [MS-PRES] 2.2.2.4.1: Lync clients list the categories type first.
      if (flags.presence_format != "pidf")
        subscribe.set_header(
            "Accept", std::string(sip::kMsrtcCategoriesType) + ", " + std::string(sip::kPidfType));
      presence = client.send(subscribe, true);
      result.section.lines.emplace_back(presence->request_line, exchange_line(*presence));
      result.facts["presence"] = exchange_json(*presence);
    }
    take_late_rejection(result.record, session.connection->record());
  }
  result.findings.push_back(sip_options_finding(options, result.record));
  if (!flags.subscribe.empty()) {
    if (!presence && options && !options->response) {
      // The connection is gone: the presence finding says so.
      presence = options;
    }
    result.findings.push_back(sip_presence_finding(presence, flags.subscribe, result.record));
  }
  return result;
}

}  // namespace probe
