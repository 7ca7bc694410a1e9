// `connect` over many servers, end to end: a real DNS server (dnsmasq on
// loopback) names a pool whose addresses 127.0.0.2 / .3 / .4 are a good
// server (mtlsprobe serve), one with a certificate from another CA (openssl
// s_server) and one where nothing listens; an SRV record names the pool.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "probe/fleet/fleet.hpp"
#include "probe/fleet/targets.hpp"
#include "probe/lab/pki.hpp"
#include "probe/once_per_key.hpp"
#include "tests/support/dns_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/raw_tcp_server.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using testing::mentions;
using testing::run_mtlsprobe;
using testing::status_of;

bool accepts(const std::string& address, unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  close(fd);
  return ok;
}

bool wait_for(const std::string& address, unsigned short port) {
  for (int i = 0; i < 200; ++i) {
    if (accepts(address, port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

struct Lab {
  testing::TempDir dir;
  Lab() {
    probe::LabOptions options;
    options.key_type = probe::LabKeyType::ecdsa_p256;
    REQUIRE(probe::build_lab(dir.path(), options).ok());
  }
  std::string path(const std::string& relative) const { return (dir.path() / relative).string(); }
};

// The pool: .2 serves the lab's Lync certificate, .3 a certificate of
// another lab's CA, .4 has nothing listening. Same port on each.
struct Pool {
  Lab lab, other;
  unsigned short port = testing::free_port();
  std::unique_ptr<testing::BackgroundProcess> good, wrong;
  testing::DnsServer dns;

  static testing::DnsRecords records(unsigned short port) {
    testing::DnsRecords records;
    records.addresses = {{"lyncpool.example.com", "127.0.0.2"},
                         {"lyncpool.example.com", "127.0.0.3"},
                         {"lyncpool.example.com", "127.0.0.4"},
                         {"fe1.lab.test", "127.0.0.2"}};
    records.srv = {{"_sipfederationtls._tcp.lab.test", "lyncpool.example.com", port, 10, 10}};
    return records;
  }

  Pool() : dns(records(port)) {
    good = std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
        MTLSPROBE_BIN, "serve", "--listen", "127.0.0.2:" + std::to_string(port), "--store",
        lab.path("lync"), "--no-revocation"});
    wrong = std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
        "openssl", "s_server", "-accept", "127.0.0.3:" + std::to_string(port), "-cert",
        other.path("lync/personal/lync.crt"), "-key", other.path("lync/personal/lync.key"),
        "-cert_chain", other.path("lync/intermediate/lab-issuing-ca.crt"), "-verify", "1", "-www"});
    REQUIRE_MESSAGE(wait_for("127.0.0.2", port), good->output());
    REQUIRE_MESSAGE(wait_for("127.0.0.3", port), wrong->output());
  }

  std::vector<std::string> connect(std::vector<std::string> extra) const {
    return connect_with(lab, dns, extra);
  }

  static std::vector<std::string> connect_with(const Lab& lab, const testing::DnsServer& dns,
                                               std::vector<std::string> extra) {
    std::vector<std::string> args = {"connect",
                                     "--store",
                                     lab.path("bems"),
                                     "--dns-server",
                                     dns.address(),
                                     "--timeout",
                                     "3",
                                     "--verdict-wait",
                                     "0",
                                     "--no-revocation",
                                     "--no-aia"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

// "address=verdict first-failing" for each row of the JSON table.
std::string rows(const boost::json::value& report) {
  std::string text;
  for (const auto& row : report.at("tables").at(0).at("rows").as_array())
    text += std::string(row.at("address").as_string()) + "=" +
            std::string(row.at("verdict").as_string()) + " " +
            std::string(row.at("first failing finding").as_string()) + "; ";
  return text;
}

std::string finding_detail(const boost::json::value& report, const std::string& id) {
  for (const auto& finding : report.at("findings").as_array())
    if (finding.at("id").as_string() == id) return std::string(finding.at("detail").as_string());
  return {};
}

const boost::json::value* target_report(const boost::json::value& report,
                                        const std::string& address_part) {
  for (const auto& target : report.at("targets").as_array())
    if (mentions(std::string(target.at("target").as_string()), address_part)) return &target;
  return nullptr;
}

}  // namespace

TEST_CASE("pool.consistent names the server whose certificate comes from another issuer") {
  std::vector<probe::fleet::ServerFacts> servers(3);
  servers[0] = {"pool:5061", "127.0.0.2", true, "TLSv1.3",      "", "CN=pool", "CN=CA", "AA",
                "",          {"I1"},      "",   {"CN=Issuing"}, {}};
  servers[1] = {"pool:5061", "127.0.0.3",          true, "TLSv1.3", "",
                "CN=pool",   "CN=Other",           "BB", "",        {"I2"},
                "",          {"CN=Other issuing"}, {}};
  servers[2] = {"pool:5061", "127.0.0.4", false, "", "", "", "", "", "", {}, "", {}, {}};
  auto finding = probe::fleet::pool_consistency("pool:5061", servers);
  CHECK(finding.status == report::Status::fail);
  CHECK(mentions(finding.detail, "Issuers differ: 127.0.0.2: 'CN=CA'; 127.0.0.3: 'CN=Other'"));
  CHECK(mentions(finding.detail,
                 "Not compared (no certificate seen; see their own findings): "
                 "127.0.0.4"));

  servers[1].issuer = "CN=CA";
  servers[1].sent_after_leaf = {};
  servers[1].sent_after_leaf_subjects = {};
  finding = probe::fleet::pool_consistency("pool:5061", servers);
  CHECK(finding.status == report::Status::fail);
  CHECK(mentions(finding.detail, "The chains sent differ"));
  CHECK(mentions(finding.detail, "127.0.0.3: 0 certificates after the leaf"));
  CHECK(mentions(finding.detail,
                 "127.0.0.3 does not send 'CN=Issuing' (SHA-256 I1), which "
                 "127.0.0.2 sends."));

  servers[1].sent_after_leaf = {"I1"};
  servers[1].sent_after_leaf_subjects = {"CN=Issuing"};
  finding = probe::fleet::pool_consistency("pool:5061", servers);
  CHECK(finding.status == report::Status::pass);
  CHECK(mentions(finding.detail, "2 certificates of their own from the same issuer"));

  finding = probe::fleet::pool_consistency("pool:5061", {servers[0], servers[2]});
  CHECK(finding.status == report::Status::skip);

  // A server that sends no intermediate, which we do not hold either: its
  // issuer is known by name only, and that is not another issuer.
  probe::fleet::ServerFacts with = servers[0], without = servers[1];
  with.issuer_sha256 = "I1";
  without.issuer = "CN=CA";
  without.issuer_sha256 = "";
  without.sent_after_leaf = {};
  without.sent_after_leaf_subjects = {};
  finding = probe::fleet::pool_consistency("pool:5061", {with, without});
  CHECK(finding.status == report::Status::fail);
  CHECK(!mentions(finding.detail, "Issuers differ"));
  CHECK(mentions(finding.detail, "127.0.0.3 does not send 'CN=Issuing'"));

  // That server fails lync.chain.intermediates on its own row: the row blames
  // the defect, and pool.consistent only points there.
  without.failing = {"handshake.we-rejected-peer", "lync.chain.intermediates"};
  finding = probe::fleet::pool_consistency("pool:5061", {with, without});
  CHECK(finding.status == report::Status::skip);
  CHECK(mentions(finding.detail, "127.0.0.3 does not send 'CN=Issuing'"));
  CHECK(mentions(finding.detail, "127.0.0.3: lync.chain.intermediates"));
  CHECK(!mentions(finding.detail, "we-rejected-peer"));

  // Two configurations that both pass their chain findings (two trusted CAs)
  // is the pool's own inconsistency, even if an unrelated finding fails.
  without.failing = {"lync.validity"};
  finding = probe::fleet::pool_consistency("pool:5061", {with, without});
  CHECK(finding.status == report::Status::fail);

  // Both configurations blamed (no sound one to compare with): the pool
  // finding still fails, as nothing says which one the pool should have.
  without.failing = {"lync.chain.intermediates"};
  with.failing = {"lync.chain.trusted"};
  finding = probe::fleet::pool_consistency("pool:5061", {with, without});
  CHECK(finding.status == report::Status::fail);
}

TEST_CASE("target lines: host, port, sni and role; anything else is refused with the reason") {
  auto spec =
      probe::fleet::parse_target_line("edge.example.com:5062 sni=sip.example.com role=lync", 5061);
  REQUIRE(spec.ok());
  CHECK(spec->host == "edge.example.com");
  CHECK(spec->port == 5062);
  CHECK(spec->sni == "sip.example.com");
  CHECK(spec->role == probe::Side::lync);
  CHECK(probe::fleet::parse_target_line("[::1]", 5061)->port == 5061);
  CHECK(!probe::fleet::parse_target_line("a.example.com colour=blue", 5061).ok());
  CHECK(!probe::fleet::parse_target_line("a.example.com:99999", 5061).ok());
  CHECK(*probe::fleet::srv_name("federation", "example.com") ==
        "_sipfederationtls._tcp.example.com");
  CHECK(*probe::fleet::srv_name("internal", "example.com") == "_sipinternaltls._tcp.example.com");
  CHECK(!probe::fleet::srv_name("federaton", "example.com").ok());
}

TEST_CASE(
    "OncePerKey: threads asking for one key share one fetch; a fetch that throws is retried") {
  probe::OncePerKey<std::string> answers;
  std::atomic<int> fetches{0};
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] {
      seen[i] = answers.get("ca", [&] {
        ++fetches;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return std::string("good");
      });
    });
  for (auto& thread : threads) thread.join();
  CHECK(fetches == 1);
  for (const auto& answer : seen) CHECK(answer == "good");

  CHECK_THROWS_AS(answers.get("other", []() -> std::string { throw std::runtime_error("down"); }),
                  std::runtime_error);
  CHECK(answers.get("other", [] { return std::string("second try"); }) == "second try");
}

