#pragma once
// Reading text that came from certificates and peers, which need not be valid UTF-8.
#include <cstddef>
#include <string>
#include <string_view>

namespace report {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes the code point starting at `pos` and advances `pos` past it. A byte that does not
// start a well-formed sequence (overlong, surrogate, truncated, > U+10FFFF) decodes as
// U+FFFD and consumes one byte, so decoding always makes progress.
char32_t next_code_point(std::string_view text, std::size_t& pos);

void append_utf8(std::string& out, char32_t code_point);

// `text` with every ill-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

}  // namespace report
