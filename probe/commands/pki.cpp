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

struct ReissueArguments {
  fs::path folder;
  ReissueOptions reissue;
  std::string key_type;
  std::string flaw;
  int days = 0;
  std::string password_env;
  fs::path password_file;
};

int run_reissue(ReissueArguments& arguments) {
  auto failed = [](const std::string& message) {
    std::cerr << "mtlsprobe pki reissue: " << message << "\n";
    return report::kExitBadInput;
  };
  ReissueOptions& reissue = arguments.reissue;
  if (!arguments.key_type.empty())
    reissue.key_type =
        arguments.key_type == "ecdsa-p256" ? LabKeyType::ecdsa_p256 : LabKeyType::rsa2048;
  if (!arguments.flaw.empty()) reissue.flaw = arguments.flaw;
  if (arguments.days != 0) reissue.days = arguments.days;
  if (!arguments.password_env.empty()) {
    auto secret = tls::secret_from_env(arguments.password_env);
    if (!secret) return failed("--password-env: " + secret.error().message);
    reissue.pfx_password = *secret;
  } else if (!arguments.password_file.empty()) {
    auto secret = tls::secret_from_file(arguments.password_file);
    if (!secret) return failed("--password-file: " + secret.error().message);
    reissue.pfx_password = *secret;
  }
  auto built = reissue_lab(arguments.folder, reissue);
  if (!built) return failed(built.error().message);

  const fs::path& dir = arguments.folder;
  ReissueLayout layout;
  std::cout << "Next BEMS certificate written to " << (dir / layout.store).string();
  if (reissue.new_root)
    std::cout << ", issued under a new root (mtlsprobe Lab Root CA 2) that the Lync store does "
                 "not trust";
  else if (reissue.new_issuing_ca)
    std::cout << ", issued by a new issuing CA (mtlsprobe Lab Issuing CA 2) that the Lync "
                 "store's intermediate/ does not hold";
  if (reissue.other_template)
    std::cout << ", from another certificate template without the lab's issuance policy";
  if (reissue.flaw)
    std::cout << " with flaw " << *reissue.flaw << ": "
              << find_lab_flaw(*reissue.flaw)->description;
  std::cout << "\n";
  for (const auto& file : built->files) std::cout << "  " << (dir / file).string() << "\n";
  std::cout << "\nNext, rehearse the renewal:\n  mtlsprobe rollover --store "
            << quoted((dir / "bems").string()) << " --next-store "
            << quoted((dir / layout.store).string()) << " --peer-store "
            << quoted((dir / "lync").string()) << "\n";
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

  auto reissue = std::make_shared<ReissueArguments>();
  auto* next = pki->add_subcommand(
      "reissue",
      "Make the next BEMS certificate for a lab made by `pki init`, to rehearse a renewal with "
      "`mtlsprobe rollover`: DIR/next/ (the BEMS store after the switch) and DIR/next.pfx");
  next->add_option("DIR", reissue->folder, "The lab folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  next->add_flag("--new-issuing-ca", reissue->reissue.new_issuing_ca,
                 "Issue it from a new issuing CA under the lab root, which the Lync store's "
                 "intermediate/ does not hold");
  next->add_flag("--new-root", reissue->reissue.new_root,
                 "Issue it under a new root (and issuing CA) that the Lync store does not trust");
  next->add_flag("--other-template", reissue->reissue.other_template,
                 "Issue it from another AD CS certificate template, without the lab's issuance "
                 "policy");
  next->add_option("--key-type", reissue->key_type,
                   "Key of the next certificate [default: the lab's]")
      ->check(CLI::IsMember({"rsa2048", "ecdsa-p256"}));
  next->add_option("--days", reissue->days, "Validity of the next certificate [default: the lab's]")
      ->check(CLI::Range(1, 36500));
  next->add_option("--flaw", reissue->flaw,
                   "Give the next certificate one defect: " + reissue_flaw_names());
  auto* next_env = next->add_option("--password-env", reissue->password_env,
                                    "Protect next.pfx with the password in this variable");
  next->add_option("--password-file", reissue->password_file,
                   "Protect next.pfx with the first line of this file")
      ->excludes(next_env);
  next->footer(
      "Example:\n"
      "  mtlsprobe pki init lab\n"
      "  mtlsprobe pki reissue lab --new-issuing-ca\n"
      "  mtlsprobe rollover --store lab/bems --next-store lab/next --peer-store lab/lync");
  next->callback([&action, reissue] { action = [reissue] { return run_reissue(*reissue); }; });

  auto* flaws = pki->add_subcommand("flaws", "List the flaws `pki init --flaw` can build");
  flaws->callback([&action] { action = run_flaws; });

  add_pki_revocation_subcommands(*pki, action);
}

}  // namespace probe