TEST_CASE("a targets file over the limit is refused with exit 2, naming the line") {
  testing::TempDir dir;
  std::string lines;
  for (std::size_t i = 0; i <= probe::fleet::kMaxTargets; ++i) lines += "fe.example.com\n";
  testing::write_file(dir / "huge.txt", lines);
  auto huge = probe::fleet::read_targets_file((dir / "huge.txt").string(), 5061);
  REQUIRE(!huge.ok());
  CHECK(mentions(huge.error().message,
                 "huge.txt:" + std::to_string(probe::fleet::kMaxTargets + 1) + ": more than"));
  auto cli = run_mtlsprobe(
      {"connect", "--targets", (dir / "huge.txt").string(), "--store", (dir / "nowhere").string()});
  CHECK(cli.exit_code == 2);
  CHECK(mentions(cli.err, "more than"));
  CHECK(cli.out.empty());
}

TEST_CASE("connect NAME tests every address of the pool: a row each, the failures explained") {
  Pool pool;
  auto result = run_mtlsprobe(
      pool.connect({"lyncpool.example.com:" + std::to_string(pool.port), "--format", "json"}));
  CHECK_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(rows(report) ==
        "127.0.0.2=pass -; 127.0.0.3=fail lync.chain.trusted; "
        "127.0.0.4=fail handshake.tcp; ");
  CHECK(report.at("summary").at("targets").as_int64() == 3);
  CHECK(report.at("summary").at("fail").as_int64() == 2);
  CHECK(report.at("result").as_string() == "fail");

  // Each address has the full report a single connect gives, SNI the name.
  auto* good = target_report(report, "via 127.0.0.2:");
  REQUIRE(good);
  CHECK(status_of(*good, "handshake.tcp") == "pass");
  CHECK(status_of(*good, "peer.name") == "pass");
  CHECK(good->at("facts").at("handshake").at("sni_sent").as_string() == "lyncpool.example.com");
  // Each target's `index` is its row in the table, whatever order they finished in.
  const auto& table_rows = report.at("tables").at(0).at("rows").as_array();
  std::vector<bool> indexed(table_rows.size(), false);
  for (const auto& target : report.at("targets").as_array()) {
    const auto index = static_cast<std::size_t>(target.at("index").as_int64());
    REQUIRE(index < table_rows.size());
    CHECK(!indexed[index]);
    indexed[index] = true;
    CHECK(mentions(std::string(target.at("target").as_string()),
                   "via " + std::string(table_rows[index].at("address").as_string()) + ":"));
  }
  auto* refused = target_report(report, "via 127.0.0.4:");
  REQUIRE(refused);
  CHECK(status_of(*refused, "handshake.tcp") == "fail");
  auto* wrong = target_report(report, "via 127.0.0.3:");
  REQUIRE(wrong);
  // Refused by us: the pool's chain finding blames it, the wire finding points there.
  CHECK(status_of(*wrong, "lync.chain.trusted") == "fail");
  CHECK(status_of(*wrong, "handshake.we-rejected-peer") == "skip");

  // The pool comparison: .3's issuer differs, .4 showed no certificate. The
  // difference is .3's untrusted certificate, which its row blames: the pool
  // finding says what differs and points there.
  CHECK(status_of(report, "pool.consistent") == "skip");
  std::string detail;
  for (const auto& finding : report.at("findings").as_array())
    if (finding.at("id").as_string() == "pool.consistent")
      detail = std::string(finding.at("detail").as_string());
  CHECK(mentions(detail, "Issuers differ"));
  CHECK(mentions(detail, "127.0.0.3: 'CN="));
  CHECK(mentions(detail, "127.0.0.3: lync.chain.trusted"));
  CHECK(mentions(detail, "Not compared (no certificate seen; see their own findings): 127.0.0.4"));

  // The text report opens with the table and details only the failing addresses.
  auto text = run_mtlsprobe(
      pool.connect({"lyncpool.example.com:" + std::to_string(pool.port), "--no-color"}));
  CHECK(text.exit_code == 1);
  CHECK(mentions(text.out, "Servers (3)"));
  CHECK(mentions(text.out, "first failing finding"));
  CHECK(mentions(text.out,
                 "== lyncpool.example.com:" + std::to_string(pool.port) + " via 127.0.0.4:"));
  CHECK(!mentions(text.out,
                  "== lyncpool.example.com:" + std::to_string(pool.port) + " via 127.0.0.2:"));
  CHECK(mentions(text.out, "Result: FAIL - 2 of 3 targets fail"));

  // --first-address keeps the old behaviour: one handshake, one report.
  auto first =
      run_mtlsprobe(pool.connect({"127.0.0.2:" + std::to_string(pool.port), "--expect-name",
                                  "lyncpool.example.com", "--format", "json"}));
  CHECK_MESSAGE(first.exit_code == 0, first.err);
  CHECK(!boost::json::parse(first.out).as_object().contains("targets"));
}

