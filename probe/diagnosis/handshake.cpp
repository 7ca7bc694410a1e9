#include "probe/diagnosis/handshake.hpp"

#include <algorithm>

#include "probe/diagnosis/facts.hpp"
#include "probe/rules/rules.hpp"
#include "tls/alerts.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

using namespace rules;
using tls::HandshakeError;

report::Finding tcp_finding(const tls::HandshakeRecord& record) {
  auto f = finding(FindingId::handshake_tcp, "TCP connection to the peer");
  if (record.role == tls::HandshakeRole::server)
    return pass(f, "Connection from " + record.peer_address + ".");
  switch (record.error) {
    case HandshakeError::local_error:
      return fail(
          f, "Our side could not take part: " + record.error_message + ".",
          "Fix our own credentials first (see the key and store findings of `mtlsprobe check`).");
    case HandshakeError::dns_failure:
      return fail(
          f, "The name in " + record.target + " does not resolve: " + record.error_message + ".",
          "Check the DNS record of the pool FQDN, or dial an address with --connect-to ADDR[:PORT] "
          "while keeping the name for SNI and checks.");
    case HandshakeError::connection_refused:
      return fail(
          f, "Connection to " + record.target + " refused: nothing listens on that port.",
          "Check the port (Lync/Skype MTLS is 5061 by default) and that the service is running.");
    case HandshakeError::network_unreachable:
      return fail(
          f, "The network of " + record.target + " is unreachable: " + record.error_message + ".",
          "Check routing and the address.");
    case HandshakeError::connect_timeout:
      return fail(f,
                  "No answer from " + record.target +
                      " within the connect timeout (a firewall dropping "
                      "packets, or a wrong address).",
                  "Check firewalls between the hosts for TCP " + record.target + ".");
    case HandshakeError::tcp_error:
      return fail(f,
                  "TCP connection to " + record.target + " failed: " + record.error_message + ".",
                  "Check the address, port and network path.");
    default:
      break;
  }
  if (!record.tcp_connected) return fail(f, record.error_message, "Check the address and port.");
  return pass(f, "Connected to " + record.peer_address + " in " +
                     milliseconds_text(record.tcp_connect_ms) + ".");
}

// What to change when no version was common, from the range we allowed: a
// range below TLS 1.2 is ours to widen; with 1.2 allowed, the peer speaks
// only older versions (or only 1.3, which Lync/Skype never requires).
std::string no_common_version_remedy(const tls::HandshakeRecord& record) {
  using tls::TlsVersion;
  const auto max = record.max_version_allowed;
  const auto min = record.min_version_allowed;
  if (max && *max < TlsVersion::tls1_2)
    return "Allow TLS 1.2 (--tls-max 1.2): Lync/Skype servers on Windows Server 2019 and earlier "
           "top out at TLS 1.2, and recent ones refuse TLS 1.0/1.1.";
  if (max && *max == TlsVersion::tls1_2 && min && *min == TlsVersion::tls1_2)
    return "The peer may speak TLS 1.3 only: allow it (--tls-max 1.3), and TLS 1.2 on the peer "
           "for the Lync/Skype servers that have no TLS 1.3.";
  if (min && *min == TlsVersion::tls1_0)
    return "The peer speaks none of TLS 1.0 to 1.3 (SSL 3 at most): enable TLS 1.2 in schannel on "
           "the peer.";
  return "The peer speaks only TLS 1.1 or older: enable TLS 1.2 in schannel on the peer (Lync "
         "2013 and Skype for Business 2015 need their TLS 1.2 updates first). To judge its "
         "certificate meanwhile, allow the old version here (--tls-min 1.0).";
}

report::Finding protocol_finding(const tls::HandshakeRecord& record) {
  auto f = finding(FindingId::handshake_protocol, "TLS version and cipher suite agreed");
  if (!record.tcp_connected) return skip(f, "no TCP connection");
  switch (record.error) {
    case HandshakeError::not_tls:
      return fail(
          f,
          "The peer does not speak TLS" +
              (record.non_tls_protocol.empty() ? std::string()
                                               : ": it answered in " + record.non_tls_protocol) +
              " (first bytes: \"" + record.first_bytes_received + "\").",
          "Point the probe at the MTLS port (5061): this port speaks " +
              (record.non_tls_protocol.empty()
                   ? std::string("something other than TLS (SIP over TCP on 5060, HTTP, ...)")
                   : record.non_tls_protocol + " in clear text") +
              ".");
    case HandshakeError::no_common_version:
      return fail(f,
                  "No TLS version both sides allow (we allowed " +
                      tls::to_string(record.min_version_allowed) + " to " +
                      tls::to_string(record.max_version_allowed) + "): " + record.error_message +
                      ".",
                  no_common_version_remedy(record));
    case HandshakeError::no_common_cipher:
      return fail(
          f,
          "No cipher suite, group or signature algorithm both sides allow: " +
              record.error_message + ".",
          "Enable a common ECDHE-RSA/ECDHE-ECDSA AES-GCM suite on the Windows peer (IIS Crypto / "
          "Group Policy SSL Cipher Suite Order).");
    case HandshakeError::handshake_timeout:
      return fail(f, "The handshake timed out: " + record.error_message + ".",
                  "A stalled CRL download on the peer can hold the handshake (see the revocation "
                  "requirement); otherwise check for a proxy or IPS in the path.");
    case HandshakeError::peer_closed:
      return fail(
          f, "The peer closed the connection during the handshake without an alert.",
          "Windows peers do this when they reject the client certificate or cannot check its "
          "revocation; look at the peer's System event log (Schannel events 36874/36888).");
    case HandshakeError::tls_error:
      return fail(f, "The TLS handshake failed: " + record.error_message + ".",
                  "See the alerts and OpenSSL's reason above.");
    default:
      break;
  }
  if (!record.handshake_completed)
    return skip(f, "the handshake did not complete: " + record.error_message);
  return pass(f, tls::to_string(record.protocol_version) + " with " + record.cipher_suite + " in " +
                     milliseconds_text(record.handshake_ms) +
                     (record.security_level_lowered
                          ? " (OpenSSL security level lowered for TLS 1.0/1.1, as asked)"
                          : "") +
                     ".");
}

