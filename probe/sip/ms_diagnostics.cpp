#include "probe/sip/ms_diagnostics.hpp"

#include <algorithm>
#include <charconv>

#include "tls/text.hpp"

namespace probe::sip {
namespace {

// A peer's text is shown to a person: bounded, so one header cannot fill a report.
constexpr std::size_t kMaxValueChars = 300;
constexpr std::size_t kMaxAttributes = 16;

std::optional<int> number(std::string_view digits) {
  int value = 0;
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// The parameters after the id, split at ';' outside quoted strings; a quoted
// value is unquoted (RFC 3261 25.1 quoted-pair: backslash escapes one char).
std::vector<std::pair<std::string, std::string>> parameters(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < kMaxAttributes + 2) {
    std::size_t start = i;
    bool quoted = false;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ';' && !quoted) {
        break;
      }
    }
    std::string_view param = tls::trim_blanks(text.substr(start, i - start));
    ++i;
    if (param.empty()) continue;
    std::size_t equals = param.find('=');
    std::string name(tls::trim_blanks(param.substr(0, equals)));
    std::string_view raw =
        equals == std::string_view::npos ? "" : tls::trim_blanks(param.substr(equals + 1));
    std::string value;
    if (raw.size() >= 2 && raw.front() == '"') {
      raw = raw.substr(1, raw.back() == '"' ? raw.size() - 2 : raw.size() - 1);
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '\\' && k + 1 < raw.size()) ++k;
        value += raw[k];
      }
    } else {
      value = raw;
    }
    // Lync writes some values with spaces inside the quotes (domain =" x ").
    value = std::string(tls::trim_blanks(value));
    if (value.size() > kMaxValueChars) value = value.substr(0, kMaxValueChars) + "...";
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace

const std::vector<MsDiagnosticMeaning>& ms_diagnostic_table() {
  // Reasons as Lync / Skype for Business writes them (the wording varies by
  // version: 1010 read "next-hop server" before Lync 2013's "another server").
  static const std::vector<MsDiagnosticMeaning> table = {
      {1009,
       "No match for domain in DNS SRV results: the FQDN the domain's _sipfederationtls._tcp "
       "SRV record names is not inside that SIP domain, so the pool does not trust it.",
       "Point the SRV record at a host name inside the SIP domain, and put that exact FQDN in the "
       "peer certificate's SAN."},
      {1010,
       "Certificate trust with the next-hop server could not be established: the pool did not "
       "trust the certificate of the server it connected to, or that certificate does not carry "
       "the FQDN the pool dialled (the ErrorType and HRESULT attributes say which, e.g. "
       "SEC_E_UNTRUSTED_ROOT or SEC_E_WRONG_PRINCIPAL).",
       "Import the issuing root into the pool's Trusted Root Certification Authorities store and "
       "the intermediates into Intermediate Certification Authorities, and make the peer "
       "certificate's Subject CN and SAN carry the FQDN the pool dials (for BEMS: the trusted "
       "application pool FQDN and every instance FQDN)."},
      {1017,
       "Cannot route From and To domains in this combination: the pool will not route between the "
       "From and To SIP domains (a domain missing from the topology, or a split-domain setup of "
       "the wrong type).",
       "Add the SIP domain to the topology (Get-CsSipDomain / New-CsSipDomain) or send from a "
       "domain the pool serves."},
      {1027,
       "Cannot route this type of SIP request to or from federated partners: the request arrived "
       "over a federation route the pool does not use for it.",
       "Connect as a trusted application (New-CsTrustedApplicationPool for the BEMS pool FQDN) "
       "instead of over federation, or allow the request type on the Edge."},
      {1034,
       "Previous hop federated peer did not report diagnostic information: the failure happened "
       "at a federated peer that sent no ms-diagnostics of its own.",
       "Read the other ms-diagnostics of the response and the peer's own SIP log."},
      {1047,
       "Failed to complete TLS negotiation with a federated peer server: the MTLS handshake with "
       "the peer failed, most often because the peer does not trust the CA that issued the "
       "certificate it was shown (a WinsockFailureCode of 10054 means the peer reset the "
       "connection).",
       "Import the issuing root of the certificate into the peer's Trusted Root store and its "
       "intermediates into the Intermediate store, and check that the certificate has both "
       "serverAuth and clientAuth in its EKU."},
      {4005,
       "Destination URI either not enabled for SIP or does not exist: the pool knows no "
       "SIP-enabled user at that address.",
       "Check the SIP address (Get-CsUser -Identity sip:user@domain) and enable the user for "
       "Lync/Skype (Enable-CsUser)."},
      {4141, "User disabled: the user's account is disabled for Lync/Skype.",
       "Enable the user again (Set-CsUser -Enabled $true) or subscribe to another user."},
  };
  return table;
}

