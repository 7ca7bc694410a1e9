// Credential files from a user or a CA: the input is written to a file whose
// name ends in .pem, .der, .pfx or .key (chosen by the first byte) and
// loaded with and without a password, as the store loader does.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tls/credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kExtensions[] = {".pem", ".der", ".pfx", ".key", ".crt", ".p12"};
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("mtlsprobe-fuzz-store-" + std::to_string(getpid()) +
                                                kExtensions[data[0] % std::size(kExtensions)]);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  (void)tls::load_credential_file(file, std::nullopt);
  (void)tls::load_credential_file(file, tls::Secret("fuzz"));
  std::filesystem::remove(file);
  return 0;
}