bool same_certificates(const std::vector<tls::Certificate>& a,
                       const std::vector<tls::Certificate>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.same_as(y); });
}

bool judged_what_was_sent(const OwnChain& judged, const tls::HandshakeRecord& record) {
  return record.our_certificate_sent && judged.leaf.same_as(*record.our_certificate_sent) &&
         same_certificates(judged.sent, record.our_chain_sent);
}

// Our leaf and what we sent, built against our own store (diagnose_handshake
// sees to it that the context holds it whenever we sent a certificate).
const tls::ChainVerification& own_chain(const tls::HandshakeRecord& record,
                                        const LiveContext& context) {
  static const tls::ChainVerification kNothingSent;
  if (!record.our_certificate_sent || !context.own_chain) return kNothingSent;
  return context.own_chain->built;
}

bool name_in_list(const std::vector<std::uint8_t>& der, const std::vector<tls::CaName>& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](const tls::CaName& name) { return name.der == der; });
}

// Whether the server's acceptable-CA list names a CA of our chain: a server
// accepts a chain whose certificates name a listed CA as issuer (or are one),
// so the chain we can build locally counts, root included. Empty when it
// cannot be judged (no list, nothing sent, or our chain stops at our leaf).
std::optional<bool> chain_in_ca_list(const tls::HandshakeRecord& record,
                                     const LiveContext& context) {
  const auto& names = record.acceptable_ca_names;
  if (names.empty() || !record.our_certificate_sent) return std::nullopt;
  std::vector<tls::Certificate> ours{*record.our_certificate_sent};
  ours.insert(ours.end(), record.our_chain_sent.begin(), record.our_chain_sent.end());
  if (context.ours) {
    const auto& built = own_chain(record, context);
    if (!built.trusted && built.reason == tls::ChainError::issuer_not_found &&
        built.error_depth == 0)
      return std::nullopt;
    ours.insert(ours.end(), built.chain.begin(), built.chain.end());
  }
  return std::any_of(ours.begin(), ours.end(), [&](const tls::Certificate& certificate) {
    return name_in_list(certificate.issuer_der(), names) ||
           name_in_list(certificate.subject_der(), names);
  });
}

std::vector<const report::Finding*> likely_causes(const std::vector<report::Finding>& judged,
                                                  Side side, std::optional<int> alert_code);

// A handshake finding that shows on the wire a defect another finding of the
// same report blames: it says what the wire showed and points there, and does
// not fail a second time for the same defect (one defect, one failing finding).
report::Finding shown_on_the_wire(report::Finding& f, const std::string& seen,
                                  const std::vector<const report::Finding*>& owners,
                                  const std::string& more = {}) {
  std::string ids;
  for (size_t i = 0; i < owners.size(); ++i)
    ids += (i == 0 ? "" : i + 1 == owners.size() ? " and " : ", ") + owners[i]->id;
  return skip(f, seen + "; the defect is reported by " + ids + (more.empty() ? "" : ". " + more));
}
report::Finding shown_on_the_wire(report::Finding& f, const std::string& seen,
                                  const report::Finding& owner, const std::string& more = {}) {
  return shown_on_the_wire(f, seen, std::vector<const report::Finding*>{&owner}, more);
}

// Whether a peer's alert is the one its stack sends for the defect `cause`
// blames: the specific alerts name one kind of defect, the generic ones
// (bad_certificate, certificate_unknown, handshake_failure, access_denied)
// any. A specific alert about another kind of defect leaves the rejection
// unexplained.
bool alert_points_to(int alert_code, const report::Finding& cause, Side side) {
  auto is = [&](FindingId bems, FindingId lync) {
    return cause.id == id_text(for_side(side, bems, lync));
  };
  switch (alert_code) {
    case tls::alert::unknown_ca:
      return is(FindingId::bems_chain_trusted, FindingId::lync_chain_trusted) ||
             is(FindingId::bems_chain_intermediates, FindingId::lync_chain_intermediates) ||
             cause.id == id_text(FindingId::trust_mutual);
    case tls::alert::certificate_expired:
      return is(FindingId::bems_validity, FindingId::lync_validity);
    case tls::alert::unsupported_certificate:
      return is(FindingId::bems_eku, FindingId::lync_eku) ||
             is(FindingId::bems_key_strength, FindingId::lync_key_strength);
    case tls::alert::certificate_revoked:
      return is(FindingId::bems_revocation, FindingId::lync_revocation);
    case tls::alert::bad_certificate:
    case tls::alert::certificate_unknown:
    case tls::alert::handshake_failure:
    case tls::alert::access_denied:
      return true;
    default:
      return false;
  }
}

