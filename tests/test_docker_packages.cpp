// The Docker image and the setup script install the same Debian packages:
// scripts/packages-build.txt is the one build list, docker/packages-runtime.txt
// what the runtime image adds.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tls/text.hpp"

namespace {

const std::filesystem::path kSource = MTLSPROBE_SOURCE_DIR;

const std::filesystem::path kBuildList = kSource / "scripts/packages-build.txt";
const std::filesystem::path kRuntimeList = kSource / "docker/packages-runtime.txt";

// One package a line; `#` starts a comment (the Dockerfile strips them with sed).
std::set<std::string> read_package_list(const std::filesystem::path& file) {
  std::set<std::string> packages;
  std::istringstream lines(testing::read_file(file));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string package;
    while (words >> package) packages.insert(package);
  }
  return packages;
}

// The Dockerfile split at each FROM: one string per stage.
std::vector<std::string> dockerfile_stages() {
  std::vector<std::string> stages;
  std::istringstream lines(testing::read_file(kSource / "docker/Dockerfile"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("FROM ", 0) == 0) stages.emplace_back();
    if (!stages.empty()) stages.back() += line + "\n";
  }
  return stages;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// True when the stage copies the list in and feeds exactly it to apt-get.
bool installs_from_list(const std::string& stage, const std::string& list_path) {
  const auto list_name = std::filesystem::path(list_path).filename().string();
  return stage.find("COPY " + list_path + " /tmp/" + list_name) != std::string::npos &&
         std::regex_search(stage, std::regex("sed 's/#\\.\\*//' /tmp/" + list_name +
                                             R"( *\\?\s*\| *xargs apt-get install)")) &&
         count_of(stage, "apt-get install") == 1;
}

// Debian packages the build needs for what CMakeLists.txt finds.
struct NeededPackages {
  std::set<std::string> build;
  std::set<std::string> runtime;
};

NeededPackages packages_for_cmake_finds() {
  const auto cmake = testing::read_file(kSource / "CMakeLists.txt");
  NeededPackages needed{{"cmake", "g++", "make"}, {}};
  // Linked into the binary (the default build, the Docker image's): build-time only.
  const bool static_runtime =
      std::regex_search(cmake, std::regex(R"(option\(MTLSPROBE_STATIC_RUNTIME\s[^)]*\sON\))"));
  const std::regex find(R"(find_package\((\w+)([^)]*)\))");
  for (std::sregex_iterator it(cmake.begin(), cmake.end(), find), end; it != end; ++it) {
    const std::string name = (*it)[1];
    const std::string rest = (*it)[2];
    if (name == "OpenSSL") {
      needed.build.insert("libssl-dev");
      needed.runtime.insert("libssl3");
    } else if (name == "CLI11") {
      needed.build.insert("libcli11-dev");  // header-only
    } else if (name == "doctest") {
      needed.build.insert("doctest-dev");  // header-only, tests only
    } else if (name == "PkgConfig") {
      needed.build.insert("pkg-config");
    } else if (name == "Boost") {
      needed.build.insert("libboost1.81-dev");
      const auto components_at = rest.find("COMPONENTS");
      if (components_at == std::string::npos) continue;
      std::istringstream components(rest.substr(components_at + 10));
      std::string component;
      while (components >> component) {
        std::replace(component.begin(), component.end(), '_', '-');
        needed.build.insert("libboost-" + component + "1.81-dev");
        if (!static_runtime) needed.runtime.insert("libboost-" + component + "1.81.0");
      }
    }
  }
  // Libraries found through pkg-config, by their .pc name.
  const std::regex module(R"(pkg_check_modules\([^)]*\blibcares\b)");
  if (std::regex_search(cmake, module)) {
    needed.build.insert("libc-ares-dev");
    if (!static_runtime) needed.runtime.insert("libc-ares2");
  }
  return needed;
}

std::vector<std::string> missing_from(const std::set<std::string>& wanted,
                                      const std::set<std::string>& have) {
  std::vector<std::string> missing;
  std::set_difference(wanted.begin(), wanted.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  return missing;
}

}  // namespace

TEST_CASE("the Dockerfile's build stage installs exactly scripts/packages-build.txt") {
  const auto stages = dockerfile_stages();
  REQUIRE(stages.size() == 2);
  CHECK(stages.front().find(" AS build") != std::string::npos);
  CHECK(installs_from_list(stages.front(), "scripts/packages-build.txt"));
}

TEST_CASE("the Dockerfile's runtime stage installs exactly docker/packages-runtime.txt") {
  const auto stages = dockerfile_stages();
  REQUIRE(stages.size() == 2);
  CHECK(installs_from_list(stages.back(), "docker/packages-runtime.txt"));
  CHECK(stages.back().find("COPY --from=build ") != std::string::npos);
  CHECK(stages.back().find("USER mtlsprobe") != std::string::npos);
}

TEST_CASE("the runtime list holds no compiler, build tool or development package") {
  for (const auto& package : read_package_list(kRuntimeList)) {
    INFO(package);
    CHECK_FALSE(package.ends_with("-dev"));
    CHECK(std::set<std::string>{"cmake", "g++", "gcc", "make", "ninja-build"}.count(package) == 0);
  }
}

TEST_CASE("the package lists cover every package that CMakeLists.txt finds") {
  const auto needed = packages_for_cmake_finds();
  REQUIRE(needed.build.count("libssl-dev") == 1);  // the parse found the finds
  const auto build_missing = missing_from(needed.build, read_package_list(kBuildList));
  const auto runtime_missing = missing_from(needed.runtime, read_package_list(kRuntimeList));
  CHECK_MESSAGE(build_missing.empty(),
                "missing from packages-build.txt: " << tls::joined(build_missing, " "));
  CHECK_MESSAGE(runtime_missing.empty(),
                "missing from packages-runtime.txt: " << tls::joined(runtime_missing, " "));
}

TEST_CASE(
    "scripts/setup-deps.sh installs the Dockerfile's build list and no build package besides") {
  const auto script = testing::read_file(kSource / "scripts/setup-deps.sh");
  CHECK_MESSAGE(script.find("packages-build.txt") != std::string::npos,
                "scripts/setup-deps.sh does not read scripts/packages-build.txt");
  // A development package or build tool named in the script itself would be a
  // second list; each one must at least be in the shared list.
  const std::regex build_package(
      R"((^|[\s"'])([a-z0-9][a-z0-9.+-]*-dev|cmake|g\+\+|make)(?=[\s"'\\]|$))");
  std::set<std::string> named;
  for (std::sregex_iterator it(script.begin(), script.end(), build_package), end; it != end; ++it) {
    named.insert((*it)[2]);
  }
  const auto missing = missing_from(named, read_package_list(kBuildList));
  CHECK_MESSAGE(missing.empty(), "scripts/setup-deps.sh installs, packages-build.txt lacks: "
                                     << tls::joined(missing, " "));
}
