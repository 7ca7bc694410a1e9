#include "probe/online/connect_target.hpp"

#include <iostream>

#include "probe/commands/options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/handshake.hpp"
#include "probe/diagnosis/handshake_facts.hpp"
#include "probe/diagnosis/monitoring.hpp"
#include "probe/online/checks.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/rules/rules.hpp"

namespace probe {
namespace {

std::string host_port_text(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The name the peer's certificate must cover: the one asked for, else the
// name sent as SNI (a pool dialled by address with its FQDN as SNI), else
// the host dialled.
std::string expected_name(const ConnectTarget& target) {
  if (!target.expect_name.empty()) return target.expect_name;
  return target.sni.empty() ? target.host : target.sni;
}

// Our chain as prepare_endpoint built it once for the run, when it reached a
// trusted root with the store's leaf; null to build it again, as far as it
// goes, from the store.
const std::vector<tls::Certificate>* prepared_own_chain(const ConnectSettings& settings,
                                                        const tls::Store& store) {
  if (!settings.prepared || settings.prepared->store != &store || !store.leaf) return nullptr;
  const auto& judged = settings.prepared->own_chain;
  if (!judged || !judged->built.trusted || !judged->leaf.same_as(store.leaf->certificate))
    return nullptr;
  return &judged->built.chain;
}

tls::ClientOptions client_options(const ConnectTarget& target, const ConnectSettings& settings) {
  tls::ClientOptions options;
  options.host = target.dial_address.empty() ? target.host : target.dial_address;
  options.port = target.dial_port != 0 ? target.dial_port : target.port;
  // RFC 6066: SNI carries host names only, never address literals.
  options.sni =
      !target.sni.empty() ? target.sni : (is_ip_literal(target.host) ? std::string() : target.host);
  options.min_version = settings.min_version;
  options.max_version = settings.max_version;
  options.connect_timeout = settings.timeout;
  options.handshake_timeout = settings.timeout;
  options.verdict_wait = settings.verdict_wait;
  // The SIP exchange reads after the handshake anyway; a longer verdict
  // wait would only delay it.
  if (settings.sip.enabled())
    options.verdict_wait = std::min(options.verdict_wait, settings.timeout);
  if (settings.prepared && settings.prepared->store == settings.store) {
    options.credentials = settings.prepared->credentials;
    options.trust = settings.prepared->trust;
    options.context = settings.prepared->client_context;
  } else if (settings.store) {
    options.credentials = credentials_from(*settings.store);
    options.trust = trust_from(*settings.store);
  }
  return options;
}

}  // namespace

std::string target_label(const ConnectTarget& target) {
  std::string label = host_port_text(target.host, target.port);
  if (!target.dial_address.empty())
    label += " via " + host_port_text(target.dial_address,
                                      target.dial_port != 0 ? target.dial_port : target.port);
  return label;
}

report::Report diagnose_target(const tls::HandshakeRecord& record, const ConnectTarget& target,
                               const ConnectSettings& settings) {
  static const tls::Store kEmptyStore;
  const tls::Store& store = settings.store ? *settings.store : kEmptyStore;
  LiveContext context;
  context.us = settings.us;
  context.ours = &store;
  context.expected_name = expected_name(target);
  context.pool = settings.pool;
  context.instances = settings.instances;
  context.warn_days = settings.warn_days;
  if (settings.prepared && settings.prepared->store == &store) {
    context.own_chain = settings.prepared->own_chain;
    context.our_store = settings.prepared->our_store;
  }

  report::Report result = start_report("connect");
  result.sections.push_back(handshake_section("Handshake with " + record.target, record));
  result.facts["handshake"] = handshake_json(record);
  result.facts["store"] = store_json(store);
  result.findings = diagnose_handshake(record, context);
  // Both chains, as far as they could be built: ours from our store, the
  // peer's as our verification built it (or as it arrived).
  check_own_chain_online(record, settings.us, store, settings.revocation,
                         settings.revocation_options, result, settings.memo,
                         prepared_own_chain(settings, store));
  check_peer_chain_online(record, settings.us == Side::bems ? Side::lync : Side::bems, store,
                          settings.revocation, settings.revocation_options, result, settings.memo);
  point_to_online_owners(record, context, result.findings);
  return result;
}

TargetOutcome connect_target(const ConnectTarget& target, const ConnectSettings& settings) {
  tls::ClientOptions options = client_options(target, settings);
  if (settings.announce)
    std::cerr << "mtlsprobe: connecting to " << host_port_text(options.host, options.port)
              << (options.sni.empty() ? "" : " (SNI " + options.sni + ")") << " as "
              << side_name(settings.us) << "...\n";
  const auto started = tls::Clock::now();
  tls::ClientSession session = tls::connect_client(options);
  std::optional<SipProbeResult> sip;
  if (settings.sip.enabled())
    sip =
        run_sip_probe(session, settings.sip, expected_name(target), target.port, settings.timeout);
  TargetOutcome outcome;
  outcome.record = sip ? sip->record : session.record;
  if (session.connection) {
    session.connection->close();
    outcome.record.alerts = session.connection->record().alerts;  // alerts that came with the close
  }
  outcome.record.target = target_label(target);
  outcome.report = diagnose_target(outcome.record, target, settings);
  if (sip) {
    outcome.report.sections.push_back(sip->section);
    outcome.report.facts["sip"] = sip->facts;
    outcome.report.findings.insert(outcome.report.findings.end(), sip->findings.begin(),
                                   sip->findings.end());
  }
  static const tls::Store kEmptyStore;
  const tls::Store& store = settings.store ? *settings.store : kEmptyStore;
  add_handshake_monitoring(outcome.report, outcome.record, store, settings.us,
                           prepared_own_chain(settings, store));
  finish_monitoring(outcome.report.monitoring, started);
  return outcome;
}

}  // namespace probe
