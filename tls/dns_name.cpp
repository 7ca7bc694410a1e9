#include "tls/dns_name.hpp"

#include <algorithm>

namespace tls {
namespace {

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool is_ldh_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) || c == '-';
  });
}

bool is_valid_dns_name(std::string_view name, bool allow_wildcard) {
  if (name.empty() || name.size() > 253) return false;
  bool first = true;
  while (true) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    bool wildcard = first && allow_wildcard && label == "*" && dot != std::string_view::npos;
    if (!wildcard && !is_ldh_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
    first = false;
  }
}

bool is_valid_fqdn(std::string_view name) {
  if (!is_valid_dns_name(name)) return false;
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view top = name.substr(dot + 1);
  return !std::all_of(top.begin(), top.end(), is_ascii_digit);
}

}  // namespace tls
