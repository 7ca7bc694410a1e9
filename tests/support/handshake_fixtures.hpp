#pragma once
// Test fixtures for handshake tests: certificates made by the `openssl` CLI
// (the "made by other tools" case, until tls/issuer lands) and our server
// running on its own thread. Header-only so no CMake change is needed.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/handshake.hpp"

namespace testing {

inline const char* kCaExtensions =
    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n";
inline const char* kLeafExtensions =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n";

// A PKI in a temp folder: NAME.pem and NAME.key per certificate.
class CliPki {
 public:
  // A self-signed CA.
  void root(const std::string& name, const std::string& common_name) {
    make(name, common_name, "", kCaExtensions, /*new_key=*/true);
  }
  // Issued by `issuer`; `extensions` as in an openssl extfile.
  void issue(const std::string& name, const std::string& common_name, const std::string& issuer,
             const std::string& extensions, bool new_key = true) {
    make(name, common_name, issuer, extensions, new_key);
  }

  std::filesystem::path pem(const std::string& name) const { return dir_ / (name + ".pem"); }
  std::filesystem::path key(const std::string& name) const { return dir_ / (name + ".key"); }
  const TempDir& dir() const { return dir_; }

  tls::Certificate certificate(const std::string& name) const {
    auto loaded = tls::load_credential_file(pem(name), std::nullopt);
    REQUIRE_MESSAGE(loaded.ok(), name);
    REQUIRE(!loaded->certificates.empty());
    return loaded->certificates.front();
  }
  tls::Credentials credentials(const std::string& name,
                               const std::vector<std::string>& chain = {}) const {
    auto key_file = tls::load_credential_file(key(name), std::nullopt);
    REQUIRE_MESSAGE(key_file.ok(), name);
    REQUIRE(key_file->key.has_value());
    tls::Credentials credentials{certificate(name), *key_file->key, {}};
    for (const std::string& extra : chain) credentials.chain.push_back(certificate(extra));
    return credentials;
  }

 private:
  void make(const std::string& name, const std::string& common_name, const std::string& issuer,
            const std::string& extensions, bool new_key) {
    write_file(dir_ / (name + ".cnf"), "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=" +
                                           common_name + "\n[ext]\n" + extensions);
    std::vector<std::string> argv = {
        "openssl",       "req",  "-x509",           "-config", (dir_ / (name + ".cnf")).string(),
        "-extensions",   "ext",  "-days",           "30",      "-set_serial",
        random_serial(), "-out", pem(name).string()};
    if (new_key) {
      for (const char* a :
           {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout"})
        argv.push_back(a);
      argv.push_back(key(name).string());
    } else {
      argv.push_back("-key");
      argv.push_back(key(issuer).string());
      std::filesystem::copy_file(key(issuer), key(name),
                                 std::filesystem::copy_options::overwrite_existing);
    }
    if (!issuer.empty()) {
      for (const std::string& a :
           {std::string("-CA"), pem(issuer).string(), std::string("-CAkey"), key(issuer).string()})
        argv.push_back(a);
    }
    ProcessResult made = run_process(argv, std::chrono::seconds(30));
    REQUIRE_MESSAGE(made.exit_code == 0, "openssl req for " << name << ": " << made.err);
  }

  static std::string random_serial() {
    static std::mt19937_64 generator(std::random_device{}());
    char text[32];
    std::snprintf(text, sizeof text, "0x%016llx",
                  static_cast<unsigned long long>(generator() >> 1));
    return text;
  }

  TempDir dir_;
};

// root -> intermediate -> server / client leaves, and an unrelated root with
// its own client leaf ("stranger").
inline void make_lab(CliPki& pki) {
  pki.root("root", "Lab Root");
  pki.issue("intermediate", "Lab Intermediate", "root", kCaExtensions);
  pki.issue("server", "localhost", "intermediate", kLeafExtensions);
  pki.issue("client", "client.lab.example", "intermediate", kLeafExtensions);
  pki.root("other-root", "Other Root");
  pki.issue("stranger", "stranger.example", "other-root", kLeafExtensions);
}

// One lab per test program: certificates cost a few openssl runs each.
inline CliPki& shared_cli_lab() {
  static CliPki pki;
  static const bool made = (make_lab(pki), true);
  (void)made;
  return pki;
}

// Our HandshakeServer on its own thread, collecting every record.
class RunningServer {
 public:
  explicit RunningServer(tls::ServerOptions options)
      : server_(std::move(options), [this](const tls::HandshakeRecord& record,
                                           std::shared_ptr<tls::EstablishedConnection>) {
          std::lock_guard lock(mutex_);
          records_.push_back(record);
          changed_.notify_all();
        }) {
    tls::Status listening = server_.listen();
    REQUIRE_MESSAGE(listening.ok(), (listening.ok() ? std::string() : listening.error().message));
    thread_ = std::thread([this] { server_.run(); });
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }
  tls::HandshakeServer& handshake_server() { return server_; }

  // The index-th record, waiting for it (bounded).
  std::optional<tls::HandshakeRecord> record(
      std::size_t index = 0, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return records_.size() > index; });
    if (records_.size() <= index) return std::nullopt;
    return records_[index];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<tls::HandshakeRecord> records_;
  tls::HandshakeServer server_;
  std::thread thread_;
};

inline tls::PeerTrust trust_of(const CliPki& pki, const std::vector<std::string>& roots,
                               const std::vector<std::string>& intermediates = {}) {
  tls::PeerTrust trust;
  for (const auto& name : roots) trust.roots.push_back(pki.certificate(name));
  for (const auto& name : intermediates) trust.intermediates.push_back(pki.certificate(name));
  return trust;
}

}  // namespace testing
