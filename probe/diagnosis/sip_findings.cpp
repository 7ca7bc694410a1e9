#include "probe/diagnosis/sip_findings.hpp"

#include <algorithm>

#include "probe/diagnosis/facts.hpp"
#include "probe/rules/rules.hpp"
#include "probe/sip/builders.hpp"
#include "probe/sip/ms_diagnostics.hpp"
#include "probe/sip/presence_formats.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

using namespace rules;

// The names the peer's topology would look our certificate up by.
std::string our_names(const tls::HandshakeRecord& record) {
  if (!record.our_certificate_sent) return "no certificate";
  const tls::CertificateInfo& info = record.our_certificate_sent->info();
  std::string names = info.common_name.empty() ? "" : "CN " + in_quotes(info.common_name);
  if (!info.san_dns.empty()) {
    names += names.empty() ? "SAN " : ", SAN ";
    for (std::size_t i = 0; i < info.san_dns.size(); ++i)
      names += (i ? ", " : "") + in_quotes(info.san_dns[i]);
  }
  return names.empty() ? "no DNS name" : names;
}

// A request sent but no final answer: why, in terms of the requirements.
report::Finding& unanswered(report::Finding& f, const sip::Exchange& exchange,
                            const tls::HandshakeRecord& record) {
  using sip::ExchangeOutcome;
  switch (exchange.outcome) {
    case ExchangeOutcome::peer_rejected_us:
      return skip(f, "the peer rejected our certificate with a TLS alert instead of answering " +
                         exchange.request_line + " (see " +
                         id_text(FindingId::handshake_peer_rejected_us) + ")");
    case ExchangeOutcome::closed:
      if (exchange.nothing_received) {
        return fail(
            f,
            "The peer completed the handshake, then closed the connection without answering " +
                exchange.request_line + ". Lync/Skype does this when our certificate (" +
                our_names(record) + ") names no trusted application or server of its topology.",
            "The certificate's Subject CN must be the trusted application pool FQDN and its SAN "
            "must list the pool and every BEMS instance (the seed's Subject Name and SAN "
            "requirements), and that pool must be registered in the Lync/Skype topology: "
            "New-CsTrustedApplicationPool -Identity <pool FQDN> ... and New-CsTrustedApplication "
            "for it, then Enable-CsTopology. Compare Get-CsTrustedApplicationPool with our names.");
      }
      return fail(f,
                  "The peer closed the connection before answering " + exchange.request_line +
                      " (" + exchange.error + ").",
                  "Look at the Lync/Skype Front End's SIP log (OCSLogger, SIPStack) for why it "
                  "dropped the connection.");
    case ExchangeOutcome::timed_out:
      return fail(f, exchange.error + "; the connection stayed open.",
                  "Check that the peer on this port speaks SIP over TLS (a Lync/Skype Front End or "
                  "Edge on 5061) and that nothing between us holds the traffic.");
    case ExchangeOutcome::malformed:
      return fail(f, exchange.error + ".",
                  "Check that the peer on this port is a SIP server (a Lync/Skype Front End on "
                  "5061).");
    case ExchangeOutcome::answered:
      break;
  }
  return f;
}

// The pool's own account of a failure (Lync's ms-diagnostics), one
// sentence each, after what was seen.
std::string with_diagnostics(std::string seen, const sip::Message& response) {
  for (const sip::MsDiagnostic& diagnostic : sip::ms_diagnostics_of(response)) {
    std::string line = sip::describe(diagnostic);
    if (!line.ends_with('.')) line += '.';
    seen += " " + line;
  }
  return seen;
}

// The fix of the first diagnostic whose id we know, else `otherwise`.
std::string fix_for(const sip::Message& response, std::string otherwise) {
  for (const sip::MsDiagnostic& diagnostic : sip::ms_diagnostics_of(response)) {
    if (const auto* meaning = sip::ms_diagnostic_meaning(diagnostic.error_id))
      return std::string(meaning->fix);
  }
  return otherwise;
}

