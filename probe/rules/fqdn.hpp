#pragma once
#include <string_view>

namespace probe {

// True for a syntactically valid fully qualified DNS name (two or more
// labels of letters, digits and inner hyphens; no trailing dot; the top
// label not all digits, so an IPv4 literal is not an FQDN).
bool is_valid_fqdn(std::string_view name);

}  // namespace probe