TEST_CASE("--srv federation tests every server the SRV record names; a missing record is dns.srv") {
  Pool pool;
  auto result =
      run_mtlsprobe(pool.connect({"lab.test", "--srv", "federation", "--format", "json"}));
  CHECK_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "dns.srv") == "pass");
  CHECK(report.at("targets").as_array().size() == 3);
  CHECK(report.at("facts").at("dns").at("srv").at("records").as_array().size() == 1);

  auto missing = run_mtlsprobe(pool.connect({"lab.test", "--srv", "internal", "--format", "json"}));
  CHECK(missing.exit_code == 1);
  auto without = boost::json::parse(missing.out);
  CHECK(status_of(without, "dns.srv") == "fail");
  CHECK(without.at("targets").as_array().empty());
  std::string detail;
  for (const auto& finding : without.at("findings").as_array())
    if (finding.at("id").as_string() == "dns.srv")
      detail = std::string(finding.at("detail").as_string());
  CHECK(mentions(detail, "_sipinternaltls._tcp.lab.test"));
  CHECK(mentions(detail, pool.dns.address()));
}

TEST_CASE("a name that does not resolve, and a DNS server that never answers, are handshake.tcp") {
  Pool pool;
  auto nxdomain = run_mtlsprobe(pool.connect({"nothere.lab.test", "--format", "json"}));
  CHECK(nxdomain.exit_code == 1);
  CHECK(status_of(nxdomain.out, "handshake.tcp") == "fail");
  CHECK(mentions(nxdomain.out, "NXDOMAIN"));

  testing::SilentDnsServer silent;
  auto timed_out = run_mtlsprobe({"connect", "lyncpool.example.com", "--store",
                                  pool.lab.path("bems"), "--dns-server", silent.address(),
                                  "--timeout", "1", "--format", "json", "--no-revocation"});
  CHECK(timed_out.exit_code == 1);
  CHECK(status_of(timed_out.out, "handshake.tcp") == "fail");
  CHECK(mentions(timed_out.out, "within 1000 ms"));
  CHECK(mentions(timed_out.out, silent.address()));
}