// The handshake finding that says why no SIP session ran.
FindingId handshake_cause(const tls::HandshakeRecord& record) {
  switch (record.error) {
    case tls::HandshakeError::we_rejected_peer:
      return FindingId::handshake_we_rejected_peer;
    case tls::HandshakeError::peer_rejected_us:
      return FindingId::handshake_peer_rejected_us;
    case tls::HandshakeError::no_peer_certificate:
      return FindingId::handshake_no_client_cert;
    case tls::HandshakeError::no_common_version:
    case tls::HandshakeError::no_common_cipher:
    case tls::HandshakeError::not_tls:
    case tls::HandshakeError::tls_error:
      return FindingId::handshake_protocol;
    default:
      return FindingId::handshake_tcp;
  }
}

std::string no_session(const tls::HandshakeRecord& record) {
  return "no SIP session: the handshake did not complete (see " + id_text(handshake_cause(record)) +
         ")";
}

// The client's certificate names a Lync topology looks it up by.
std::vector<std::string> client_names(const tls::HandshakeRecord& record) {
  std::vector<std::string> names;
  if (record.peer_chain.empty()) return names;
  const tls::CertificateInfo& leaf = record.peer_chain.front().info();
  if (!leaf.common_name.empty()) names.push_back(leaf.common_name);
  for (const std::string& dns : leaf.san_dns)
    if (std::find(names.begin(), names.end(), dns) == names.end()) names.push_back(dns);
  return names;
}

}  // namespace

report::Finding sip_trusted_application_finding(const tls::HandshakeRecord& record,
                                                const std::optional<SipSessionFacts>& facts,
                                                const std::vector<std::string>& trusted,
                                                const std::vector<report::Finding>& judged) {
  auto f = finding(FindingId::sip_trusted_application,
                   "The client's certificate names a trusted application of our topology");
  if (!record.peer_chain.empty()) about(f, record.peer_chain.front().info());
  if (!facts || !facts->started) return skip(f, no_session(record));
  if (trusted.empty())
    return skip(f, "no --trusted-app given: every client that completes the handshake is served");
  if (facts->untrusted_application) {
    std::string detail = "The " + *facts->untrusted_application +
                         ": Lync/Skype closes such a connection right after the handshake, "
                         "without a word of SIP, and so did we.";
    // A name rule of the same report may already blame the certificate.
    for (FindingId id : {FindingId::bems_subject_cn_fqdn, FindingId::bems_san_pool,
                         FindingId::bems_san_instances}) {
      for (const report::Finding& other : judged) {
        if (other.id != id_text(id) || other.status != report::Status::fail) continue;
        return fail(f, detail + " The defect in the certificate is reported by " + other.id + ".",
                    "Fix " + other.id + " (its own fix above).");
      }
    }
    return fail(
        f, detail,
        "Register the client's pool in the Lync/Skype topology (New-CsTrustedApplicationPool "
        "-Identity <pool FQDN>, New-CsTrustedApplication, then Enable-CsTopology), or give "
        "its certificate the registered pool FQDN as Subject CN and in the SAN.");
  }
  for (const std::string& name : client_names(record))
    for (const std::string& fqdn : trusted)
      if (tls::iequals(name, fqdn))
        return pass(f, "The client's certificate names " + in_quotes(name) +
                           ", a trusted application of our topology.");
  return pass(f, "The client's certificate names a trusted application of our topology.");
}

report::Finding sip_requests_finding(const tls::HandshakeRecord& record,
                                     const std::optional<SipSessionFacts>& facts,
                                     std::chrono::milliseconds waited) {
  auto f = finding(FindingId::sip_requests, "The client's SIP requests were answered");
  if (!facts || !facts->started) return skip(f, no_session(record));
  if (facts->untrusted_application)
    return skip(f, "not served: we closed the connection at once (see " +
                       id_text(FindingId::sip_trusted_application) + ")");
  std::string seen;
  std::vector<const sip::ServedRequest*> refused;
  for (const sip::ServedRequest& served : facts->requests) {
    if (served.status == 0) continue;  // an ACK: no answer is due
    seen += (seen.empty() ? "" : "; ") + served.request + " -> " + served.answers;
    if (served.status >= 300) refused.push_back(&served);
  }
  if (facts->keep_alives)
    seen += (seen.empty() ? "" : "; ") + std::to_string(facts->keep_alives) +
            " CRLFCRLF keep-alive(s) answered";
  if (!facts->framing_error.empty()) {
    return fail(f,
                (seen.empty() ? std::string() : seen + ". ") +
                    "The client sent bytes that are not SIP (" + facts->framing_error +
                    "); we answered 400 Bad Request and closed the connection, as a Front End "
                    "does.",
                "Check that the client speaks SIP over TLS on this port (BEMS's Lync/Skype "
                "connection: the pool FQDN, port 5061, TLS).");
  }
  if (facts->requests.empty() || seen.empty()) {
    std::string why =
        facts->ended ? "the client ended the session without a SIP request (" + *facts->ended + ")"
                     : "the client sent no SIP request within " +
                           milliseconds_text(waited.count()) + " of the handshake";
    return skip(f, why + (facts->keep_alives ? "; " + seen : std::string()));
  }
  if (!refused.empty()) {
    return warn(f, "We answered " + seen + ".",
                "The mock pool knows only the presence users given with --presence "
                "user@domain=state and implements OPTIONS and presence SUBSCRIBE; the real pool "
                "answers for its own users.");
  }
  return pass(f, "We answered " + seen + ".");
}

