#pragma once
// A certificate store as a folder that mirrors the Windows store the vendor
// names: STORE/personal (own certificate and key, or a .pfx),
// STORE/trusted-root, STORE/intermediate. Individual paths override folders.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tls/credentials.hpp"
#include "tls/trust_anchors.hpp"

namespace tls {

struct StoredCertificate {
  Certificate certificate;
  std::filesystem::path file;
};

// A file that could not be used, by name, with the reason.
struct StoreProblem {
  std::filesystem::path file;
  std::string reason;  // a full one-line message that already names the file
};

struct StoreOptions {
  std::optional<std::filesystem::path> folder;  // STORE
  std::optional<std::filesystem::path> cert;    // overrides STORE/personal
  std::optional<std::filesystem::path> key;
  std::optional<std::filesystem::path> pfx;
  std::vector<std::filesystem::path>
      trusted_roots;  // files or folders; override STORE/trusted-root
  std::vector<std::filesystem::path> intermediates;  // override STORE/intermediate
  std::optional<Secret> password;                    // for PKCS#12 and encrypted keys
  bool system_roots = false;                         // also trust the system's roots
  std::uint64_t max_pkcs12_iterations = kDefaultMaxPkcs12Iterations;
};

struct Store {
  // The endpoint's own certificate (the one matching the key, else the
  // first non-CA certificate in personal/), and what else personal/ held.
  std::optional<StoredCertificate> leaf;
  std::vector<StoredCertificate> personal_extras;
  std::optional<PrivateKey> key;
  std::optional<std::filesystem::path> key_file;
  bool key_found_but_mismatched = false;  // a key was found, but no personal certificate matches it
  // Files of personal/ (or --key/--cert/--pfx) that exist but this account
  // may not read: on a server usually the key, whose permissions are the
  // requirement "readable by the service account". Not load problems, so the
  // rest of the store is still judged.
  std::vector<std::filesystem::path> unreadable_personal;

  std::vector<StoredCertificate> trusted_roots;
  std::vector<StoredCertificate> intermediates;
  bool system_roots = false;

  std::vector<StoreProblem> problems;

  std::vector<Certificate> root_certificates() const;
  // The trusted roots (and the system's with system_roots) as verify_chain's
  // anchors: built once for these certificates and shared by every caller.
  TrustAnchors trust_anchors() const;
  std::vector<Certificate> intermediate_certificates() const;
  // What this endpoint sends in a handshake after its leaf: personal extras
  // and the intermediates that chain its leaf.
  std::vector<Certificate> personal_extra_certificates() const;
};

// Loads every file named by the options. Never fails as a whole: unreadable
// files become problems, so the caller can report all of them at once.
Store load_store(const StoreOptions& options);

// The well-known sub-folder names.
inline constexpr const char* kPersonalFolder = "personal";
inline constexpr const char* kTrustedRootFolder = "trusted-root";
inline constexpr const char* kIntermediateFolder = "intermediate";

}  // namespace tls
