#include "probe/commands/commands.hpp"

namespace probe {
void add_pki_command(CLI::App& app, Action& action) {
  auto* command = app.add_subcommand("pki", "Lab PKI");
  command->callback([&action] { action = [] { return 0; }; });
}
}  // namespace probe
