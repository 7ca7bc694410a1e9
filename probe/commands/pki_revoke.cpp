// `mtlsprobe pki revoke DIR CERTFILE --reason keyCompromise` revokes a lab
// certificate: records it in DIR/ca/revoked.json and reissues the CRLs, so
// `pki serve` answers "revoked" over CRL and OCSP at once.
#include <iostream>
#include <memory>

#include "probe/commands/commands.hpp"
#include "probe/lab/revocation.hpp"
#include "report/model.hpp"
#include "tls/revocation.hpp"

namespace probe {
namespace fs = std::filesystem;

namespace {

struct RevokeArguments {
  fs::path folder;
  fs::path certificate;
  std::string reason = "unspecified";
};

int run_revoke(const RevokeArguments& arguments) {
  auto loaded = tls::load_credential_file(arguments.certificate, std::nullopt);
  if (!loaded || loaded->certificates.empty()) {
    std::cerr << "mtlsprobe pki revoke: "
              << (loaded ? arguments.certificate.string() + ": holds no certificate"
                         : loaded.error().message)
              << "\n";
    return report::kExitBadInput;
  }
  auto revoked = revoke_in_lab(arguments.folder, loaded->certificates.front(), arguments.reason);
  if (!revoked) {
    std::cerr << "mtlsprobe pki revoke: " << revoked.error().message << "\n";
    return report::kExitBadInput;
  }
  std::cout << "revoked " << revoked->subject << " (serial " << revoked->serial_hex << ") of CA "
            << revoked->ca << ": " << revoked->reason << "\n"
            << "reissued " << lab_crl_file(arguments.folder, revoked->ca).string() << "\n";
  return report::kExitPass;
}

}  // namespace

void add_pki_revoke_command(CLI::App& pki, Action& action) {
  auto arguments = std::make_shared<RevokeArguments>();
  auto* revoke = pki.add_subcommand("revoke", "Revoke a lab certificate and reissue the CRL");
  revoke->add_option("folder", arguments->folder, "Lab folder made by `mtlsprobe pki init`")
      ->required();
  revoke->add_option("certificate", arguments->certificate, "Certificate file to revoke")
      ->required();
  std::vector<std::string> reasons;
  for (const auto& name : tls::crl_reason_names())
    if (name != "removeFromCRL") reasons.push_back(name);
  revoke->add_option("--reason", arguments->reason, "CRLReason (RFC 5280 5.3.1)")
      ->check(CLI::IsMember(reasons))
      ->capture_default_str();
  revoke->callback(
      [&action, arguments] { action = [arguments] { return run_revoke(*arguments); }; });
}

}  // namespace probe
