#include "probe/commands/options.hpp"

#include <CLI/CLI.hpp>

#include "probe/diagnosis/facts.hpp"
#include "report/prometheus.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace probe {

void add_store_flags(CLI::App* command, StoreFlags& flags, const std::string& prefix,
                     const std::string& who) {
  const std::string group = who + " credentials and stores";
  command
      ->add_option("--" + prefix + "store", flags.store,
                   "Store folder for " + who +
                       ": personal/ (its certificate and key, or a .pfx), trusted-root/, "
                       "intermediate/ - the Windows stores the vendor names")
      ->group(group);
  command
      ->add_option("--" + prefix + "cert", flags.cert,
                   who + " certificate file (PEM/DER); overrides personal/")
      ->group(group);
  command->add_option("--" + prefix + "key", flags.key, who + " private key file (PEM/DER, PKCS#8)")
      ->group(group);
  command
      ->add_option("--" + prefix + "pfx", flags.pfx,
                   who + " PKCS#12 file (.pfx/.p12) with certificate and key")
      ->group(group);
  command
      ->add_option("--" + prefix + "trusted-root", flags.trusted_roots,
                   "Trusted root file or folder (repeatable); overrides trusted-root/")
      ->group(group);
  command
      ->add_option("--" + prefix + "intermediate", flags.intermediates,
                   "Intermediate CA file or folder (repeatable); overrides intermediate/")
      ->group(group);
  auto* env = command
                  ->add_option("--" + prefix + "password-env", flags.password_env,
                               "Environment variable holding the .pfx / key password")
                  ->group(group);
  auto* file = command
                   ->add_option("--" + prefix + "password-file", flags.password_file,
                                "File whose first line is the .pfx / key password")
                   ->group(group);
  env->excludes(file);
  command
      ->add_option("--" + prefix + "pfx-max-iterations", flags.pfx_max_iterations,
                   "Refuse a .pfx whose MAC asks for more key-derivation iterations than this "
                   "(Windows and OpenSSL write 2,000-10,000)")
      ->capture_default_str()
      ->group(group);
  command
      ->add_flag("--" + prefix + "system-roots", flags.system_roots,
                 "Also trust the system's root CAs (off by default: only trusted-root/ counts)")
      ->group(group);
}

mtls::Result<tls::StoreOptions> to_store_options(const StoreFlags& flags) {
  tls::StoreOptions options;
  if (!flags.store.empty()) options.folder = flags.store;
  if (!flags.cert.empty()) options.cert = flags.cert;
  if (!flags.key.empty()) options.key = flags.key;
  if (!flags.pfx.empty()) options.pfx = flags.pfx;
  for (const auto& path : flags.trusted_roots) options.trusted_roots.emplace_back(path);
  for (const auto& path : flags.intermediates) options.intermediates.emplace_back(path);
  options.system_roots = flags.system_roots;
  options.max_pkcs12_iterations = flags.pfx_max_iterations;
  if (!flags.password_env.empty()) {
    auto secret = tls::secret_from_env(flags.password_env);
    if (!secret) return secret.error();
    options.password = *secret;
  } else if (!flags.password_file.empty()) {
    auto secret = tls::secret_from_file(flags.password_file);
    if (!secret) return secret.error();
    options.password = *secret;
    struct stat info {};
    if (stat(flags.password_file.c_str(), &info) == 0 && (info.st_mode & S_IROTH))
      std::cerr << "mtlsprobe: warning: " << flags.password_file
                << " holds a password and every account on this machine can read it "
                   "(chmod 600)\n";
  }
  return options;
}

std::optional<tls::Store> load_store_or_report(const StoreFlags& flags, const std::string& who) {
  auto options = to_store_options(flags);
  if (!options) {
    fail_input(who + " store: " + options.error().message);
    return std::nullopt;
  }
  tls::Store store = tls::load_store(*options);
  for (const auto& problem : store.problems) fail_input(problem.reason);
  if (!store.problems.empty()) return std::nullopt;
  return store;
}

void add_dial_flags(CLI::App* command, DialFlags& flags) {
  command
      ->add_option("--role", flags.role, "Our role: bems (dial the Lync pool) or lync (dial BEMS)")
      ->check(CLI::IsMember({"bems", "lync"}))
      ->capture_default_str();
  add_store_flags(command, flags.store, "", "our endpoint");
  command->add_option("--sni", flags.sni, "Server name to send (default: HOST when it is a name)");
  command->add_option("--expect-name", flags.expect_name,
                      "FQDN the peer's certificate must cover (default: --sni, else HOST)");
  command->add_option(
      "--connect-to", flags.connect_to,
      "Dial ADDR[:PORT] instead, keeping HOST for SNI and name checks (labs, DNS trouble)");
}

