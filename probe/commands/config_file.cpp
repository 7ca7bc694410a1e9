#include "probe/commands/config_file.hpp"

#include <sstream>
#include <string_view>

#include "tls/credentials.hpp"
#include "tls/text.hpp"

namespace probe {
namespace {

// Blanks around, and the CR of a file written on Windows.
std::string_view trimmed(std::string_view text) {
  text = tls::trim_blanks(text);
  if (text.ends_with('\r')) text.remove_suffix(1);
  return tls::trim_blanks(text);
}

// [check] -> the `check` subcommand; [pki.serve] or [pki serve] -> `pki serve`.
const CLI::App* section_command(const CLI::App& app, std::string_view section) {
  const CLI::App* command = &app;
  std::string name;
  auto descend = [&]() {
    if (name.empty()) return true;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : command->get_subcommands([](const CLI::App*) { return true; }))
      if (sub->get_name() == name) next = sub;
    command = next;
    name.clear();
    return command != nullptr;
  };
  for (char c : section) {
    if (c == '.' || c == ' ') {
      if (!descend()) return nullptr;
    } else {
      name += c;
    }
  }
  return descend() ? command : nullptr;
}

bool has_option(const CLI::App& command, const std::string& key) {
  if (command.get_option_no_throw("--" + key)) return true;
  // CLI11 also accepts a positional or a single-letter name as the key.
  if (key.size() == 1 && command.get_option_no_throw("-" + key)) return true;
  return command.get_option_no_throw(key) != nullptr;
}

}  // namespace

tls::Status check_config_file(const CLI::App& app, const std::filesystem::path& file) {
  auto text = tls::read_file_limited(file, kMaxConfigFileBytes);
  if (!text) return tls::Error{"--config " + text.error().message};
  std::istringstream lines(*text);
  std::string line;
  const CLI::App* command = &app;
  std::string section = "(top)";
  bool in_array = false;
  for (int number = 1; std::getline(lines, line); ++number) {
    const std::string where = "--config " + file.string() + " line " + std::to_string(number);
    std::string_view content = trimmed(line);
    if (in_array) {
      if (content.find(']') != std::string_view::npos) in_array = false;
      continue;
    }
    if (content.empty() || content.front() == '#' || content.front() == ';') continue;
    if (content.front() == '[') {
      if (content.back() != ']' || content.size() < 3)
        return tls::Error{where + ": not a [section] header"};
      std::string_view name = trimmed(content.substr(1, content.size() - 2));
      if (name.starts_with('[') && name.ends_with(']'))  // TOML [[array]] tables
        return tls::Error{where + ": [[" + std::string(name) + "]] tables are not options"};
      command = section_command(app, name);
      section = "[" + std::string(name) + "]";
      if (!command)
        return tls::Error{where + ": unknown section " + section +
                          " (sections are command names: check, connect, serve, pair, pki)"};
      continue;
    }
    const auto equals = content.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return tls::Error{where + ": not 'name = value', a [section] or a # comment"};
    std::string key(trimmed(content.substr(0, equals)));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'') && key.back() == key.front())
      key = key.substr(1, key.size() - 2);
    const CLI::App* owner = command;
    if (auto dot = key.rfind('.'); dot != std::string::npos) {
      owner = section_command(*command, key.substr(0, dot));
      key = key.substr(dot + 1);
    }
    if (!owner || !has_option(*owner, key))
      return tls::Error{where + ": unknown option '" + key + "' in " + section};
    std::string_view value = trimmed(content.substr(equals + 1));
    if (value.starts_with('[') && value.find(']') == std::string_view::npos) in_array = true;
  }
  return tls::Done{};
}

std::optional<std::string> config_file_argument(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument = argv[i];
    if (argument == "--config" && i + 1 < argc) return std::string(argv[i + 1]);
    if (argument.starts_with("--config=")) return std::string(argument.substr(9));
  }
  return std::nullopt;
}

}  // namespace probe
