#pragma once
// Host name syntax, the one validator for tls/ (SAN rules in chain_policy)
// and probe/ (FQDN options, the CN and lab rules). RFC 1034 3.5 "preferred
// name syntax": labels of letters, digits and inner hyphens. (DNS names
// compare without regard to ASCII case, RFC 4343: tls::iequals in tls/text.hpp.)
#include <string_view>

namespace tls {

// 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.
bool is_ldh_label(std::string_view label);

// Labels joined by single dots, at most 253 characters, no trailing dot.
// `allow_wildcard`: a whole "*" as the left-most of two or more labels
// (RFC 6125 6.4.3), the one wildcard form a SAN may carry.
bool is_valid_dns_name(std::string_view name, bool allow_wildcard = false);

// A DNS name of two or more labels whose top label is not all digits, so
// an IPv4 literal is not an FQDN.
bool is_valid_fqdn(std::string_view name);

}  // namespace tls
