// The lab end to end: pki init with a revocation URL, pki serve on
// loopback, pki revoke, and the revocation checks seeing it over CRL and OCSP.
#include <doctest/doctest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tls/credentials.hpp"
#include "tls/revocation.hpp"

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

tls::Certificate load(const std::filesystem::path& file) {
  auto loaded = tls::load_credential_file(file, std::nullopt);
  REQUIRE(loaded.ok());
  return loaded->certificates.front();
}

tls::Certificate issuer_of(const tls::Certificate& certificate, const std::filesystem::path& lab) {
  for (const auto& entry : std::filesystem::directory_iterator(lab / "ca")) {
    if (entry.path().extension() != ".crt") continue;
    auto candidate = load(entry.path());
    if (certificate.issued_by(candidate)) return candidate;
  }
  FAIL("no lab CA issued " << certificate.info().subject);
  throw std::logic_error("unreachable");
}

tls::RevocationOptions mode(tls::RevocationMode mode) {
  tls::RevocationOptions options;
  options.mode = mode;
  options.http.proxy = "";
  options.http.timeout = std::chrono::seconds(5);
  return options;
}

}  // namespace

TEST_CASE("a lab certificate revoked with pki revoke is reported revoked by CRL and OCSP") {
  testing::TempDir dir;
  const auto lab = dir / "lab";
  const auto port = testing::free_port();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto init = testing::run_mtlsprobe(
      {"pki", "init", lab.string(), "--revocation-url", base, "--key-type", "ecdsa-p256"});
  REQUIRE_MESSAGE(init.exit_code == 0, init.err);

  testing::BackgroundProcess serve({MTLSPROBE_BIN, "pki", "serve", lab.string(), "--listen",
                                    "127.0.0.1:" + std::to_string(port)});
  REQUIRE_MESSAGE(testing::wait_for_port(port), serve.output());

  auto bems = load(lab / "bems/personal/bems.crt");
  auto issuer = issuer_of(bems, lab);
  REQUIRE(bems.info().ocsp_urls == std::vector<std::string>{base + "/ocsp"});

  auto ocsp_good = tls::check_revocation(bems, issuer, mode(tls::RevocationMode::ocsp));
  CHECK_MESSAGE(ocsp_good.kind == tls::RevocationStatus::good, ocsp_good.error);
  auto crl_good = tls::check_revocation(bems, issuer, mode(tls::RevocationMode::crl));
  CHECK_MESSAGE(crl_good.kind == tls::RevocationStatus::good, crl_good.error);

  auto revoke = testing::run_mtlsprobe({"pki", "revoke", lab.string(),
                                        (lab / "bems/personal/bems.crt").string(), "--reason",
                                        "keyCompromise"});
  REQUIRE_MESSAGE(revoke.exit_code == 0, revoke.err);
  CHECK(contains(revoke.out, bems.info().serial_hex));

  auto ocsp_revoked = tls::check_revocation(bems, issuer, mode(tls::RevocationMode::ocsp));
  CHECK(ocsp_revoked.kind == tls::RevocationStatus::revoked);
  CHECK(ocsp_revoked.reason == "keyCompromise");
  auto crl_revoked = tls::check_revocation(bems, issuer, mode(tls::RevocationMode::crl));
  CHECK(crl_revoked.kind == tls::RevocationStatus::revoked);
  CHECK(crl_revoked.reason == "keyCompromise");

  // The Lync certificate of the same lab stays good.
  auto lync = load(lab / "lync/personal/lync.crt");
  auto lync_status =
      tls::check_revocation(lync, issuer_of(lync, lab), mode(tls::RevocationMode::both));
  CHECK_MESSAGE(lync_status.kind == tls::RevocationStatus::good, lync_status.error);

  auto again = testing::run_mtlsprobe(
      {"pki", "revoke", lab.string(), (lab / "bems/personal/bems.crt").string()});
  CHECK(again.exit_code == 2);
  CHECK(contains(again.err, "already revoked"));
}

TEST_CASE("pki revoke and pki serve refuse bad input with one clear line") {
  testing::TempDir dir;
  const auto lab = dir / "lab";
  REQUIRE(
      testing::run_mtlsprobe({"pki", "init", lab.string(), "--key-type", "ecdsa-p256"}).exit_code ==
      0);

  testing::write_file(dir / "garbage.crt", "not a certificate");
  auto garbage =
      testing::run_mtlsprobe({"pki", "revoke", lab.string(), (dir / "garbage.crt").string()});
  CHECK(garbage.exit_code == 2);
  CHECK(contains(garbage.err, "garbage.crt"));

  auto no_lab = testing::run_mtlsprobe(
      {"pki", "revoke", (dir / "nowhere").string(), (lab / "bems/personal/bems.crt").string()});
  CHECK(no_lab.exit_code == 2);
  CHECK(contains(no_lab.err, "no lab CA folder"));

  auto bad_reason =
      testing::run_mtlsprobe({"pki", "revoke", lab.string(),
                              (lab / "bems/personal/bems.crt").string(), "--reason", "boredom"});
  CHECK(bad_reason.exit_code == 2);

  auto bad_listen = testing::run_mtlsprobe({"pki", "serve", lab.string(), "--listen", "localhost"});
  CHECK(bad_listen.exit_code == 2);
  CHECK(contains(bad_listen.err, "--listen"));
}
