// `mtlsprobe rollover --live`: real MTLS handshakes on loopback with the
// current and with the next certificate against one real peer (our own
// `serve` as the Lync pool, and openssl s_server), side by side.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "probe/lab/pki.hpp"
#include "tests/support/dns_server.hpp"
#include "tests/support/lab_folder.hpp"
#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::change_of;
using testing::mentions;
using testing::status_of;
using testing::string_field;

namespace {

// A lab whose next certificate comes from a new root the Lync store does not trust.
struct NewRootLab : testing::LabFolder {
  NewRootLab() {
    probe::ReissueOptions next;
    next.new_root = true;
    auto reissued = probe::reissue_lab(dir.path(), next);
    REQUIRE_MESSAGE(reissued.ok(), (reissued.ok() ? "" : reissued.error().message));
  }
  std::vector<std::string> rollover(unsigned short port, std::vector<std::string> extra,
                                    const std::string& format = "json") const {
    std::vector<std::string> args{"rollover",
                                  "--store",
                                  path("bems"),
                                  "--next-store",
                                  path("next"),
                                  "--live",
                                  "lyncpool.example.com:" + std::to_string(port),
                                  "--connect-to",
                                  "127.0.0.1",
                                  "--timeout",
                                  "5",
                                  "--no-revocation",
                                  "--no-aia",
                                  "--format",
                                  format};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

bool wait_until_serving(testing::BackgroundProcess& serve) {
  for (int i = 0; i < 1000 && serve.running(); ++i) {
    if (mentions(serve.output(), "serving as")) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE(
    "rollover --live against mtlsprobe serve: the pool accepts the current chain and "
    "rejects the next, and SIP OPTIONS gets 200 only with the current") {
  NewRootLab lab;
  const unsigned short port = testing::free_port();
  testing::BackgroundProcess serve({MTLSPROBE_BIN, "serve", "--role", "lync", "--sip", "--listen",
                                    "127.0.0.1:" + std::to_string(port), "--store",
                                    lab.path("lync"), "--no-revocation", "--no-revocation-check"});
  REQUIRE_MESSAGE(wait_until_serving(serve), serve.output());
  auto result = testing::run_mtlsprobe(lab.rollover(port, {"--sip"}), 90s);
  INFO(result.err);
  REQUIRE(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "rollover.live") == "fail");
  auto handshake = change_of(report, "live: handshake");
  CHECK(string_field(handshake, "before") == "accepted");
  CHECK(mentions(string_field(handshake, "after"), "rejected"));
  CHECK(string_field(handshake, "class") == "breaking");
  // serve sends the names of its trusted roots: the new root is not among them.
  auto ca_list = change_of(report, "live: acceptable CAs");
  CHECK(string_field(ca_list, "class") == "breaking");
  CHECK(string_field(ca_list, "before") == "names our issuer or root");
  auto sip = change_of(report, "live: SIP OPTIONS");
  CHECK(string_field(sip, "before") == "200 OK");
  CHECK(string_field(sip, "class") == "breaking");
  CHECK(report.at("facts").at("live").at("current").is_object());
  CHECK(report.at("facts").at("live").at("next").is_object());
}

TEST_CASE("rollover --live against openssl s_server that trusts only the lab root") {
  NewRootLab lab;
  const unsigned short port = testing::free_port();
  testing::BackgroundProcess server(
      {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
       lab.path("lync/personal/lync.crt"), "-key", lab.path("lync/personal/lync.key"),
       "-cert_chain", lab.path("lync/intermediate/lab-issuing-ca.crt"), "-Verify", "2",
       "-verify_return_error", "-CAfile", lab.path("lync/trusted-root/lab-root.crt"), "-www"});
  REQUIRE(testing::wait_for_port(port));
  auto result = testing::run_mtlsprobe(lab.rollover(port, {"--peer-store", lab.path("lync")}), 90s);
  INFO(result.err);
  REQUIRE(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "rollover.live") == "fail");
  auto handshake = change_of(report, "live: handshake");
  CHECK(string_field(handshake, "before") == "accepted");
  CHECK(mentions(string_field(handshake, "after"), "rejected"));
  // Offline, the same defect is named from the pool's store.
  CHECK(status_of(report, "trust.mutual") == "fail");
}

TEST_CASE(
    "rollover --live rehearses every address of the pool's name: one Front End lacks the new "
    "root") {
  NewRootLab lab;
  // Front End 2 trusts the next root as well, Front End 1 does not.
  const fs::path fe2 = lab.dir.path() / "lync-fe2";
  fs::copy(lab.dir.path() / "lync", fe2, fs::copy_options::recursive);
  fs::copy_file(lab.dir.path() / "ca" / "lab-root-2.crt", fe2 / "trusted-root" / "lab-root-2.crt");
  const unsigned short port = testing::free_port();
  auto serving = [&](const std::string& address, const fs::path& store) {
    return std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
        MTLSPROBE_BIN, "serve", "--role", "lync", "--listen", address + ":" + std::to_string(port),
        "--store", store.string(), "--no-revocation", "--no-revocation-check"});
  };
  auto fe1_server = serving("127.0.0.2", lab.dir.path() / "lync");
  auto fe2_server = serving("127.0.0.3", fe2);
  REQUIRE_MESSAGE(wait_until_serving(*fe1_server), fe1_server->output());
  REQUIRE_MESSAGE(wait_until_serving(*fe2_server), fe2_server->output());
  testing::DnsRecords records;
  records.addresses = {{"lyncpool.example.com", "127.0.0.2"},
                       {"lyncpool.example.com", "127.0.0.3"}};
  testing::DnsServer dns(records);

