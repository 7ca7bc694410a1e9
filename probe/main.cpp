// CLI11 wiring only; every subcommand lives in probe/commands/.
#include <iostream>

#include "probe/commands/commands.hpp"
#include "report/model.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "mtlsprobe " MTLSPROBE_VERSION
      ": checks the mutual-TLS trust between a BlackBerry BEMS endpoint and a Lync / Skype for "
      "Business pool, offline from certificate stores or live over real handshakes, and says which "
      "documented requirement is broken and how to fix it.\n\n"
      "Exit codes: 0 every requirement passes (warnings allowed unless --strict), 1 a requirement "
      "fails, 2 bad invocation or unreadable input."};
  app.set_version_flag("--version", MTLSPROBE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  // Options of a subcommand go in a section named after it, e.g. [check]
  // with `store = "lab/bems"`; `mtlsprobe check --config FILE` reads it.
  app.set_config("--config", "",
                 "Read options from an INI/TOML file: a [check], [connect], [serve] ... "
                 "section per command, option names without the leading --");

  probe::Action action;
  probe::add_check_command(app, action);
  probe::add_connect_command(app, action);
  probe::add_serve_command(app, action);
  probe::add_pair_command(app, action);
  probe::add_rollover_command(app, action);
  probe::add_pki_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return report::kExitBadInput;
  }
  if (!action) {
    std::cerr << "mtlsprobe: no command given; see mtlsprobe --help\n";
    return report::kExitBadInput;
  }
  try {
    return action();
  } catch (const std::exception& e) {
    std::cerr << "mtlsprobe: " << e.what() << "\n";
    return report::kExitBadInput;
  }
}
