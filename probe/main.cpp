// CLI11 wiring only; every subcommand lives in probe/commands/.
#include <iostream>

#include "probe/commands/commands.hpp"
#include "probe/commands/config_file.hpp"
#include "report/model.hpp"
#include "tls/process.hpp"

namespace {

// CLI11's messages span lines ("... Run with --help for more information.")
// and ExtrasError echoes every unexpected argument, which is where a value
// typed after a mistaken flag (`--password SECRET`) would appear. One line,
// naming only the unexpected arguments that look like options.
std::string one_line_error(const CLI::App& app, const CLI::ParseError& error) {
  // By type: a subcommand's ExtrasError carries the subcommand's name.
  if (dynamic_cast<const CLI::ExtrasError*>(&error)) {
    std::string named;
    std::size_t hidden = 0;
    for (const std::string& argument : app.remaining(true)) {
      if (argument.starts_with('-') && argument.find('=') == std::string::npos)
        named += (named.empty() ? "" : " ") + argument;
      else
        ++hidden;
    }
    std::string text = "unexpected argument(s)";
    if (!named.empty()) text += ": " + named;
    if (hidden)
      text += (named.empty() ? ": " : " and ") + std::to_string(hidden) +
              " value(s) not shown (they may be secrets)";
    return text + "; see mtlsprobe COMMAND --help";
  }
  std::string text = error.what();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text + "; see --help";
}

}  // namespace

int main(int argc, char** argv) {
  tls::skip_openssl_cleanup_at_exit();
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
  // Before the subcommands are added: they inherit it. check_config_file()
  // below names the line; this is the backstop.
  app.allow_config_extras(false);

  probe::Action action;
  probe::add_commands_for(app, action, argc, argv);

  if (auto config = probe::config_file_argument(app, argc, argv)) {
    if (auto checked = probe::check_config_file(app, *config); !checked) {
      std::cerr << "mtlsprobe: " << checked.error().message << "\n";
      return report::kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mtlsprobe: " << one_line_error(app, e) << "\n";
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
