#pragma once
// The lab PKI: a root CA, an issuing CA, the BEMS certificate and the Lync
// pool certificate, written as two store folders that `check` reads, plus
// .pfx copies. A flaw makes a lab with exactly one documented defect, so
// every requirement rule can be tested against a certificate that breaks it.
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tls/credentials.hpp"
#include "tls/dns_name.hpp"
#include "tls/result.hpp"

namespace probe {

// The defects a lab can be made with, one each.
enum class LabFlaw {
  missing_key,
  key_mismatch,
  untrusted_root,
  missing_intermediate,
  root_in_intermediate_store,
  cn_not_fqdn,
  san_missing_pool,
  san_missing_instance,
  expired,
  not_yet_valid,
  no_client_auth_eku,
  no_digital_signature,
  weak_key,
  sha1_signature,
  separate_untrusted_cas,
  intermediate_in_root_store,
  no_revocation_info,
};

struct FlawInfo {
  LabFlaw flaw;
  std::string_view name;         // as `--flaw` spells it: "missing-key"
  std::string_view description;  // one line
};

// Every flaw `pki init --flaw` knows, in the order `pki flaws` prints them.
std::span<const FlawInfo> lab_flaws();
const FlawInfo* find_lab_flaw(std::string_view name);
// "missing-key, key-mismatch, ..." for error messages.
std::string lab_flaw_names();

enum class LabKeyType { rsa2048, ecdsa_p256 };

struct LabOptions {
  std::string pool = "bemsapppool.example.com";
  std::vector<std::string> instances = {"bemsserver01.example.com", "bemsserver02.example.com"};
  std::string lync_pool = "lyncpool.example.com";
  LabKeyType key_type = LabKeyType::rsa2048;
  int days = 365;
  // Base of the CRL and OCSP URLs; http://pki.example.com when empty.
  std::optional<std::string> revocation_url;
  std::optional<std::string> flaw;          // a FlawInfo::name, checked by validate_lab_options
  std::optional<tls::Secret> pfx_password;  // the .pfx files are unencrypted without one
};

// What a lab is made of, as paths relative to the lab folder.
struct LabLayout {
  std::filesystem::path bems_store = "bems";
  std::filesystem::path lync_store = "lync";
  std::filesystem::path bems_cert = "bems/personal/bems.crt";
  std::filesystem::path bems_key = "bems/personal/bems.key";
  std::filesystem::path lync_cert = "lync/personal/lync.crt";
  std::filesystem::path lync_key = "lync/personal/lync.key";
  std::filesystem::path bems_pfx = "bems.pfx";
  std::filesystem::path lync_pfx = "lync.pfx";
  std::filesystem::path ca_folder = "ca";
  std::filesystem::path manifest = "lab.json";
};

struct LabResult {
  std::vector<std::filesystem::path> files;  // every file written, relative to the lab folder
};

// Checks the options (FQDNs, days, URL, flaw name); the message names the option.
mtls::Status validate_lab_options(const LabOptions& options);

// Writes the lab into `folder` (created when missing). The caller decides
// whether an existing folder may be written into; files of an earlier lab
// are removed first so that no stale file changes the defect.
mtls::Result<LabResult> build_lab(const std::filesystem::path& folder, const LabOptions& options);

// `pki reissue`: the next BEMS certificate for an existing lab, to rehearse
// a renewal (`mtlsprobe rollover`). Written as DIR/next/ (a BEMS store as it
// will be after the switch) and DIR/next.pfx; the current lab is untouched
// except for new CAs in DIR/ca/ and a "next" entry in DIR/lab.json.
struct ReissueOptions {
  bool new_issuing_ca = false;         // a second issuing CA under the lab root
  bool new_root = false;               // a new root and issuing CA no Lync store holds
  bool other_template = false;         // another AD CS template, without the lab's policy
  std::optional<std::string> flaw;     // one of reissue_flaws()
  std::optional<LabKeyType> key_type;  // default: the lab's
  std::optional<int> days;             // default: the lab's
  std::optional<tls::Secret> pfx_password;
};

struct ReissueLayout {
  std::filesystem::path store = "next";
  std::filesystem::path cert = "next/personal/bems.crt";
  std::filesystem::path key = "next/personal/bems.key";
  std::filesystem::path pfx = "next.pfx";
};

// The flaws a next certificate can have: those of the BEMS certificate and
// its own store (the Lync side and the stores of the current lab stay as they are).
bool reissue_flaw_allowed(std::string_view name);
std::string reissue_flaw_names();

tls::Result<LabResult> reissue_lab(const std::filesystem::path& folder,
                                   const ReissueOptions& options);

}  // namespace probe