// Whether a failing finding is about something chain verification refuses
// (trust, intermediates, dates, purpose, strength, revocation): what one of
// the specific alerts is sent for.
bool refuses_in_verification(const report::Finding& cause, Side side) {
  for (int alert : {tls::alert::unknown_ca, tls::alert::certificate_expired,
                    tls::alert::unsupported_certificate, tls::alert::certificate_revoked})
    if (alert_points_to(alert, cause, side)) return true;
  return false;
}

report::Finding ca_list_finding(const tls::HandshakeRecord& record, const LiveContext& context,
                                const std::vector<report::Finding>& own) {
  auto f =
      finding(FindingId::handshake_ca_list, "Our chain is among the client CAs the server accepts");
  if (record.role == tls::HandshakeRole::server) {
    const std::size_t sent =
        record.acceptable_ca_names_sent ? record.acceptable_ca_names_sent->size() : 0;
    return pass(f, "We sent " + std::to_string(sent) +
                       " acceptable client-CA name(s) in our CertificateRequest.");
  }
  if (!record.handshake_completed && !record.certificate_request_received)
    return skip(f, "the handshake ended before a CertificateRequest");
  if (!record.certificate_request_received) {
    return warn(
        f,
        "The server did not ask for a client certificate: this connection is TLS, not mutual TLS.",
        "Configure the peer to require client certificates on the MTLS port (Lync/Skype does on "
        "5061).");
  }
  const auto& names = record.acceptable_ca_names;
  std::string counted = std::to_string(names.size()) + " name(s), " +
                        std::to_string(record.acceptable_ca_der_bytes) + " bytes";
  if (names.empty()) {
    return pass(
        f,
        "The server's CertificateRequest names no CAs (normal for Windows Server 2012 and later, "
        "which no longer send the trusted issuer list).");
  }
  if (!record.our_certificate_sent)
    return skip(f, "we sent no certificate to compare (" + counted + ")");
  std::optional<bool> listed = chain_in_ca_list(record, context);
  if (!listed) {
    return warn(f,
                "The server accepts client certificates from " + counted +
                    "; our chain cannot be built "
                    "past our certificate to compare (see " +
                    id_text(for_side(context.us, FindingId::bems_chain_intermediates,
                                     FindingId::lync_chain_intermediates)) +
                    ").",
                "Complete our intermediate/ so the chain can be sent and compared.");
  }
  if (!*listed) {
    // When our own checks blame why the peer does not know our CA, this
    // shows it on the wire and points there.
    auto causes = likely_causes(own, context.us, tls::alert::unknown_ca);
    // Only a chain finding explains a CA list without our CA (an expired
    // certificate, say, does not).
    if (!causes.empty() && alert_points_to(tls::alert::unknown_ca, *causes.front(), context.us))
      return shown_on_the_wire(f,
                               "the server accepts client certificates from " + counted +
                                   ", and none is the issuer of our certificate or of its chain (" +
                                   in_quotes(record.our_certificate_sent->info().issuer) + ")",
                               *causes.front());
    return fail(f,
                "The server accepts client certificates from " + counted +
                    ", and none is the issuer of our "
                    "certificate or of its chain (" +
                    in_quotes(record.our_certificate_sent->info().issuer) +
                    "): expect a rejection.",
                "Import our root CA into the peer's Trusted Root Certification Authorities store, "
                "or present a "
                "certificate from a CA the peer lists.");
  }
  if (record.acceptable_ca_der_bytes > 16 * 1024) {
    return warn(f, "The list has " + counted + ": over 16 KB, where Windows schannel truncates it.",
                "Remove unneeded roots from the peer's Trusted Root store, or set "
                "SendTrustedIssuerList=0.");
  }
  return pass(f, "A CA of our chain is in the server's acceptable-CA list (" + counted + ").");
}

report::Finding no_client_cert_finding(const tls::HandshakeRecord& record,
                                       const LiveContext& context) {
  auto f = finding(FindingId::handshake_no_client_cert, "A client certificate was sent");
  if (record.role == tls::HandshakeRole::server) {
    if (!record.tcp_connected || (!record.handshake_completed && !record.peer_sent_certificate &&
                                  record.error != HandshakeError::no_peer_certificate))
      return skip(f,
                  "the handshake ended before the client's certificate: " + record.error_message);
    if (!record.peer_sent_certificate) {
      return fail(f, "The client (" + record.peer_address + ") sent no certificate.",
                  "Configure the " + side_name(other(context.us)) +
                      " side to present its certificate; a Windows client sends none when its "
                      "issuer is not in "
                      "the acceptable-CA list or the certificate lacks clientAuth.");
    }
    // A record is built from what OpenSSL kept: a sent certificate without a
    // kept chain must not be dereferenced.
    if (record.peer_chain.empty()) return pass(f, "The client sent a certificate.");
    return pass(f, "The client sent " + in_quotes(record.peer_chain.front().subject()) + ".");
  }
  if (!context.ours || !context.ours->leaf || !context.ours->key ||
      !context.ours->key->matches(context.ours->leaf->certificate)) {
    // Judged in the same report (pair), the key finding blames it; this one
    // shows it on the wire and points there.
    if (context.own_judged && context.us == Side::bems)
      for (const auto& judged : *context.own_judged)
        if (judged.status == report::Status::fail &&
            (judged.id == id_text(FindingId::bems_key_present) ||
             judged.id == id_text(FindingId::bems_key_matches)))
          return shown_on_the_wire(f, "we had no certificate with its matching private key to send",
                                   judged);
    return fail(
        f,
        "We had no certificate with its matching private key to send (see " + side_id(context.us) +
            ".key.present and .key.matches).",
        "Give the probe the endpoint's certificate and key (--store, --pfx or --cert/--key).");
  }
  if (!record.certificate_request_received)
    return skip(f, "the server did not ask for a client certificate");
  if (!record.our_certificate_sent)
    return fail(f, "The server asked for a client certificate and we sent none.",
                "Check that the certificate and key are readable and match (bems.key.*).");
  return pass(f, "We sent " + in_quotes(record.our_certificate_sent->subject()) + ".");
}