report::Finding sip_options_finding(const std::optional<sip::Exchange>& exchange,
                                    const tls::HandshakeRecord& record) {
  auto f = finding(FindingId::sip_options, "The peer answers SIP OPTIONS");
  if (!exchange) {
    return skip(f, "no SIP request sent: the handshake did not succeed (" +
                       (record.error_message.empty() ? std::string("see handshake.*")
                                                     : record.error_message) +
                       ")");
  }
  if (!exchange->response) return unanswered(f, *exchange, record);
  const sip::Message& response = *exchange->response;
  std::string seen =
      exchange->request_line + " answered " + sip::start_line_text(response) + " in " +
      milliseconds_text(exchange->round_trip_ms) +
      (response.header("Server") ? " by " + in_quotes(*response.header("Server")) : std::string()) +
      ".";
  seen = with_diagnostics(std::move(seen), response);
  int code = response.status_code;
  if (code < 300) return pass(f, seen);
  if (code >= 500)
    return fail(
        f, seen,
        fix_for(response, "The peer failed the request: look at its SIP log for the cause."));
  return warn(f, seen,
              fix_for(response,
                      "The peer refused OPTIONS but the MTLS link itself works; check the request "
                      "URI (--expect-name) and the peer's SIP configuration."));
}

report::Finding sip_presence_finding(const std::optional<sip::Exchange>& exchange,
                                     const std::string& user, const tls::HandshakeRecord& record) {
  auto f = finding(FindingId::sip_presence, "A presence subscription for " + user + " is answered");
  if (!exchange) {
    return skip(f,
                "no SUBSCRIBE sent: the handshake did not succeed (" + record.error_message + ")");
  }
  if (!exchange->response) return unanswered(f, *exchange, record);
  const sip::Message& response = *exchange->response;
  std::string seen = "SUBSCRIBE for " + user + " answered " + sip::start_line_text(response) +
                     " in " + milliseconds_text(exchange->round_trip_ms);
  int code = response.status_code;
  if (code >= 500)
    return fail(f, with_diagnostics(seen + ".", response),
                fix_for(response, "Look at the peer's SIP log for the cause."));
  if (code == 404)
    return warn(
        f, with_diagnostics(seen + ": the pool does not know this user.", response),
        fix_for(response,
                "Check the user's SIP address and that the user is enabled for Lync/Skype."));
  if (code >= 300)
    return warn(f, with_diagnostics(seen + ".", response),
                fix_for(response, "Check the user's SIP address and the pool's presence policy."));
  if (!exchange->notify)
    return warn(f, seen + ", but no NOTIFY with the presence state followed.",
                "Look at the peer's SIP log: a subscription is answered with a NOTIFY.");
  auto state = sip::notify_presence_state(*exchange->notify);
  std::string type = exchange->notify->header("Content-Type").value_or("no Content-Type");
  if (!state)
    return warn(f,
                seen + "; the NOTIFY (" + type +
                    ") carried no presence state we could read (PIDF or [MS-PRES] categories).",
                "Look at the peer's presence configuration.");
  return pass(f, seen + "; NOTIFY (" + type + ") says " + user + " is " + *state + ".");
}

}  // namespace probe