const MsDiagnosticMeaning* ms_diagnostic_meaning(int error_id) {
  const auto& table = ms_diagnostic_table();
  auto found = std::find_if(table.begin(), table.end(),
                            [&](const MsDiagnosticMeaning& m) { return m.error_id == error_id; });
  return found == table.end() ? nullptr : &*found;
}

std::string_view ms_diagnostic_component(int error_id) {
  // The ranges of the OCS 2007 Ms-Diagnostics Header documentation.
  struct Range {
    int first;
    std::string_view component;
  };
  static constexpr Range ranges[] = {
      {0, "a component common to the SIP stack and the User Services"},
      {1000, "the SIP stack (routing, DNS, TLS to the next hop)"},
      {2000, "the User Services presence module"},
      {3000, "the conferencing focus"},
      {4000, "the User Services (users, registration)"},
      {5000, "a server API application"},
      {6000, "the IM conferencing server"},
      {7000, "the A/V conferencing server"},
      {8000, "the telephony conferencing server"},
      {9000, "the media relay authentication service"},
      {10000, "the Mediation Server"},
  };
  std::string_view component = "an unlisted component";
  for (const Range& range : ranges) {
    if (error_id >= range.first) component = range.component;
  }
  if (error_id >= 11000 || error_id < 0) component = "another Lync/Skype component";
  return component;
}

std::optional<MsDiagnostic> parse_ms_diagnostic(std::string_view value) {
  value = tls::trim_blanks(value);
  std::size_t id_end = value.find_first_not_of("0123456789.");
  std::string_view id_text = tls::trim_blanks(value.substr(0, id_end));
  std::size_t dot = id_text.find('.');
  auto error_id = number(id_text.substr(0, dot));
  if (!error_id) return std::nullopt;
  MsDiagnostic out;
  out.error_id = *error_id;
  if (dot != std::string_view::npos) {
    out.sub_code = number(id_text.substr(dot + 1));
    if (!out.sub_code) return std::nullopt;
  }
  std::string_view rest = id_end == std::string_view::npos ? "" : value.substr(id_end);
  rest = tls::trim_blanks(rest);
  if (!rest.empty() && rest.front() != ';') return std::nullopt;
  for (auto& [name, param] : parameters(rest)) {
    if (tls::iequals(name, "reason"))
      out.reason = std::move(param);
    else if (tls::iequals(name, "source"))
      out.source = std::move(param);
    else if (out.attributes.size() < kMaxAttributes)
      out.attributes.emplace_back(std::move(name), std::move(param));
  }
  return out;
}

std::vector<MsDiagnostic> ms_diagnostics_of(const Message& response) {
  std::vector<MsDiagnostic> out;
  for (const Header& header : response.headers) {
    bool is_public = tls::iequals(header.name, "ms-diagnostics-public");
    if (!is_public && !tls::iequals(header.name, "ms-diagnostics")) continue;
    // Several diagnostics may share one header line, separated by commas.
    for (const std::string& value : split_header_list(header.value)) {
      if (out.size() == kMaxMsDiagnostics) return out;
      if (auto diagnostic = parse_ms_diagnostic(value)) {
        diagnostic->public_header = is_public;
        out.push_back(std::move(*diagnostic));
      }
    }
  }
  return out;
}

std::string describe(const MsDiagnostic& diagnostic) {
  std::string text = diagnostic.public_header ? "ms-diagnostics-public " : "ms-diagnostics ";
  text += std::to_string(diagnostic.error_id);
  if (diagnostic.sub_code) text += "." + std::to_string(*diagnostic.sub_code);
  if (!diagnostic.reason.empty()) text += " \"" + diagnostic.reason + "\"";
  if (!diagnostic.source.empty()) text += " from " + diagnostic.source;
  for (const auto& [name, value] : diagnostic.attributes) {
    if (tls::iequals(name, "ErrorType") || tls::iequals(name, "HRESULT") ||
        tls::iequals(name, "WinsockFailureCode") || tls::iequals(name, "PeerServer") ||
        tls::iequals(name, "tls-target"))
      text += ", " + name + " " + value;
  }
  if (const MsDiagnosticMeaning* meaning = ms_diagnostic_meaning(diagnostic.error_id)) {
    text += ": " + std::string(meaning->meaning);
  } else {
    text += " (an error id of " + std::string(ms_diagnostic_component(diagnostic.error_id)) + ")";
  }
  return text;
}

std::string ms_diagnostic_value(int error_id, std::string_view reason, std::string_view source) {
  auto quoted = [](std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  return std::to_string(error_id) + ";reason=" + quoted(reason) + ";source=" + quoted(source);
}

}  // namespace probe::sip