// Our own failing findings (or the peer's) that explain a rejection, the ones
// this alert points at first, then the rest in a fixed order: an untrusted
// root before a missing intermediate (importing the intermediate alone does
// not help then), the cross-store trust.mutual after both.
std::vector<const report::Finding*> likely_causes(const std::vector<report::Finding>& judged,
                                                  Side side, std::optional<int> alert_code) {
  using Pair = std::pair<FindingId, FindingId>;
  const Pair intermediates{FindingId::bems_chain_intermediates,
                           FindingId::lync_chain_intermediates};
  const Pair trusted{FindingId::bems_chain_trusted, FindingId::lync_chain_trusted};
  const Pair mutual{FindingId::trust_mutual, FindingId::trust_mutual};
  const Pair validity_ids{FindingId::bems_validity, FindingId::lync_validity};
  const Pair eku_ids{FindingId::bems_eku, FindingId::lync_eku};
  const Pair san_syntax_ids{FindingId::bems_san_syntax, FindingId::lync_san_syntax};
  const Pair strength{FindingId::bems_key_strength, FindingId::lync_key_strength};
  const Pair revocation{FindingId::bems_revocation, FindingId::lync_revocation};
  // The name rules exist for the BEMS certificate only.
  const Pair names[] = {{FindingId::bems_subject_cn_fqdn, FindingId::bems_subject_cn_fqdn},
                        {FindingId::bems_san_pool, FindingId::bems_san_pool},
                        {FindingId::bems_san_instances, FindingId::bems_san_instances}};
  std::vector<Pair> order;
  if (alert_code == tls::alert::certificate_expired) order = {validity_ids};
  if (alert_code == tls::alert::unsupported_certificate) order = {eku_ids, strength};
  if (alert_code == tls::alert::unknown_ca) order = {trusted, intermediates, mutual};
  if (alert_code == tls::alert::certificate_revoked) order = {revocation};
  for (const Pair& usual : {trusted, intermediates, mutual, validity_ids, eku_ids, san_syntax_ids,
                            strength, revocation})
    if (std::find(order.begin(), order.end(), usual) == order.end()) order.push_back(usual);
  if (side == Side::bems) order.insert(order.end(), std::begin(names), std::end(names));
  std::vector<const report::Finding*> causes;
  for (const Pair& ids : order) {
    const std::string id = id_text(for_side(side, ids.first, ids.second));
    for (const report::Finding& finding : judged)
      if (finding.status == report::Status::fail && finding.id == id) causes.push_back(&finding);
  }
  return causes;
}

report::Finding peer_rejected_finding(const tls::HandshakeRecord& record,
                                      const LiveContext& context,
                                      const std::vector<report::Finding>& own) {
  auto f = finding(FindingId::handshake_peer_rejected_us, "The peer accepted our certificate");
  if (!record.tcp_connected) return skip(f, "no TCP connection");
  if (record.our_certificate_sent) about(f, record.our_certificate_sent->info());
  if (record.peer_rejected_us && record.rejection_alert) {
    const auto& alert = *record.rejection_alert;
    std::string when =
        record.peer_rejected_us_after_handshake
            ? " right after the handshake (TLS 1.3 sends the verdict on a client certificate then)"
            : " during the handshake";
    // Without a certificate from us the alert is about its absence, which
    // handshake.no-client-cert shows (and the key finding behind it blames).
    if (!record.our_certificate_sent)
      return skip(f, "we sent no certificate, so the peer's alert " + alert.name + " (" +
                         std::to_string(alert.code) + ") is about its absence (see " +
                         id_text(FindingId::handshake_no_client_cert) + ")");
    std::string detail = "The peer sent the alert " + alert.name + " (" +
                         std::to_string(alert.code) + ")" + when + ".";
    auto causes = likely_causes(own, context.us, alert.code);
    if (!causes.empty() && alert_points_to(alert.code, *causes.front(), context.us))
      return shown_on_the_wire(f,
                               "the peer sent the alert " + alert.name + " (" +
                                   std::to_string(alert.code) + ")" + when +
                                   ", as its stack does for this defect",
                               *causes.front(), explain_rejection_alert(alert.code));
    if (!causes.empty()) {
      detail += " Likely cause, from our own checks of what we sent: " + causes.front()->id + " (" +
                causes.front()->detail + ")";
      if (causes.size() > 1) {
        detail += "; also failing:";
        for (size_t i = 1; i < causes.size(); ++i)
          detail += std::string(i == 1 ? " " : ", ") + causes[i]->id;
      }
      detail += ". What the alert means: " + explain_rejection_alert(alert.code);
      return fail(f, detail,
                  "Fix " + causes.front()->id + " first (its own fix above), then try again.");
    }
    detail += " " + explain_rejection_alert(alert.code);
    std::optional<bool> listed = chain_in_ca_list(record, context);
    if (listed && !*listed) {
      detail += " No CA of our chain is in the peer's acceptable-CA list (see handshake.ca-list).";
    } else if (record.our_certificate_sent) {
      detail +=
          " Our own checks of the certificate and chain we sent pass, so look at the peer: "
          "its trusted roots, its intermediate store, and whether it can reach our CRL or "
          "OCSP responder.";
    }
    return fail(f, detail,
                "Import our root CA into the peer's Trusted Root store (and our intermediate into "
                "its Intermediate store), or fix the requirement the peer's log names.");
  }
  if (record.role == tls::HandshakeRole::server) {
    if (!record.handshake_completed)
      return skip(f, "the handshake did not complete: " + record.error_message);
    return pass(f, "The client completed the handshake with our certificate.");
  }
  if (!record.handshake_completed)
    return skip(f, "the handshake did not complete: " + record.error_message);
  if (record.protocol_version == tls::TlsVersion::tls1_3 && !record.waited_for_verdict)
    return skip(f,
                "in TLS 1.3 the server judges our certificate after our handshake ends, and we "
                "did not wait for its verdict (--verdict-wait 0)");
  return pass(
      f,
      record.protocol_version == tls::TlsVersion::tls1_3 && record.waited_for_verdict
          ? "No alert arrived while we waited after the TLS 1.3 handshake for the server's verdict."
          : "The server finished the handshake after seeing our certificate.");
}

