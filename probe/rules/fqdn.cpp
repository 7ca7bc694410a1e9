#include "probe/rules/fqdn.hpp"

#include <algorithm>
#include <cctype>

namespace probe {

bool is_valid_fqdn(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  int labels = 0;
  std::string_view last;
  while (!name.empty()) {
    auto dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) return false;  // trailing dot
  }
  // An all-numeric top label would make "10.0.0.1" an FQDN.
  bool numeric_top = std::all_of(
      last.begin(), last.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return labels >= 2 && !numeric_top;
}

}  // namespace probe