  auto result = testing::run_mtlsprobe(
      {"rollover", "--store", lab.path("bems"), "--next-store", lab.path("next"), "--live",
       "lyncpool.example.com:" + std::to_string(port), "--dns-server", dns.address(), "--timeout",
       "5", "--no-revocation", "--no-aia", "--format", "json"},
      90s);
  INFO(result.err);
  REQUIRE(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "rollover.live") == "fail");
  auto fe1 = change_of(report, "live: handshake at 127.0.0.2");
  CHECK(string_field(fe1, "before") == "accepted");
  CHECK(mentions(string_field(fe1, "after"), "rejected"));
  CHECK(string_field(fe1, "class") == "breaking");
  // Front End 2 accepts both: no change there, and it was dialled.
  CHECK(change_of(report, "live: handshake at 127.0.0.3").empty());
  const auto& dialled = report.at("facts").at("live").at("addresses").as_array();
  REQUIRE(dialled.size() == 2);
  CHECK(mentions(string_field(dialled[1].as_object(), "target"), "via 127.0.0.3"));
  const std::string detail = testing::detail_of(report, "rollover.live");
  CHECK(mentions(detail, "127.0.0.2"));
  CHECK(mentions(detail, "The other addresses (127.0.0.3) accept the next certificate"));

  // Without --live, --dns-server has nothing to resolve.
  auto bad = testing::run_mtlsprobe({"rollover", "--store", lab.path("bems"), "--next-store",
                                     lab.path("next"), "--dns-server", dns.address()});
  CHECK(bad.exit_code == 2);
  CHECK(mentions(bad.err, "--live"));
}

TEST_CASE("rollover --live passes when the pool accepts both certificates") {
  testing::LabFolder lab;
  REQUIRE(probe::reissue_lab(lab.dir.path(), {}).ok());
  const unsigned short port = testing::free_port();
  testing::BackgroundProcess serve({MTLSPROBE_BIN, "serve", "--role", "lync", "--listen",
                                    "127.0.0.1:" + std::to_string(port), "--store",
                                    lab.path("lync"), "--no-revocation", "--no-revocation-check"});
  REQUIRE_MESSAGE(wait_until_serving(serve), serve.output());
  auto result = testing::run_mtlsprobe(
      {"rollover", "--store", lab.path("bems"), "--next-store", lab.path("next"), "--live",
       "lyncpool.example.com:" + std::to_string(port), "--connect-to", "127.0.0.1",
       "--no-revocation", "--no-aia", "--format", "json"},
      90s);
  CHECK_MESSAGE(result.exit_code == 0, result.out);
  CHECK(status_of(result.out, "rollover.live") == "pass");
}