report::Finding we_rejected_finding(const tls::HandshakeRecord& record, const LiveContext& context,
                                    const std::vector<report::Finding>& peer) {
  auto f = finding(FindingId::handshake_we_rejected_peer, "We accept the peer's certificate");
  if (!record.peer_verification) {
    return skip(f, record.peer_sent_certificate ? "the peer's certificate was not verified"
                                                : "the peer presented no certificate");
  }
  const auto& verification = *record.peer_verification;
  if (!record.peer_chain.empty()) about(f, record.peer_chain.front().info());
  if (verification.trusted) {
    return pass(f, "The " + side_name(other(context.us)) +
                       " chain verifies against our trusted-root/ (" +
                       std::to_string(verification.chain.size()) + " certificates).");
  }
  std::string at = verification.error_certificate
                       ? " at depth " + std::to_string(verification.error_depth) + " (" +
                             in_quotes(verification.error_certificate->subject) + ")"
                       : "";
  if (verification.error_certificate) about(f, *verification.error_certificate);
  // The defect itself is blamed by the peer's own finding; this one shows it
  // on the wire and points there.
  std::vector<std::string> blamed;
  const auto causes = likely_causes(peer, other(context.us), std::nullopt);
  for (const report::Finding* cause : causes) blamed.push_back(cause->id);
  // Only a finding about what verification refuses explains our refusal: a
  // malformed SAN name or a missing topology name fails without refusing.
  std::vector<const report::Finding*> refusing;
  for (const report::Finding* cause : causes)
    if (refuses_in_verification(*cause, other(context.us))) refusing.push_back(cause);
  if (!refusing.empty())
    return shown_on_the_wire(f,
                             "we refused the " + side_name(other(context.us)) + " certificate" +
                                 at + ": " + verification.error,
                             refusing);
  std::string see;
  for (size_t i = 0; i < blamed.size(); ++i)
    see += (i == 0 ? "" : i + 1 == blamed.size() ? " and " : ", ") + blamed[i];
  return fail(f,
              "We refused the " + side_name(other(context.us)) + " certificate" + at + ": " +
                  verification.error + "." +
                  (see.empty() ? std::string() : " The defect is reported by " + see + "."),
              see.empty() ? "See the " + side_id(other(context.us)) +
                                ".* findings below for the requirement and the fix."
                          : "Fix " + blamed.front() + " (its own fix above).");
}

// The BEMS name rule that owns a dialled name missing from a BEMS peer's
// certificate: the pool FQDN is bems.san.pool's, an instance FQDN
// bems.san.instances'. Only when that rule fails in the same report.
const report::Finding* name_owner(const LiveContext& context,
                                  const std::vector<report::Finding>& peer) {
  if (context.us != Side::lync) return nullptr;
  auto same_name = [&](const std::string& name) {
    return tls::iequals(name, context.expected_name);
  };
  std::optional<FindingId> owner;
  if (context.pool && same_name(*context.pool)) owner = FindingId::bems_san_pool;
  if (std::any_of(context.instances.begin(), context.instances.end(), same_name))
    owner = FindingId::bems_san_instances;
  if (!owner) return nullptr;
  for (const report::Finding& judged : peer)
    if (judged.status == report::Status::fail && judged.id == id_text(*owner)) return &judged;
  return nullptr;
}

