#pragma once
// Options shared by several subcommands: where an endpoint's credentials and
// stores come from, and how the report is written.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/model.hpp"
#include "report/render.hpp"
#include "tls/credentials.hpp"
#include "tls/result.hpp"
#include "tls/store.hpp"

// The flags' registration only needs the type; the .cpp includes CLI11.
namespace CLI {
class App;
}  // namespace CLI

namespace probe {

// One endpoint's store flags. `prefix` is "" for our side and "peer-" for the other.
struct StoreFlags {
  std::string store;
  std::string cert, key, pfx;
  std::vector<std::string> trusted_roots, intermediates;
  std::string password_env, password_file;
  bool system_roots = false;
  std::uint64_t pfx_max_iterations = tls::kDefaultMaxPkcs12Iterations;

  bool empty() const {
    return store.empty() && cert.empty() && pfx.empty() && trusted_roots.empty() &&
           intermediates.empty();
  }
};

void add_store_flags(CLI::App* command, StoreFlags& flags, const std::string& prefix,
                     const std::string& who);

// Turns flags into loader options (reading the password). Errors are one line.
mtls::Result<tls::StoreOptions> to_store_options(const StoreFlags& flags);

// Loads the store and prints every unreadable file, one line each, to stderr.
// Returns nullopt when any file could not be used (the caller exits 2).
std::optional<tls::Store> load_store_or_report(const StoreFlags& flags, const std::string& who);

// A client's side of a dial: our role, our store and the names it sends and
// checks. `connect` and `load` dial alike, so they take the same flags.
struct DialFlags {
  std::string role = "bems";
  StoreFlags store;
  std::string sni;
  std::string expect_name;
  std::string connect_to;
};

void add_dial_flags(CLI::App* command, DialFlags& flags);

struct ReportFlags {
  std::string format = "text";
  std::string output;
  bool no_color = false;
  bool strict = false;
  bool verbose = false;
};

void add_report_flags(CLI::App* command, ReportFlags& flags);

// What --format and --no-color/--verbose ask for (colour only on a terminal).
report::Format report_format(const ReportFlags& flags);
report::TextOptions text_options(const ReportFlags& flags);

// Whether the chosen format shows Report::facts (JSON only): a command that
// reports many times (serve) builds them only then.
bool renders_facts(const ReportFlags& flags);

// Renders the report to --output or stdout and returns the exit code.
int emit_report(report::Report report, const ReportFlags& flags);

// Writes beside `file` and renames over it, so readers never see half a file.
tls::Status write_file_atomically(const std::filesystem::path& file, const std::string& contents);

// "2026-11-25T12:00:00Z"
std::string utc_timestamp();

// A report of this tool, version and command, stamped now.
report::Report start_report(const std::string& command);

// Prints "mtlsprobe: error: <message>" to stderr and returns exit code 2.
int fail_input(const std::string& message);

}  // namespace probe
