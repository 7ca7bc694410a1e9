#pragma once
// A fresh folder under the system temp dir, removed when the test ends.
#include <filesystem>
#include <string>

namespace testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& file, const std::string& contents);
std::string read_file(const std::filesystem::path& file);

}  // namespace testing
