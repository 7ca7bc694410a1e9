#include "tests/support/openssl_pki.hpp"

#include <stdexcept>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace testing {
namespace fs = std::filesystem;
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = run_process(argv, std::chrono::seconds(60));
  if (result.exit_code != 0)
    throw std::runtime_error("openssl " + args.front() + " failed: " + result.err);
}

std::vector<std::string> newkey(const std::string& key) {
  if (key.starts_with("ec:"))
    return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + key.substr(3)};
  return {"-newkey", key};
}

}  // namespace

void openssl_issue_leaf(const OpensslPki& pki, const fs::path& cert, const fs::path& key,
                        const OpensslLeafSpec& leaf) {
  fs::path csr = cert.string() + ".csr";
  fs::path ext = cert.string() + ".ext";
  std::vector<std::string> req{"req",  "-new",       "-nodes", "-keyout",       key.string(),
                               "-out", csr.string(), "-subj",  "/CN=" + leaf.cn};
  auto k = newkey(leaf.key);
  req.insert(req.end(), k.begin(), k.end());
  openssl(req);
  std::string san;
  for (const auto& name : leaf.dns) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  std::string extensions =
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
      "crlDistributionPoints=URI:http://pki.example.com/crl/issuing.crl\n";
  if (!san.empty()) extensions += "subjectAltName=" + san + "\n";
  if (!leaf.eku.empty()) extensions += "extendedKeyUsage=" + leaf.eku + "\n";
  write_file(ext, extensions);
  openssl({"x509", "-req", "-in", csr.string(), "-CA", pki.intermediate_cert.string(), "-CAkey",
           pki.intermediate_key.string(), "-CAcreateserial", "-out", cert.string(), "-days",
           std::to_string(leaf.days), "-sha256", "-extfile", ext.string()});
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(csr);
  fs::remove(ext);
}

OpensslPki make_openssl_pki(const fs::path& folder, const OpensslLeafSpec& leaf) {
  fs::create_directories(folder);
  OpensslPki pki{folder / "root.crt",    folder / "root.key", folder / "issuing.crt",
                 folder / "issuing.key", folder / "leaf.crt", folder / "leaf.key"};
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.root_key.string(),
           "-out", pki.root_cert.string(), "-subj", "/O=Other Tool/CN=OpenSSL CLI Root", "-days",
           "400", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
  fs::path csr = folder / "issuing.csr";
  fs::path ext = folder / "issuing.ext";
  openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.intermediate_key.string(),
           "-out", csr.string(), "-subj", "/O=Other Tool/CN=OpenSSL CLI Issuing CA"});
  write_file(ext,
             "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
             "crlDistributionPoints=URI:http://pki.example.com/crl/root.crl\n");
  openssl({"x509", "-req", "-in", csr.string(), "-CA", pki.root_cert.string(), "-CAkey",
           pki.root_key.string(), "-CAcreateserial", "-out", pki.intermediate_cert.string(),
           "-days", "300", "-sha256", "-extfile", ext.string()});
  openssl_issue_leaf(pki, pki.leaf_cert, pki.leaf_key, leaf);
  return pki;
}

fs::path make_store(const fs::path& store, const OpensslPki& pki) {
  fs::create_directories(store / "personal");
  fs::create_directories(store / "trusted-root");
  fs::create_directories(store / "intermediate");
  fs::copy_file(pki.leaf_cert, store / "personal" / "cert.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki.leaf_key, store / "personal" / "key.pem", fs::copy_options::overwrite_existing);
  fs::permissions(store / "personal" / "key.pem", fs::perms::owner_read | fs::perms::owner_write);
  fs::copy_file(pki.root_cert, store / "trusted-root" / "root.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(pki.intermediate_cert, store / "intermediate" / "issuing.pem",
                fs::copy_options::overwrite_existing);
  return store;
}

}  // namespace testing
