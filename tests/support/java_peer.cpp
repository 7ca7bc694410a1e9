#include "tests/support/java_peer.hpp"

#include <mutex>
#include <stdexcept>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace testing {
namespace fs = std::filesystem;
namespace {

void run_or_throw(const std::vector<std::string>& argv) {
  auto result = run_process(argv, std::chrono::seconds(120));
  if (result.exit_code != 0)
    throw std::runtime_error(argv.front() + " failed: " + result.out + result.err);
}

}  // namespace

fs::path java_peer_classes() {
  static TempDir classes;
  static std::once_flag compiled;
  std::call_once(compiled, [] {
    run_or_throw({"javac", "-d", classes.path().string(),
                  std::string(MTLSPROBE_SOURCE_DIR) + "/tests/java/MtlsPeer.java"});
  });
  return classes.path();
}

void make_java_keystore(const fs::path& keystore, const fs::path& cert, const fs::path& key,
                        const std::vector<fs::path>& chain) {
  std::vector<std::string> argv{"openssl",
                                "pkcs12",
                                "-export",
                                "-in",
                                cert.string(),
                                "-inkey",
                                key.string(),
                                "-out",
                                keystore.string(),
                                "-passout",
                                "pass:" + kJavaStorePassword};
  if (!chain.empty()) {
    fs::path bundle = keystore.string() + ".chain.pem";
    std::string pem;
    for (const auto& certificate : chain) pem += read_file(certificate);
    write_file(bundle, pem);
    argv.insert(argv.end(), {"-certfile", bundle.string()});
  }
  run_or_throw(argv);
}

void make_java_truststore(const fs::path& truststore, const std::vector<fs::path>& trusted) {
  int index = 0;
  for (const auto& certificate : trusted) {
    run_or_throw({"keytool", "-importcert", "-noprompt", "-alias",
                  "trusted" + std::to_string(index++), "-file", certificate.string(), "-keystore",
                  truststore.string(), "-storetype", "PKCS12", "-storepass", kJavaStorePassword});
  }
}

std::vector<std::string> java_peer_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"java", "-cp", java_peer_classes().string(), "MtlsPeer"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace testing
