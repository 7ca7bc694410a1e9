#pragma once
// Each subcommand registers itself on the CLI11 app and, when chosen, sets
// the action main() runs. One file per subcommand in probe/commands/.
#include <functional>

#include <CLI/CLI.hpp>

namespace probe {

using Action = std::function<int()>;

void add_check_command(CLI::App& app, Action& action);
void add_pki_command(CLI::App& app, Action& action);
void add_connect_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_pair_command(CLI::App& app, Action& action);

}  // namespace probe
