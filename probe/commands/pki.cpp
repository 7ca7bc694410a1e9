// `mtlsprobe pki init DIR` builds a lab PKI (clean, or with one flaw);
// `mtlsprobe pki flaws` lists the flaws.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "probe/commands/commands.hpp"
#include "probe/lab/pki.hpp"
#include "report/model.hpp"

namespace probe {
namespace fs = std::filesystem;

namespace {

struct InitArguments {
  fs::path folder;
  LabOptions lab;
  std::string key_type = "rsa2048";
  std::string flaw;
  std::string revocation_url;
  std::string password_env;
  fs::path password_file;
  bool force = false;
};

int fail(const std::string& message) {
  std::cerr << "mtlsprobe pki init: " << message << "\n";
  return report::kExitBadInput;
}

// A folder is refused when it holds anything, unless --force says the lab in
// it may be replaced.
mtls::Status check_target(const fs::path& folder, bool force) {
  std::error_code ec;
  auto status = fs::status(folder, ec);
  if (!fs::exists(status)) return mtls::Done{};
  if (!fs::is_directory(status))
    return mtls::Error{folder.string() + ": exists and is not a folder"};
  if (!force && fs::directory_iterator(folder, ec) != fs::directory_iterator())
    return mtls::Error{folder.string() +
                       ": folder is not empty; choose another or add --force to replace the lab "
                       "in it"};
  if (ec) return mtls::Error{folder.string() + ": cannot read: " + ec.message()};
  return mtls::Done{};
}

std::string quoted(const std::string& text) {
  if (text.find_first_of(" \t'\"$\\") == std::string::npos) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_init(InitArguments& arguments) {
  LabOptions& lab = arguments.lab;
  lab.key_type = arguments.key_type == "ecdsa-p256" ? LabKeyType::ecdsa_p256 : LabKeyType::rsa2048;
  if (!arguments.flaw.empty()) lab.flaw = arguments.flaw;
  if (!arguments.revocation_url.empty()) lab.revocation_url = arguments.revocation_url;
  if (!arguments.password_env.empty()) {
    auto secret = tls::secret_from_env(arguments.password_env);
    if (!secret) return fail("--password-env: " + secret.error().message);
    lab.pfx_password = *secret;
  } else if (!arguments.password_file.empty()) {
    auto secret = tls::secret_from_file(arguments.password_file);
    if (!secret) return fail("--password-file: " + secret.error().message);
    lab.pfx_password = *secret;
  }
  if (auto valid = validate_lab_options(lab); !valid) return fail(valid.error().message);
  if (auto target = check_target(arguments.folder, arguments.force); !target)
    return fail(target.error().message);

  auto built = build_lab(arguments.folder, lab);
  if (!built) return fail(built.error().message);

  const fs::path& dir = arguments.folder;
  std::cout << "Lab PKI written to " << dir.string();
  if (lab.flaw)
    std::cout << " with flaw " << *lab.flaw << ": " << find_lab_flaw(*lab.flaw)->description;
  std::cout << "\n";
  for (const auto& file : built->files) std::cout << "  " << (dir / file).string() << "\n";
  std::cout << "The .pfx files are "
            << (lab.pfx_password ? "protected by the password you gave"
                                 : "not password-protected (lab use only)")
            << "; the CA keys in " << (dir / "ca").string() << " sign CRLs later.\n";
  std::cout << "\nNext, check the two stores against each other:\n  mtlsprobe check --store "
            << quoted((dir / "bems").string()) << " --peer-store "
            << quoted((dir / "lync").string()) << " --pool " << lab.pool;
  for (const auto& instance : lab.instances) std::cout << " --instance " << instance;
  std::cout << "\n";
  return report::kExitPass;
}

int run_flaws() {
  std::size_t width = 0;
  for (const auto& flaw : lab_flaws()) width = std::max(width, flaw.name.size());
  std::cout << "Flaws for `mtlsprobe pki init DIR --flaw NAME` (each makes exactly one defect):\n";
  for (const auto& flaw : lab_flaws())
    std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << flaw.name << "  "
              << flaw.description << "\n";
  return report::kExitPass;
}

}  // namespace

void add_pki_command(CLI::App& app, Action& action) {
  auto* pki = app.add_subcommand(
      "pki", "Build a lab PKI (root CA, issuing CA, BEMS and Lync certificates) to try things on");
  pki->require_subcommand(1);

  auto arguments = std::make_shared<InitArguments>();
  auto* init = pki->add_subcommand(
      "init",
      "Write a lab into DIR: DIR/bems and DIR/lync store folders (personal/, trusted-root/, "
      "intermediate/), DIR/bems.pfx and DIR/lync.pfx, the CA certificates and keys in DIR/ca, and "
      "DIR/lab.json describing it");
  init->add_option("DIR", arguments->folder, "Folder to write the lab into (created if missing)")
      ->required();
  init->add_option("--pool", arguments->lab.pool,
                   "BEMS pool FQDN: the BEMS certificate's CN and first SAN")
      ->capture_default_str();
  init->add_option("--instance", arguments->lab.instances,
                   "A BEMS server FQDN, repeat for each; each goes into the BEMS SAN")
      ->capture_default_str();
  init->add_option("--lync-pool", arguments->lab.lync_pool,
                   "Lync / Skype for Business pool FQDN: the Lync certificate's CN and SAN")
      ->capture_default_str();
  init->add_option("--key-type", arguments->key_type, "Key of every certificate in the lab")
      ->check(CLI::IsMember({"rsa2048", "ecdsa-p256"}))
      ->capture_default_str();
  init->add_option("--days", arguments->lab.days, "Validity of the BEMS and Lync certificates")
      ->capture_default_str();
  init->add_option("--flaw", arguments->flaw,
                   "Build the lab with this one defect; `mtlsprobe pki flaws` lists them");
  init->add_option("--revocation-url", arguments->revocation_url,
                   "Base http://HOST[:PORT] for CRL (BASE/crl/CA.crl) and OCSP (BASE/ocsp) URLs "
                   "[default: http://pki.example.com]");
  auto* env = init->add_option("--password-env", arguments->password_env,
                               "Protect the .pfx files with the password in this variable");
  init->add_option("--password-file", arguments->password_file,
                   "Protect the .pfx files with the first line of this file")
      ->excludes(env);
  init->add_flag("--force", arguments->force, "Replace the lab in a folder that is not empty");
  init->footer(
      "Example:\n"
      "  mtlsprobe pki init lab --pool bemsapppool.example.com --instance "
      "bemsserver01.example.com --instance bemsserver02.example.com\n"
      "  mtlsprobe check --store lab/bems --peer-store lab/lync --pool bemsapppool.example.com "
      "--instance bemsserver01.example.com --instance bemsserver02.example.com\n"
      "Add --flaw NAME to get a lab that breaks one requirement and see what check says about "
      "it.");
  init->callback([&action, arguments] { action = [arguments] { return run_init(*arguments); }; });

  auto* flaws = pki->add_subcommand("flaws", "List the flaws `pki init --flaw` can build");
  flaws->callback([&action] { action = run_flaws; });

  add_pki_revocation_subcommands(*pki, action);
}

}  // namespace probe
