#include "tls/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

namespace tls {
namespace fs = std::filesystem;
namespace {

// Every regular file in a folder (sorted, dot-files skipped), or the path
// itself when it is a file.
std::vector<fs::path> files_in(const fs::path& path, std::vector<StoreProblem>& problems) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    problems.push_back({path, path.string() + ": no such file or folder"});
    return {};
  }
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<fs::path> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& entry = it->path();
    if (entry.filename().string().starts_with('.')) continue;
    if (it->is_directory(ec)) {
      problems.push_back({entry, entry.string() + ": is a folder inside a store folder; "
                                                  "store folders hold files only"});
      continue;
    }
    files.push_back(entry);
  }
  if (ec) problems.push_back({path, path.string() + ": cannot list folder: " + ec.message()});
  std::sort(files.begin(), files.end());
  return files;
}

// Loads every file, one after the other. Helper threads once loaded a big
// store in parallel, but OpenSSL 3.0's key decoders take shared locks at
// every step: two threads decoding at once on two cores spent 1.6x the CPU
// of one thread and took longer (issue 17: 185 ms of CPU and 114 ms against
// 98 ms and 100 ms for 400 roots and 1,000 intermediates).
std::vector<Result<FileContents>> load_files(const std::vector<fs::path>& files,
                                             const std::optional<Secret>& password,
                                             std::uint64_t max_iterations, CertificateKeys keys) {
  std::vector<Result<FileContents>> results;
  results.reserve(files.size());
  for (const fs::path& file : files)
    results.push_back(load_credential_file(file, password, max_iterations, keys));
  return results;
}

// Files from which a folder's certificate keys are decoded on first need.
constexpr std::size_t kDeferKeysFrom = 32;

void load_certificates_only(const std::vector<fs::path>& paths, const std::string& store_name,
                            const std::optional<Secret>& password, std::uint64_t max_iterations,
                            CertificateKeys keys, std::vector<StoredCertificate>& into,
                            std::vector<StoreProblem>& problems) {
  // What listing a path finds wrong is reported before its files' problems,
  // after those of the paths before it, as when each was loaded in turn.
  std::vector<fs::path> files;
  std::vector<std::pair<std::size_t, StoreProblem>> listing_problems;  // before file N
  for (const fs::path& path : paths) {
    std::vector<StoreProblem> found;
    const std::size_t first = files.size();
    for (fs::path& file : files_in(path, found)) files.push_back(std::move(file));
    for (auto& problem : found) listing_problems.emplace_back(first, std::move(problem));
  }
  // Deferring costs a second parse of each certificate used and an OpenSSL
  // context of its own: it pays only where most certificates are never in a
  // path. For a store of a few files (the lab's, a BEMS server's) it added 5%
  // to a whole `connect` (callgrind).
  if (files.size() < kDeferKeysFrom) keys = CertificateKeys::at_load;
  std::vector<Result<FileContents>> loaded = load_files(files, password, max_iterations, keys);
  auto listing = listing_problems.begin();
  for (std::size_t i = 0; i <= files.size(); ++i) {
    for (; listing != listing_problems.end() && listing->first == i; ++listing)
      problems.push_back(std::move(listing->second));
    if (i == files.size()) break;
    const fs::path& file = files[i];
    auto& contents = loaded[i];
    if (!contents) {
      problems.push_back({file, contents.error().message});
      continue;
    }
    if (contents->key) {
      problems.push_back({file, file.string() + ": holds a private key; the " + store_name +
                                    " store must hold certificates only (move the key to "
                                    "personal/ and keep it out of shared folders)"});
      continue;
    }
    for (auto& certificate : contents->certificates) into.push_back({certificate, file});
  }
}

void load_personal(const std::vector<fs::path>& files, const std::optional<Secret>& password,
                   std::uint64_t max_iterations, Store& store,
                   std::vector<StoredCertificate>& certificates) {
  for (const fs::path& file : files) {
    std::error_code ec;
    if (fs::is_regular_file(file, ec) && ::access(file.c_str(), R_OK) != 0 && errno == EACCES) {
      store.unreadable_personal.push_back(file);
      continue;
    }
    auto contents = load_credential_file(file, password, max_iterations);
    if (!contents) {
      store.problems.push_back({file, contents.error().message});
      continue;
    }
    if (contents->key) {
      if (store.key) {
        store.problems.push_back(
            {file, file.string() + ": a second private key; personal/ must hold exactly one key "
                                   "(the one of the endpoint's certificate)"});
        continue;
      }
      store.key = contents->key;
      store.key_file = file;
    }
    for (auto& certificate : contents->certificates) certificates.push_back({certificate, file});
  }
}

