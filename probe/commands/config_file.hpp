#pragma once
// `--config FILE`: CLI11 reads it, but silently skips keys it does not know,
// so a typo (`peer-stroe = ...`) turned a check off and CI stayed green.
// This checks the file first: a regular file under a size limit, and every
// line a comment, a [section] naming a command, or `key = value` naming an
// option of that command. The first bad line is the error, with its number.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "tls/result.hpp"

namespace probe {

inline constexpr std::uintmax_t kMaxConfigFileBytes = 1024u * 1024u;

tls::Status check_config_file(const CLI::App& app, const std::filesystem::path& file);

// The file given with --config (or --config=FILE) in argv, if any.
std::optional<std::string> config_file_argument(int argc, const char* const* argv);

}  // namespace probe
