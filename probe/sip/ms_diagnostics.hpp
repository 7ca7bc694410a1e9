#pragma once
// Lync / Skype for Business puts the cause of a SIP failure in an
// ms-diagnostics header of the response (ms-diagnostics-public across a
// federation boundary). Format (OCS 2007 "Ms-Diagnostics Header", [MS-OCER]):
//
//   ms-diagnostics: <ErrorId>[.<SubCode>];reason="<text>";source="<server>"[;<name>="<value>"]*
//
// e.g. 1010;reason="Certificate trust with another server could not be
// established";ErrorType="...";source="sip.contoso.com". Decoding it turns "the
// pool answered 504" into the pool's own reason, and the table below turns the
// id into what to fix on the BEMS / Lync side. Pure: no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probe/sip/message.hpp"

namespace probe::sip {

struct MsDiagnostic {
  int error_id = 0;
  std::optional<int> sub_code;  // the ".<SubCode>" after the id
  std::string reason;
  std::string source;                                           // the server that produced it
  std::vector<std::pair<std::string, std::string>> attributes;  // every other parameter
  bool public_header = false;                                   // from ms-diagnostics-public
};

// What an error id means for an MTLS link between BEMS and a Lync pool, and
// what to do. Only ids whose meaning is documented or seen in Lync logs.
struct MsDiagnosticMeaning {
  int error_id;
  std::string_view meaning;
  std::string_view fix;
};
const MsDiagnosticMeaning* ms_diagnostic_meaning(int error_id);
// The component an id's range belongs to ("SIP stack" for 1000-1999, ...).
std::string_view ms_diagnostic_component(int error_id);
// Every entry of the table, in id order (for documentation and tests).
const std::vector<MsDiagnosticMeaning>& ms_diagnostic_table();

// One header value; nullopt when it does not start with an error id.
std::optional<MsDiagnostic> parse_ms_diagnostic(std::string_view value);
// Every ms-diagnostics and ms-diagnostics-public value of a response, in
// header order, at most kMaxMsDiagnostics (a hostile peer sends thousands).
inline constexpr std::size_t kMaxMsDiagnostics = 8;
std::vector<MsDiagnostic> ms_diagnostics_of(const Message& response);

// One line for a finding: `ms-diagnostics 1010 "reason" from source: meaning`.
std::string describe(const MsDiagnostic& diagnostic);

// The header value the mock Lync sends: `4005;reason="...";source="..."`.
std::string ms_diagnostic_value(int error_id, std::string_view reason, std::string_view source);

}  // namespace probe::sip
