#include "probe/commands/commands.hpp"

#include <string_view>

namespace probe {

namespace {

struct Command {
  std::string_view name;
  void (*add)(CLI::App&, Action&);
};

// In the order --help lists them.
constexpr Command kCommands[] = {
    {"check", add_check_command}, {"connect", add_connect_command},
    {"load", add_load_command},   {"serve", add_serve_command},
    {"pair", add_pair_command},   {"rollover", add_rollover_command},
    {"pki", add_pki_command},     {"exporter", add_exporter_command},
};

}  // namespace

void add_all_commands(CLI::App& app, Action& action) {
  for (const Command& command : kCommands) command.add(app, action);
}

void add_commands_for(CLI::App& app, Action& action, int argc, const char* const* argv) {
  // A config file may hold a section for every command, and check_config_file
  // refuses a section it cannot match to a registered command.
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).starts_with("--config")) return add_all_commands(app, action);
  if (argc > 1)
    for (const Command& command : kCommands)
      if (command.name == argv[1]) return command.add(app, action);
  add_all_commands(app, action);
}

}  // namespace probe
