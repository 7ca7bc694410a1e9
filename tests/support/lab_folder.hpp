#pragma once
// A lab PKI (probe/lab, as `pki init` writes it) in a temp folder, and its
// stores loaded as `check` loads them.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "probe/lab/pki.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/store.hpp"

namespace testing {

// ECDSA P-256 keys (fast) and at most one flaw.
inline probe::LabOptions quick_lab(std::optional<std::string> flaw = std::nullopt) {
  probe::LabOptions options;
  options.key_type = probe::LabKeyType::ecdsa_p256;
  options.flaw = std::move(flaw);
  return options;
}

struct LabFolder {
  TempDir dir;
  probe::LabOptions options;

  explicit LabFolder(probe::LabOptions lab_options = quick_lab())
      : options(std::move(lab_options)) {
    auto built = probe::build_lab(dir.path(), options);
    REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));
  }

  // A path inside the lab, e.g. "bems" (a store) or "bems/personal/bems.crt".
  std::string path(const std::string& relative) const { return (dir / relative).string(); }

  // The store "bems" or "lync"; every file in it must load and it must hold a leaf.
  tls::Store load(const std::string& side) const {
    tls::StoreOptions store_options;
    store_options.folder = dir / side;
    tls::Store store = tls::load_store(store_options);
    for (const auto& problem : store.problems) FAIL_CHECK(problem.reason);
    REQUIRE(store.leaf);
    return store;
  }
};

}  // namespace testing
