#pragma once
// What a fleet run is asked to test, before any DNS: target lines from
// --targets FILE, the config's `target` list or the command line, and the
// SRV name --srv asks for. Text in, values out; no I/O but reading the file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/rules/requirements.hpp"
#include "tls/result.hpp"

namespace probe::fleet {

// One line: `host[:port] [sni=NAME] [role=bems|lync]`.
struct TargetSpec {
  std::string host;
  std::uint16_t port = 5061;
  std::string sni;           // empty: the host when it is a name
  std::optional<Side> role;  // our role toward this target; empty: --role
  std::string origin;        // "targets.txt:3", for messages
};

// A run refuses more targets than this (exit 2) rather than hold every
// report in memory: larger fleets are split into several runs.
inline constexpr std::size_t kMaxTargets = 10000;

// Parses one target line; the error says what is wrong with it.
mtls::Result<TargetSpec> parse_target_line(std::string_view line, std::uint16_t default_port);

// Every target of a file: blank lines and `#` comments skipped; the first
// malformed line stops it, named as FILE:LINE.
mtls::Result<std::vector<TargetSpec>> read_targets_file(const std::string& path,
                                                        std::uint16_t default_port);

// `--srv federation|internal|_service._proto.domain`: the SRV name to ask
// for. federation and internal are Lync's own services under `domain`.
mtls::Result<std::string> srv_name(const std::string& kind, const std::string& domain);

}  // namespace probe::fleet