TEST_CASE("--targets FILE: a row per line and address, one JUnit testsuite per target") {
  Pool pool;
  testing::TempDir dir;
  const std::string port = std::to_string(pool.port);
  testing::write_file(dir / "targets.txt",
                      "# the pool's first front end by address, then by name\n"
                      "127.0.0.2:" +
                          port +
                          " sni=lyncpool.example.com\n"
                          "\n"
                          "fe1.lab.test:" +
                          port +
                          "   # resolves to 127.0.0.2\n"
                          "nothere.lab.test:" +
                          port + "\n");
  auto result = run_mtlsprobe(
      pool.connect({"--targets", (dir / "targets.txt").string(), "--expect-name",
                    "lyncpool.example.com", "--format", "json", "--concurrency", "2"}));
  CHECK_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(rows(report) == "127.0.0.2=pass -; 127.0.0.2=pass -; -=fail handshake.tcp; ");

  auto junit =
      run_mtlsprobe(pool.connect({"--targets", (dir / "targets.txt").string(), "--expect-name",
                                  "lyncpool.example.com", "--format", "junit"}));
  std::size_t suites = 0;
  for (auto at = junit.out.find("<testsuite "); at != std::string::npos;
       at = junit.out.find("<testsuite ", at + 1))
    ++suites;
  CHECK(suites == 3);

  // The config file's `target` list is the same as --target lines.
  testing::write_file(dir / "fleet.toml",
                      "[connect]\ntarget = [\"127.0.0.2:" + port +
                          " sni=lyncpool.example.com\", \"fe1.lab.test:" + port + "\"]\n");
  auto configured =
      run_mtlsprobe(pool.connect({"--config", (dir / "fleet.toml").string(), "--expect-name",
                                  "lyncpool.example.com", "--format", "json"}));
  CHECK_MESSAGE(configured.exit_code == 0, configured.err);
  CHECK(rows(boost::json::parse(configured.out)) == "127.0.0.2=pass -; 127.0.0.2=pass -; ");

  testing::write_file(dir / "bad.txt", "127.0.0.2:" + port + "\n# fine\nhost:notaport sni=x\n");
  auto bad = run_mtlsprobe(pool.connect({"--targets", (dir / "bad.txt").string()}));
  CHECK(bad.exit_code == 2);
  CHECK(mentions(bad.err, "bad.txt:3"));
  CHECK(bad.out.empty());
}