TEST_CASE(
    "rollover --live with the pool's store rehearses the pool dialling BEMS: a next root the pool "
    "does not trust fails that direction too, named, in one rollover.live finding") {
  NewRootLab lab;
  const unsigned short port = testing::free_port();
  testing::BackgroundProcess serve({MTLSPROBE_BIN, "serve", "--role", "lync", "--listen",
                                    "127.0.0.1:" + std::to_string(port), "--store",
                                    lab.path("lync"), "--no-revocation", "--no-revocation-check"});
  REQUIRE_MESSAGE(wait_until_serving(serve), serve.output());
  auto result = testing::run_mtlsprobe(lab.rollover(port, {"--peer-store", lab.path("lync")}), 90s);
  INFO(result.err);
  REQUIRE(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  auto reverse = change_of(report, "live: pool -> BEMS handshake");
  CHECK(string_field(reverse, "before") == "accepted");
  CHECK(string_field(reverse, "class") == "breaking");
  CHECK(mentions(string_field(reverse, "after"),
                 "the pool does not trust the root 'CN=mtlsprobe Lab Root CA 2"));
  // BEMS's next store still trusts the pool: only the pool refuses.
  CHECK(!mentions(string_field(reverse, "after"), "BEMS refuses"));
  // Both directions fail for one defect: one finding says so, the offline
  // rule names it from the stores.
  CHECK(status_of(report, "rollover.live") == "fail");
  const std::string detail = testing::detail_of(report, "rollover.live");
  CHECK(mentions(detail, "When the pool dials BEMS"));
  CHECK(mentions(detail, "Lab Root CA 2"));
  CHECK(status_of(report, "trust.mutual") == "fail");
  const auto& facts = report.at("facts").at("live").at("reverse");
  CHECK(facts.at("current").at("pool").at("error").as_string() == "none");
  CHECK(facts.at("next").at("pool").at("peer_verification").at("trusted").as_bool() == false);
  CHECK(facts.at("next").at("bems").is_object());

  // Text and JUnit carry the same row and finding.
  auto text = testing::run_mtlsprobe(
      lab.rollover(port, {"--peer-store", lab.path("lync"), "--no-color"}, "text"), 90s);
  CHECK(text.exit_code == 1);
  CHECK(mentions(text.out, "live: pool -> BEMS"));
  CHECK(mentions(text.out, "refused: the pool does not trust"));
  auto junit =
      testing::run_mtlsprobe(lab.rollover(port, {"--peer-store", lab.path("lync")}, "junit"), 90s);
  CHECK(junit.exit_code == 1);
  CHECK(mentions(junit.out, "name=\"rollover.live\""));
  CHECK(mentions(junit.out, "When the pool dials BEMS"));
}

TEST_CASE(
    "rollover --live with the pool's store: a same-CA renewal passes in both directions; a store "
    "without the pool's key is not rehearsed") {
  testing::LabFolder lab;
  REQUIRE(probe::reissue_lab(lab.dir.path(), {}).ok());
  const unsigned short port = testing::free_port();
  testing::BackgroundProcess serve({MTLSPROBE_BIN, "serve", "--role", "lync", "--listen",
                                    "127.0.0.1:" + std::to_string(port), "--store",
                                    lab.path("lync"), "--no-revocation", "--no-revocation-check"});
  REQUIRE_MESSAGE(wait_until_serving(serve), serve.output());
  auto args = [&](const std::string& peer_store) {
    return std::vector<std::string>{
        "rollover",     "--store",        lab.path("bems"),
        "--next-store", lab.path("next"), "--peer-store",
        peer_store,     "--live",         "lyncpool.example.com:" + std::to_string(port),
        "--connect-to", "127.0.0.1",      "--no-revocation",
        "--no-aia",     "--format",       "json"};
  };
  auto result = testing::run_mtlsprobe(args(lab.path("lync")), 90s);
  CHECK_MESSAGE(result.exit_code == 0, result.out);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "rollover.live") == "pass");
  CHECK(mentions(testing::detail_of(report, "rollover.live"), "When the pool dials BEMS"));
  CHECK(change_of(report, "live: pool -> BEMS handshake").empty());
  const auto& facts = report.at("facts").at("live").at("reverse");
  CHECK(facts.at("current").at("pool").at("error").as_string() == "none");
  CHECK(facts.at("next").at("pool").at("error").as_string() == "none");
  CHECK(facts.at("next").at("pool").at("peer_verification").at("trusted").as_bool());

  // The pool's certificate without its key: only the offline rules and the
  // live BEMS -> pool direction, and the plan says why.
  const fs::path keyless = lab.dir.path() / "lync-keyless";
  fs::copy(lab.dir.path() / "lync", keyless, fs::copy_options::recursive);
  fs::remove(keyless / "personal" / "lync.key");
  auto without = testing::run_mtlsprobe(args(keyless.string()), 90s);
  INFO(without.err);
  REQUIRE(without.exit_code != 2);
  auto partial = boost::json::parse(without.out);
  CHECK(!partial.at("facts").at("live").as_object().contains("reverse"));
  CHECK(!mentions(testing::detail_of(partial, "rollover.live"), "When the pool dials BEMS"));
}

TEST_CASE("rollover --live refuses a malformed target with exit 2") {
  testing::LabFolder lab;
  REQUIRE(probe::reissue_lab(lab.dir.path(), {}).ok());
  auto result = testing::run_mtlsprobe({"rollover", "--store", lab.path("bems"), "--next-store",
                                        lab.path("next"), "--live", "host:notaport"});
  CHECK(result.exit_code == 2);
  CHECK(mentions(result.err, "--live"));
}