report::Finding peer_name_finding(const tls::HandshakeRecord& record, const LiveContext& context,
                                  const std::vector<report::Finding>& peer) {
  auto f = finding(FindingId::peer_name, "The peer's certificate covers the name we dialled");
  if (record.role == tls::HandshakeRole::server)
    return skip(f, "server side: the client's name is not dialled");
  if (record.peer_chain.empty()) return skip(f, "the peer presented no certificate");
  const auto& leaf = record.peer_chain.front();
  about(f, leaf.info());
  if (context.expected_name.empty()) return skip(f, "no name to check (give --expect-name)");
  if (tls::certificate_covers_name(leaf, context.expected_name))
    return pass(f, in_quotes(context.expected_name) + " is covered by the certificate's SAN.");
  std::vector<std::string> names = leaf.info().san_dns;
  names.insert(names.end(), leaf.info().san_ip.begin(), leaf.info().san_ip.end());
  std::string covered;
  for (const auto& name : names) covered += (covered.empty() ? "" : ", ") + name;
  // The certificate's own name rule blames the missing name; this shows it on
  // the wire and points there.
  if (const report::Finding* owner = name_owner(context, peer))
    return shown_on_the_wire(f,
                             "the certificate does not cover " + in_quotes(context.expected_name) +
                                 ", the name we dialled",
                             *owner);
  return fail(
      f,
      "The certificate does not cover " + in_quotes(context.expected_name) + "; it covers " +
          (covered.empty() ? std::string("no SAN name at all (CN ") +
                                 in_quotes(leaf.info().common_name) + " is not used for matching)"
                           : covered) +
          ".",
      "Dial the pool FQDN the certificate names, or have the peer's certificate reissued with " +
          context.expected_name + " in its SAN.");
}

// The peer's chain as presented, judged with the offline rules against our store.
std::vector<report::Finding> peer_chain_findings(const tls::HandshakeRecord& record,
                                                 const LiveContext& context) {
  std::vector<report::Finding> findings;
  Side peer = other(context.us);
  if (record.peer_chain.empty() || !context.ours) return findings;
  SideFacts facts{
      peer, nullptr, record.peer_chain.front(),
      std::vector<tls::Certificate>(record.peer_chain.begin() + 1, record.peer_chain.end())};
  const std::shared_ptr<const OurStore> ours =
      context.our_store && context.our_store->store == context.ours ? context.our_store
                                                                    : judged_against(*context.ours);
  const KnownCertificates& known = ours->known;
  // The chain the handshake verified, when path building could only have
  // built it one way from what we hold: then the structural questions below
  // (trusted, intermediates, best chain) have its answer, since they check
  // less (no dates, no purpose), and it is verified once, not four times.
  const tls::ChainVerification* verified = nullptr;
  if (record.peer_verification && !record.peer_verification->chain.empty() &&
      record.peer_verification->chain.front().same_as(*facts.leaf) &&
      tls::is_only_path(*record.peer_verification, {&facts.presented, &known.all}, ours->anchors))
    verified = &*record.peer_verification;

  findings.push_back(chain_trusted(facts, *context.ours, known, nullptr, verified));

  auto intermediates = finding(
      for_side(peer, FindingId::bems_chain_intermediates, FindingId::lync_chain_intermediates),
      "The " + side_name(peer) + " intermediates were presented or are in our intermediate/");
  about(intermediates, record.peer_chain.front().info());
  const tls::ChainVerification built =
      verified ? *verified
               : tls::verify_chain(
                     *facts.leaf,
                     tls::path_candidates(*facts.leaf, {&facts.presented, &ours->intermediates}),
                     ours->anchors, structural_policy(*context.ours));
  if (built.reason == tls::ChainError::issuer_not_found && built.error_certificate &&
      built.error_depth > 0) {
    pass(intermediates,
         "Every intermediate up to " + in_quotes(built.error_certificate->subject) +
             " was presented or is in our intermediate/; its issuer " +
             in_quotes(built.error_certificate->issuer) + " is judged by " +
             id_text(for_side(peer, FindingId::bems_chain_trusted, FindingId::lync_chain_trusted)) +
             ".");
  } else if (built.reason == tls::ChainError::issuer_not_found && built.error_certificate) {
    fail(intermediates,
         "The peer presented " + std::to_string(record.peer_chain.size()) +
             " certificate(s) and our intermediate/ "
             "lacks " +
             in_quotes(built.error_certificate->issuer) + ", the issuer of " +
             in_quotes(built.error_certificate->subject) + ".",
         "Import " + in_quotes(built.error_certificate->issuer) +
             " into our intermediate/ (Intermediate Certification Authorities; trusted-root/ if it "
             "is a root), and have the peer send its full chain.");
  } else if (record.peer_chain_complete) {
    pass(intermediates, "The peer presented its chain complete (" +
                            std::to_string(record.peer_chain.size()) + " certificate(s)).");
  } else {
    pass(intermediates, "The peer presented " + std::to_string(record.peer_chain.size()) +
                            " certificate(s); our intermediate/ has the rest.");
  }
  findings.push_back(intermediates);

  std::vector<tls::Certificate> chain = best_chain(facts, *context.ours, known, verified);
  findings.push_back(validity(peer, chain, context.now, context.warn_days));
  findings.push_back(eku(peer, facts.leaf->info()));
  std::optional<report::Finding> cn;
  if (peer == Side::bems) cn = subject_cn(facts.leaf->info(), context.pool);
  findings.push_back(san_syntax(peer, facts.leaf->info(), cn ? &*cn : nullptr));
  findings.push_back(key_strength(peer, chain));
  if (cn) {
    findings.push_back(*cn);
    std::string pool = context.pool ? *context.pool : facts.leaf->info().common_name;
    if (!pool.empty()) findings.push_back(san_pool(*facts.leaf, pool, !context.pool));
    if (!context.instances.empty())
      findings.push_back(san_instances(*facts.leaf, context.instances, context.pool));
  }
  return findings;
}