TEST_CASE("--progress always puts targets done and failing on stderr, never in the report") {
  Pool pool;
  const std::string name = "lyncpool.example.com:" + std::to_string(pool.port);
  auto always = run_mtlsprobe(pool.connect({name, "--progress", "always", "--no-color"}));
  CHECK(always.exit_code == 1);
  CHECK_MESSAGE(mentions(always.err, "mtlsprobe: 3/3 targets done, 2 failing"), always.err);
  CHECK(!mentions(always.out, "targets done"));
  CHECK(mentions(always.out, "Servers (3)"));

  // stderr is not a terminal here, so auto (the default) shows none either.
  for (const char* quiet : {"never", "auto"}) {
    auto none = run_mtlsprobe(pool.connect({name, "--progress", quiet, "--format", "json"}));
    CHECK(none.exit_code == 1);
    CHECK_MESSAGE(!mentions(none.err, "targets done"), quiet);
    CHECK(!mentions(none.out, "targets done"));
  }
  auto wrong = run_mtlsprobe(pool.connect({name, "--progress", "sometimes"}));
  CHECK(wrong.exit_code == 2);
}

TEST_CASE(
    "a pool server that sends its leaf without the intermediate: pool.consistent names it and "
    "the certificate it leaves out") {
  Lab lab;
  const unsigned short port = testing::free_port();
  testing::DnsRecords records;
  records.addresses = {{"lyncpool.example.com", "127.0.0.2"},
                       {"lyncpool.example.com", "127.0.0.3"},
                       {"lyncpool.example.com", "127.0.0.4"}};
  testing::DnsServer dns(records);
  std::vector<std::unique_ptr<testing::BackgroundProcess>> servers;
  for (const char* address : {"127.0.0.2", "127.0.0.3"})
    servers.push_back(std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
        MTLSPROBE_BIN, "serve", "--listen", std::string(address) + ":" + std::to_string(port),
        "--store", lab.path("lync"), "--no-revocation"}));
  // The same certificate and key, without -cert_chain: the leaf alone.
  servers.push_back(std::make_unique<testing::BackgroundProcess>(std::vector<std::string>{
      "openssl", "s_server", "-accept", "127.0.0.4:" + std::to_string(port), "-cert",
      lab.path("lync/personal/lync.crt"), "-key", lab.path("lync/personal/lync.key"), "-verify",
      "1", "-www"}));
  for (const char* address : {"127.0.0.2", "127.0.0.3", "127.0.0.4"})
    REQUIRE_MESSAGE(wait_for(address, port), servers.back()->output());

  // Our store sends our own issuing CA (personal/) but has no intermediate/:
  // the pool's intermediate must then come from each server.
  std::filesystem::rename(lab.path("bems/intermediate/lab-issuing-ca.crt"),
                          lab.path("bems/personal/lab-issuing-ca.crt"));
  std::filesystem::remove(lab.path("bems/intermediate"));
  auto result = run_mtlsprobe(Pool::connect_with(
      lab, dns,
      {"lyncpool.example.com:" + std::to_string(port), "--tls-max", "1.2", "--format", "json"}));
  CHECK_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(rows(report) ==
        "127.0.0.2=pass -; 127.0.0.3=pass -; 127.0.0.4=fail lync.chain.intermediates; ");
  // One defect, one failing finding: the row's lync.chain.intermediates
  // blames it, and pool.consistent says what differs and points there.
  CHECK(status_of(report, "pool.consistent") == "skip");
  const std::string detail = finding_detail(report, "pool.consistent");
  CHECK_MESSAGE(mentions(detail, "127.0.0.4: lync.chain.intermediates"), detail);
  CHECK_MESSAGE(mentions(detail, "127.0.0.4 does not send 'CN=mtlsprobe Lab Issuing CA"), detail);
  CHECK(mentions(detail, "which 127.0.0.2, 127.0.0.3 send"));
  CHECK(!mentions(detail, "Issuers differ"));
  auto* bare = target_report(report, "via 127.0.0.4:");
  REQUIRE(bare);
  CHECK(status_of(*bare, "lync.chain.intermediates") == "fail");
  CHECK(status_of(*bare, "handshake.we-rejected-peer") == "skip");
  CHECK(mentions(finding_detail(*bare, "handshake.we-rejected-peer"), "lync.chain.intermediates"));
  auto* sent = target_report(report, "via 127.0.0.2:");
  REQUIRE(sent);
  CHECK(status_of(*sent, "lync.chain.intermediates") == "pass");
}

