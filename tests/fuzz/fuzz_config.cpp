// The --config file: the input is written to a file and goes through the
// same line check as main() and then CLI11's own reader, with every command
// registered (their actions are not run).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "probe/commands/commands.hpp"
#include "probe/commands/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("mtlsprobe-fuzz-config-" + std::to_string(getpid()) + ".ini");
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  CLI::App app{"fuzz"};
  app.set_config("--config", "");
  app.allow_config_extras(false);
  probe::Action action;
  probe::add_all_commands(app, action);
  if (probe::check_config_file(app, file)) {
    const std::string path = file.string();
    const char* argv[] = {"mtlsprobe", "check", "--config", path.c_str()};
    try {
      app.parse(4, argv);
    } catch (const CLI::Error&) {
    }
  }
  std::filesystem::remove(file);
  return 0;
}
