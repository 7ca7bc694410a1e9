#pragma once
// Small text helpers any library may use (tls, probe, report's callers,
// tests). ASCII only: the texts they serve are protocol tokens, header names
// and DNS names, never prose, so no locale may change the answer.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace tls {

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Without leading and trailing blanks (space and tab: SIP's and HTTP's
// linear white space once the line is unfolded).
inline std::string_view trim_blanks(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// "a, b, c" (or with another separator); empty for no items.
inline std::string joined(const std::vector<std::string>& items,
                          std::string_view separator = ", ") {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

}  // namespace tls