TEST_CASE(
    "twenty targets, one of which accepts TCP and never answers: the scan ends and that row "
    "fails naming the timeout") {
  Pool pool;
  testing::SilentListener silent;
  testing::TempDir dir;
  std::string lines;
  for (int i = 0; i < 20; ++i)
    lines += i == 7 ? "127.0.0.1:" + std::to_string(silent.port()) + " sni=lyncpool.example.com\n"
                    : "127.0.0.2:" + std::to_string(pool.port) + " sni=lyncpool.example.com\n";
  testing::write_file(dir / "targets.txt", lines);
  auto args = pool.connect({"--targets", (dir / "targets.txt").string(), "--expect-name",
                            "lyncpool.example.com", "--format", "json"});
  auto timeout = std::find(args.begin(), args.end(), "--timeout");
  REQUIRE(timeout != args.end());
  *std::next(timeout) = "1";
  auto result = run_mtlsprobe(args, std::chrono::seconds(30));
  REQUIRE(!result.timed_out);
  CHECK_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(report.at("summary").at("targets").as_int64() == 20);
  CHECK(report.at("summary").at("fail").as_int64() == 1);
  const auto& table_rows = report.at("tables").at(0).at("rows").as_array();
  REQUIRE(table_rows.size() == 20);
  CHECK(table_rows[7].at("first failing finding").as_string() == "handshake.protocol");
  for (const auto& target : report.at("targets").as_array()) {
    if (target.at("index").as_int64() != 7) continue;
    CHECK(status_of(target, "handshake.protocol") == "fail");
    std::string detail;
    for (const auto& finding : target.at("findings").as_array())
      if (finding.at("id").as_string() == "handshake.protocol")
        detail = std::string(finding.at("detail").as_string());
    CHECK_MESSAGE(mentions(detail, "1000 ms"), detail);
  }
}