// What we sent, judged against our own store with the offline rules: a chain
// our own trusted roots do not accept, one we had to send without an
// intermediate, dates, purpose, key strength and (as BEMS) names are the
// likely reasons a peer rejects us.
std::vector<report::Finding> own_certificate_findings(const tls::HandshakeRecord& record,
                                                      const LiveContext& context) {
  std::vector<report::Finding> findings;
  if (!record.our_certificate_sent || !context.ours) return findings;
  const FindingId intermediates_id = for_side(context.us, FindingId::bems_chain_intermediates,
                                              FindingId::lync_chain_intermediates);
  const auto& built = own_chain(record, context);
  auto trusted =
      finding(for_side(context.us, FindingId::bems_chain_trusted, FindingId::lync_chain_trusted),
              "Our certificate chains to a root in our own trusted-root store");
  about(trusted, record.our_certificate_sent->info());
  auto intermediates =
      finding(intermediates_id, "We sent our certificate with every intermediate it needs");
  about(intermediates, record.our_certificate_sent->info());
  if (built.trusted) {
    pass(trusted,
         "Our chain ends at " + in_quotes(built.chain.back().subject()) + " in trusted-root/.");
    pass(intermediates, "We sent " + std::to_string(record.our_chain_sent.size()) +
                            " chain certificate(s) after the leaf.");
  } else if (built.reason == tls::ChainError::issuer_not_found && built.error_certificate &&
             built.error_depth == 0) {
    skip(trusted, "the chain cannot be built without the missing intermediate (see " +
                      id_text(intermediates_id) + ")");
    fail(intermediates,
         "We sent our certificate alone: our intermediate/ lacks its issuer " +
             in_quotes(built.error_certificate->issuer) +
             ", so peers that do not hold it reject us.",
         "Import " + in_quotes(built.error_certificate->issuer) +
             " into our intermediate/ (Intermediate Certification Authorities).");
  } else if (refused_by_its_cas(built)) {
    fail_unverifiable(trusted, built);
    pass(intermediates, "We sent " + std::to_string(record.our_chain_sent.size()) +
                            " chain certificate(s) after the leaf.");
  } else {
    std::string top = built.error_certificate ? built.error_certificate->issuer : std::string("?");
    fail(trusted,
         "Our own chain does not reach a root in our trusted-root/: " + built.error + " (at " +
             in_quotes(built.error_certificate ? built.error_certificate->subject
                                               : std::string("?")) +
             ").",
         "Import the root of " + in_quotes(top) +
             " into trusted-root/ on both sides, or use a certificate from "
             "a CA both sides trust.");
    pass(intermediates, "We sent " + std::to_string(record.our_chain_sent.size()) +
                            " chain certificate(s) after the leaf.");
  }
  findings.push_back(trusted);
  findings.push_back(intermediates);

  const tls::Certificate& leaf = *record.our_certificate_sent;
  std::vector<tls::Certificate> chain = built.chain.empty() ? std::vector{leaf} : built.chain;
  findings.push_back(validity(context.us, chain, context.now, context.warn_days));
  findings.push_back(eku(context.us, leaf.info()));
  // As BEMS with the topology's names given, the pool and every instance
  // must be in what we present.
  std::optional<report::Finding> cn;
  if (context.us == Side::bems && (context.pool || !context.instances.empty()))
    cn = subject_cn(leaf.info(), context.pool);
  findings.push_back(san_syntax(context.us, leaf.info(), cn ? &*cn : nullptr));
  auto strength = key_strength(context.us, chain);
  if (strength.status == report::Status::fail && !record.own_chain_below_security_level.empty())
    strength.detail += " OpenSSL's default security level refuses to send it too (" +
                       record.own_chain_below_security_level +
                       "); the probe sent it anyway, as the endpoint it stands in for would.";
  findings.push_back(strength);
  if (cn) {
    findings.push_back(*cn);
    if (context.pool) findings.push_back(san_pool(leaf, *context.pool, false));
    if (!context.instances.empty())
      findings.push_back(san_instances(leaf, context.instances, context.pool));
  }
  return findings;
}

}  // namespace

