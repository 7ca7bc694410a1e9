#include <doctest/doctest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/store.hpp"

TEST_CASE("a garbage file is refused with a message naming it") {
  testing::TempDir dir;
  testing::write_file(dir / "garbage.pem", "this is not a certificate\x01\x02");
  auto loaded = tls::load_credential_file(dir / "garbage.pem", std::nullopt);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.find("garbage.pem") != std::string::npos);
}
