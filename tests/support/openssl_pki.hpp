#pragma once
// A small PKI made with the `openssl` command line (another tool than our
// issuer): root -> intermediate -> leaf, files in a folder.
#include <filesystem>
#include <string>
#include <vector>

namespace testing {

struct OpensslLeafSpec {
  std::string cn = "bemsapppool.example.com";
  std::vector<std::string> dns = {"bemsapppool.example.com", "bemsserver01.example.com"};
  std::string eku = "serverAuth,clientAuth";
  std::string key = "rsa:2048";  // or "ec:prime256v1" style via -newkey ec
  int days = 200;
};

struct OpensslPki {
  std::filesystem::path root_cert, root_key, intermediate_cert, intermediate_key, leaf_cert,
      leaf_key;
};

// Runs openssl; throws std::runtime_error with its stderr when a step fails.
OpensslPki make_openssl_pki(const std::filesystem::path& folder, const OpensslLeafSpec& leaf = {});

// Issues one more leaf from an existing PKI's intermediate.
void openssl_issue_leaf(const OpensslPki& pki, const std::filesystem::path& cert,
                        const std::filesystem::path& key, const OpensslLeafSpec& leaf);

// Lays the PKI out as a store folder: personal/, trusted-root/, intermediate/.
std::filesystem::path make_store(const std::filesystem::path& store, const OpensslPki& pki);

}  // namespace testing