// What each common stack means by an alert it sends about a client or server
// certificate (OpenSSL: ssl_x509err2alert; Java: CertificateMessage's
// getCertificateAlert; Go: processCertsFromClient; GnuTLS:
// gnutls_error_to_alert; Windows schannel as seen from Lync/Skype).
std::string explain_rejection_alert(int alert_code) {
  namespace alert = tls::alert;
  switch (alert_code) {
    case alert::unknown_ca:
      return "The peer does not trust the CA that issued our certificate: its Trusted Root store "
             "lacks our root, or it lacks our intermediate and we did not send it (the requirement "
             "that both certificates are signed by a CA both sides trust). OpenSSL-based peers "
             "(Kamailio, s_server), GnuTLS, Go and Windows schannel send this; Java sends "
             "certificate_unknown instead.";
    case alert::bad_certificate:
      return "The peer refused our certificate as invalid. Go and GnuTLS send this for any "
             "verification failure other than an unknown CA or expiry, EKU without clientAuth "
             "included; OpenSSL for a not-yet-valid certificate, a weak key or signature (below "
             "its "
             "security level) or a broken CA constraint; Java for a bad signature or a certificate "
             "not yet valid.";
    case alert::unsupported_certificate:
      return "The peer refused the certificate's purpose or algorithms: OpenSSL-based peers "
             "(Kamailio, s_server) send this when the Extended Key Usage lacks clientAuth (or "
             "serverAuth); Java when an algorithm or key size is disabled by its security "
             "properties.";
    case alert::certificate_unknown:
      return "The peer refused our certificate without saying why. Java sends this for any "
             "trust-manager failure: an untrusted or incomplete chain, an Extended Key Usage "
             "without clientAuth, a failed revocation check. Windows peers send it when the chain "
             "is untrusted or the revocation check fails (CRL distribution point unreachable).";
    case alert::certificate_expired:
      return "A certificate of our chain is expired (the validity requirement); OpenSSL, Java, Go "
             "and GnuTLS all send this for an expired certificate.";
    case alert::certificate_revoked:
      return "The issuing CA revoked a certificate of our chain.";
    case alert::certificate_required:
      return "The peer requires a client certificate and we sent none (TLS 1.3).";
    case alert::handshake_failure:
      return "TLS 1.2 peers send this when the client sent no certificate, or when no parameters "
             "are "
             "common.";
    case alert::access_denied:
      return "The peer's policy refused our identity after verifying it.";
    case alert::decrypt_error:
      return "A signature check failed: OpenSSL sends this when a certificate's signature does not "
             "verify, and any stack when our CertificateVerify does not (the private key may not "
             "belong to the certificate).";
    case alert::protocol_version:
      return "No TLS version both sides allow.";
    case alert::insufficient_security:
      return "The peer wants stronger parameters than we offered.";
  }
  return "The peer ended the handshake with this alert.";
}

std::shared_ptr<const OwnChain> own_chain_of(const tls::Certificate& leaf,
                                             const std::vector<tls::Certificate>& sent,
                                             const tls::Store& ours) {
  return std::make_shared<const OwnChain>(OwnChain{
      leaf, sent, tls::verify_chain(leaf, sent, ours.trust_anchors(), structural_policy(ours))});
}

std::shared_ptr<const OurStore> judged_against(const tls::Store& ours) {
  auto made = std::make_shared<OurStore>();
  made->store = &ours;
  // Only what we hold: a live check must not borrow from elsewhere.
  for (const auto& stored : ours.intermediates)
    made->known.with_source.emplace_back(stored.certificate, stored.file.string());
  for (const auto& stored : ours.trusted_roots)
    made->known.with_source.emplace_back(stored.certificate, stored.file.string());
  for (const auto& [certificate, file] : made->known.with_source)
    made->known.all.push_back(certificate);
  made->intermediates = ours.intermediate_certificates();
  made->anchors = ours.trust_anchors();
  return made;
}

std::vector<report::Finding> diagnose_handshake(const tls::HandshakeRecord& record,
                                                const LiveContext& given) {
  // Our chain is judged once for all the findings that need it.
  LiveContext context = given;
  if (record.our_certificate_sent && context.ours &&
      !(context.own_chain && judged_what_was_sent(*context.own_chain, record)))
    context.own_chain =
        own_chain_of(*record.our_certificate_sent, record.our_chain_sent, *context.ours);
  std::vector<report::Finding> own = own_certificate_findings(record, context);
  std::vector<report::Finding> peer = peer_chain_findings(record, context);
  // With the certificates judged elsewhere in the same report (pair), their
  // findings there are the ones the handshake findings point to.
  const std::vector<report::Finding>& own_judged = context.own_judged ? *context.own_judged : own;
  const std::vector<report::Finding>& peer_judged =
      context.peer_judged ? *context.peer_judged : peer;
  std::vector<report::Finding> findings;
  findings.push_back(tcp_finding(record));
  findings.push_back(protocol_finding(record));
  if (record.role == tls::HandshakeRole::client)
    findings.push_back(ca_list_finding(record, context, own_judged));
  findings.push_back(no_client_cert_finding(record, context));
  findings.push_back(peer_rejected_finding(record, context, own_judged));
  findings.push_back(we_rejected_finding(record, context, peer_judged));
  if (record.role == tls::HandshakeRole::client)
    findings.push_back(peer_name_finding(record, context, peer_judged));
  if (!context.own_judged) findings.insert(findings.end(), own.begin(), own.end());
  if (!context.peer_judged) findings.insert(findings.end(), peer.begin(), peer.end());
  return findings;
}

void point_to_online_owners(const tls::HandshakeRecord& record, const LiveContext& context,
                            std::vector<report::Finding>& findings) {
  // The revocation findings are judged online, after diagnose_handshake: a
  // rejection they explain (certificate_revoked) points there too.
  for (report::Finding& f : findings) {
    if (f.status != report::Status::fail) continue;
    if (f.id == id_text(FindingId::handshake_peer_rejected_us))
      f = peer_rejected_finding(record, context, findings);
    else if (f.id == id_text(FindingId::handshake_we_rejected_peer))
      f = we_rejected_finding(record, context, findings);
  }
}

}  // namespace probe
