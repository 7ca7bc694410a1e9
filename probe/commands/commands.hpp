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
void add_rollover_command(CLI::App& app, Action& action);
void add_exporter_command(CLI::App& app, Action& action);
void add_load_command(CLI::App& app, Action& action);
// Every subcommand, in the order --help lists them: main() and the config-file
// fuzz target register the same set.
void add_all_commands(CLI::App& app, Action& action);
// Only the command argv[1] names when it names one, else every command (top-level
// --help, errors, --config files with a section per command). CLI11 checks each
// new option against every one before it: registering all eight commands was a
// fifth of the start of a `connect` (perf), for a run that uses one.
void add_commands_for(CLI::App& app, Action& action, int argc, const char* const* argv);

// `pki serve` and `pki revoke` (revocation lab), added to the `pki` command.
void add_pki_revocation_subcommands(CLI::App& pki, Action& action);
void add_pki_serve_command(CLI::App& pki, Action& action);
void add_pki_revoke_command(CLI::App& pki, Action& action);

}  // namespace probe