TEST_CASE("an AAAA record is dialled too, and the table shows the IPv6 address") {
  // Some containers have no ::1; the test then says so and checks nothing.
  boost::asio::io_context io;
  boost::system::error_code ec;
  boost::asio::ip::tcp::acceptor probe(io);
  probe.open(boost::asio::ip::tcp::v6(), ec);
  if (!ec) probe.bind({boost::asio::ip::make_address("::1"), 0}, ec);
  if (ec) {
    MESSAGE("skipped: ::1 is not available here (" << ec.message() << ")");
    return;
  }
  const unsigned short port = probe.local_endpoint().port();
  probe.close();

  Lab lab;
  testing::DnsRecords records;
  records.addresses = {{"lyncpool.example.com", "127.0.0.2"}, {"lyncpool.example.com", "::1"}};
  testing::DnsServer dns(records);
  std::vector<std::unique_ptr<testing::BackgroundProcess>> servers;
  for (const std::string& listen :
       {"127.0.0.2:" + std::to_string(port), "[::1]:" + std::to_string(port)})
    servers.push_back(std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{MTLSPROBE_BIN, "serve", "--listen", listen, "--store",
                                 lab.path("lync"), "--no-revocation"}));
  REQUIRE_MESSAGE(wait_for("127.0.0.2", port), servers.front()->output());
  bool v6_ready = false;
  for (int i = 0; i < 200 && !v6_ready; ++i) {
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("::1"), port}, ec);
    v6_ready = !ec;
    if (!v6_ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(v6_ready, servers.back()->output());

  const std::string name = "lyncpool.example.com:" + std::to_string(port);
  auto result = run_mtlsprobe(Pool::connect_with(lab, dns, {name, "--format", "json"}));
  CHECK_MESSAGE(result.exit_code == 0, result.err << result.out);
  auto report = boost::json::parse(result.out);
  CHECK(rows(report) == "127.0.0.2=pass -; ::1=pass -; ");
  auto* v6 = target_report(report, "via [::1]:" + std::to_string(port));
  REQUIRE(v6);
  CHECK(status_of(*v6, "handshake.tcp") == "pass");
  CHECK(v6->at("facts").at("handshake").at("sni_sent").as_string() == "lyncpool.example.com");

  auto text = run_mtlsprobe(Pool::connect_with(lab, dns, {name, "--no-color"}));
  CHECK(text.exit_code == 0);
  CHECK(mentions(text.out, "Servers (2)"));
  CHECK(mentions(text.out, "  " + name + "  ::1  "));
}