void choose_leaf(Store& store, std::vector<StoredCertificate>& certificates) {
  if (certificates.empty()) return;
  auto leaf = certificates.end();
  if (store.key) {
    leaf = std::find_if(certificates.begin(), certificates.end(),
                        [&](const auto& stored) { return store.key->matches(stored.certificate); });
    store.key_found_but_mismatched = leaf == certificates.end();
  }
  if (leaf == certificates.end())
    leaf = std::find_if(certificates.begin(), certificates.end(),
                        [](const auto& stored) { return !stored.certificate.info().is_ca; });
  if (leaf == certificates.end()) leaf = certificates.begin();
  store.leaf = *leaf;
  certificates.erase(leaf);
  store.personal_extras = std::move(certificates);
}

std::vector<Certificate> certificates_of(const std::vector<StoredCertificate>& stored) {
  std::vector<Certificate> certificates;
  for (const auto& entry : stored) certificates.push_back(entry.certificate);
  return certificates;
}

}  // namespace

std::vector<Certificate> Store::root_certificates() const { return certificates_of(trusted_roots); }
TrustAnchors Store::trust_anchors() const {
  return TrustAnchors::shared(root_certificates(), system_roots);
}
std::vector<Certificate> Store::intermediate_certificates() const {
  return certificates_of(intermediates);
}
std::vector<Certificate> Store::personal_extra_certificates() const {
  return certificates_of(personal_extras);
}

Store load_store(const StoreOptions& options) {
  Store store;
  store.system_roots = options.system_roots;
  std::optional<fs::path> folder = options.folder;
  if (folder) {
    std::error_code ec;
    if (!fs::is_directory(*folder, ec)) {
      store.problems.push_back(
          {*folder, folder->string() + (fs::exists(*folder, ec) ? ": is not a folder"
                                                                : ": no such store folder")});
      folder.reset();
    } else if (!fs::exists(*folder / kPersonalFolder) &&
               !fs::exists(*folder / kTrustedRootFolder) &&
               !fs::exists(*folder / kIntermediateFolder)) {
      store.problems.push_back(
          {*folder, folder->string() + ": not a store folder: it has none of personal/, "
                                       "trusted-root/, intermediate/ (run `mtlsprobe pki init` "
                                       "for an example)"});
      folder.reset();
    }
  }

  std::vector<StoredCertificate> personal;
  std::vector<fs::path> personal_files;
  if (options.pfx) {
    personal_files.push_back(*options.pfx);
  } else if (options.cert) {
    personal_files.push_back(*options.cert);
  } else if (folder && fs::exists(*folder / kPersonalFolder)) {
    personal_files = files_in(*folder / kPersonalFolder, store.problems);
  }
  if (options.key && !options.pfx) personal_files.push_back(*options.key);
  load_personal(personal_files, options.password, options.max_pkcs12_iterations, store, personal);
  choose_leaf(store, personal);

  auto folder_or = [&](const std::vector<fs::path>& explicit_paths, const char* name) {
    if (!explicit_paths.empty()) return explicit_paths;
    std::vector<fs::path> paths;
    if (folder && fs::exists(*folder / name)) paths.push_back(*folder / name);
    return paths;
  };
  // The roots are all used whole (a trust store holds them, and each one's
  // self-signature is checked); of the intermediates only those in a path.
  load_certificates_only(folder_or(options.trusted_roots, kTrustedRootFolder), "trusted-root",
                         options.password, options.max_pkcs12_iterations, CertificateKeys::at_load,
                         store.trusted_roots, store.problems);
  load_certificates_only(folder_or(options.intermediates, kIntermediateFolder), "intermediate",
                         options.password, options.max_pkcs12_iterations,
                         CertificateKeys::when_needed, store.intermediates, store.problems);
  return store;
}

}  // namespace tls
