#include "probe/commands/commands.hpp"

namespace probe {

void add_all_commands(CLI::App& app, Action& action) {
  add_check_command(app, action);
  add_connect_command(app, action);
  add_load_command(app, action);
  add_serve_command(app, action);
  add_pair_command(app, action);
  add_rollover_command(app, action);
  add_pki_command(app, action);
  add_exporter_command(app, action);
}

}  // namespace probe
