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

// Unicode format characters (general category Cf: bidi overrides and
// isolates, zero-width joiners and spaces, the BOM, tag characters) and the
// line and paragraph separators. They are invisible, and the bidi ones
// reorder what follows them on a terminal (CVE-2021-42574), so text from a
// certificate shows them escaped.
bool is_format_character(char32_t code_point);

// Terminal columns a printable code point takes (wcwidth in a UTF-8
// locale): 0 for combining marks, 2 for East Asian wide characters.
std::size_t display_width(char32_t code_point);

// Peer- or certificate-supplied text for one line of a log or of stderr:
// C0 and C1 controls (newlines included: a request-URI must not start a
// forged line), DEL and the Unicode format characters that reorder or hide
// text (bidi embeddings, overrides and isolates, zero-width marks, BOM) are
// shown as \xNN or \u{NNNN}; ill-formed UTF-8 as U+FFFD.
std::string one_line_printable(std::string_view text);

}  // namespace report