void add_report_flags(CLI::App* command, ReportFlags& flags) {
  const std::string group = "Report";
  command
      ->add_option("--format", flags.format,
                   "Report format: text, json, junit or prometheus (metrics; with --output, "
                   "written atomically for node_exporter's textfile collector)")
      ->check(CLI::IsMember({"text", "json", "junit", "prometheus"}))
      ->capture_default_str()
      ->group(group);
  // Checked while parsing: an unwritable path was found only after every
  // handshake and fetch had been made.
  CLI::Validator writable(
      [](std::string& path) -> std::string {
        std::error_code ec;
        std::filesystem::path file(path);
        if (std::filesystem::is_directory(file, ec)) return path + " is a directory";
        const bool exists = std::filesystem::exists(file, ec);
        std::filesystem::path folder = file.parent_path().empty() ? "." : file.parent_path();
        if (exists ? access(path.c_str(), W_OK) != 0 : access(folder.c_str(), W_OK) != 0)
          return path + ": cannot write the report there (" + std::strerror(errno) + ")";
        return {};
      },
      "FILE");
  command
      ->add_option("--output,-o", flags.output, "Write the report to this file instead of stdout")
      ->check(writable)
      ->group(group);
  command->add_flag("--no-color", flags.no_color, "No ANSI colour in text output")->group(group);
  command->add_flag("--strict", flags.strict, "Warnings fail too (exit 1)")->group(group);
  command->add_flag("--verbose,-v", flags.verbose, "Text: also print details of passing findings")
      ->group(group);
}

report::Format report_format(const ReportFlags& flags) {
  if (flags.format == "json") return report::Format::json;
  if (flags.format == "junit") return report::Format::junit;
  if (flags.format == "prometheus") return report::Format::prometheus;
  return report::Format::text;
}

report::TextOptions text_options(const ReportFlags& flags) {
  const bool terminal = flags.output.empty() && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  return {.color = terminal && !flags.no_color, .verbose = flags.verbose};
}

bool renders_facts(const ReportFlags& flags) {
  return report_format(flags) == report::Format::json;
}

int emit_report(report::Report report, const ReportFlags& flags) {
  report.strict = flags.strict;
  std::string rendered;
  switch (report_format(flags)) {
    case report::Format::json:
      rendered = report::render_json(report);
      break;
    case report::Format::junit:
      rendered = report::render_junit(report);
      break;
    case report::Format::prometheus:
      rendered = report::render_prometheus(report);
      break;
    case report::Format::text:
      rendered = report::render_text(report, text_options(flags));
      break;
  }
  if (flags.output.empty()) {
    std::cout << rendered << std::flush;
  } else {
    auto written = write_file_atomically(flags.output, rendered);
    if (!written) return fail_input(written.error().message);
  }
  return report::exit_code(report);
}

tls::Status write_file_atomically(const std::filesystem::path& file, const std::string& contents) {
  // A reader (node_exporter's textfile collector, a CI step) sees the old
  // file or the new one, never half of one: write beside it, then rename.
  // The temporary name does not end in .prom, so the collector skips it.
  // Something that is not a regular file (/dev/null, /dev/stdout, a FIFO) is
  // written in place: a rename would replace the device with a file.
  std::error_code status_error;
  const auto status = std::filesystem::status(file, status_error);
  if (!status_error && std::filesystem::exists(status) &&
      !std::filesystem::is_regular_file(status)) {
    if (std::filesystem::is_directory(status))
      return tls::Error{file.string() + ": is a directory, not a file to write the report to"};
    std::ofstream out(file, std::ios::binary);
    out << contents;
    out.close();
    if (!out) return tls::Error{file.string() + ": cannot write the report"};
    return tls::Done{};
  }
  std::filesystem::path temporary = file;
  temporary += ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    out.close();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return tls::Error{file.string() + ": cannot write the report"};
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return tls::Error{file.string() + ": cannot write the report: " + ec.message()};
  }
  return tls::Done{};
}

std::string utc_timestamp() { return rfc3339(tls::Clock::now()); }

report::Report start_report(const std::string& command) {
  report::Report report;
  report.version = MTLSPROBE_VERSION;
  report.command = command;
  report.generated_at = utc_timestamp();
  return report;
}

int fail_input(const std::string& message) {
  std::cerr << "mtlsprobe: error: " << message << "\n";
  return report::kExitBadInput;
}

}  // namespace probe
