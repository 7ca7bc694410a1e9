// `mtlsprobe check` end to end on stores made with the openssl CLI.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "tests/support/openssl_pki.hpp"
#include "tests/support/process.hpp"
#include "tests/support/report_reading.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using testing::run_mtlsprobe;
using testing::TempDir;

using testing::mentions;
using testing::status_of;

namespace {

struct Fixture {
  TempDir dir;
  testing::OpensslPki bems_pki = testing::make_openssl_pki(dir / "pki");
  fs::path bems = testing::make_store(dir / "bems", bems_pki);
  fs::path lync;
  Fixture() {
    testing::openssl_issue_leaf(bems_pki, dir / "pki" / "lync.crt", dir / "pki" / "lync.key",
                                {.cn = "lyncpool.example.com", .dns = {"lyncpool.example.com"}});
    testing::OpensslPki lync_pki = bems_pki;
    lync_pki.leaf_cert = dir / "pki" / "lync.crt";
    lync_pki.leaf_key = dir / "pki" / "lync.key";
    lync = testing::make_store(dir / "lync", lync_pki);
  }
  std::vector<std::string> args(std::vector<std::string> extra = {}) {
    std::vector<std::string> all{"check",
                                 "--store",
                                 bems.string(),
                                 "--peer-store",
                                 lync.string(),
                                 "--pool",
                                 "bemsapppool.example.com",
                                 "--instance",
                                 "bemsserver01.example.com"};
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }
};

}  // namespace

TEST_CASE("check passes a correct pair of stores made with the openssl command line") {
  Fixture f;
  auto result = run_mtlsprobe(f.args({"--format", "json"}));
  CHECK_MESSAGE(result.exit_code == 0, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(report.at("result").as_string() == "pass");
  for (const char* id : {"bems.key.present",
                         "bems.key.matches",
                         "bems.key.readable",
                         "bems.chain.trusted",
                         "lync.chain.trusted",
                         "bems.chain.intermediates",
                         "lync.chain.intermediates",
                         "bems.store.placement",
                         "lync.store.placement",
                         "bems.store.issuer-list",
                         "bems.subject.cn-fqdn",
                         "bems.san.pool",
                         "bems.san.instances",
                         "trust.mutual",
                         "bems.validity",
                         "lync.validity",
                         "bems.eku",
                         "lync.eku",
                         "bems.san.syntax",
                         "lync.san.syntax",
                         "bems.key.strength",
                         "lync.key.strength",
                         "bems.revocation.published",
                         "lync.revocation.published"}) {
    CAPTURE(id);
    CHECK(status_of(report, id) == "pass");
  }
}

TEST_CASE("check names a missing instance and exits 1; JUnit and --output work") {
  Fixture f;
  auto text = run_mtlsprobe(f.args({"--instance", "bemsserver02.example.com", "--no-color"}));
  CHECK(text.exit_code == 1);
  CHECK(mentions(text.out, "FAIL  bems.san.instances"));
  CHECK(mentions(text.out, "bemsserver02.example.com"));
  auto junit_file = f.dir / "report.xml";
  auto junit = run_mtlsprobe(f.args({"--instance", "bemsserver02.example.com", "--format", "junit",
                                     "--output", junit_file.string()}));
  CHECK(junit.exit_code == 1);
  CHECK(junit.out.empty());
  CHECK(mentions(testing::read_file(junit_file), "<failure"));
}

TEST_CASE("a certificate without clientAuth fails the EKU rule only") {
  Fixture f;
  testing::openssl_issue_leaf(f.bems_pki, f.bems / "personal" / "cert.pem",
                              f.bems / "personal" / "key.pem", {.eku = "serverAuth"});
  auto result = run_mtlsprobe(f.args({"--format", "json"}));
  CHECK(result.exit_code == 1);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "bems.eku") == "fail");
  CHECK(status_of(report, "bems.chain.trusted") == "pass");
  CHECK(status_of(report, "bems.san.pool") == "pass");
}

TEST_CASE("a config file gives the same options") {
  Fixture f;
  testing::write_file(f.dir / "check.ini",
                      "[check]\nstore=" + f.bems.string() + "\npeer-store=" + f.lync.string() +
                          "\npool=bemsapppool.example.com\ninstance=bemsserver01.example.com\n"
                          // One file for every command: the check ignores the others.
                          "[serve]\nlisten=127.0.0.1:5061\n[pki.serve]\nlisten=127.0.0.1:8080\n");
  auto result =
      run_mtlsprobe({"check", "--config", (f.dir / "check.ini").string(), "--format", "json"});
  CHECK_MESSAGE(result.exit_code == 0, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "bems.san.instances") == "pass");
  CHECK(status_of(report, "trust.mutual") == "pass");
}

TEST_CASE(
    "a config file with a typo, an unknown section or a garbage line is exit 2 naming the line") {
  // Issue 16 item 7: `peer-stroe` was ignored and check exited 0.
  Fixture f;
  struct Case {
    std::string text;
    std::string said;
  };
  for (const Case& bad : {
           Case{"[check]\nstore=" + f.bems.string() + "\npeer-stroe=" + f.lync.string() + "\n",
                "line 3: unknown option 'peer-stroe' in [check]"},
           Case{"[chekc]\nstore=x\n", "line 1: unknown section [chekc]"},
           Case{"[check]\nstore=" + f.bems.string() + "\nthis is not an option line\n",
                "line 3: not 'name = value'"},
           Case{"instanse = a.example.com\n", "line 1: unknown option 'instanse'"},
       }) {
    CAPTURE(bad.text);
    testing::write_file(f.dir / "bad.ini", bad.text);
    auto result = run_mtlsprobe({"check", "--config", (f.dir / "bad.ini").string()});
    CHECK(result.exit_code == 2);
    CHECK(testing::mentions(result.err, bad.said));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
}

TEST_CASE("--config reads regular files only, within a size limit") {
  Fixture f;
  auto zero = run_mtlsprobe({"check", "--config", "/dev/zero"}, std::chrono::seconds(20));
  CHECK_FALSE(zero.timed_out);
  CHECK(zero.exit_code == 2);
  CHECK(testing::mentions(zero.err, "not a regular file"));
  testing::write_file(f.dir / "huge.ini", "[check]\n" + std::string(2 * 1024 * 1024, '#') + "\n");
  auto huge = run_mtlsprobe({"check", "--config", (f.dir / "huge.ini").string()});
  CHECK(huge.exit_code == 2);
  CHECK(testing::mentions(huge.err, "too large"));
  fs::create_symlink(f.dir / "loop-a", f.dir / "loop-b");
  fs::create_symlink(f.dir / "loop-b", f.dir / "loop-a");
  auto loop = run_mtlsprobe({"check", "--config", (f.dir / "loop-a").string()});
  CHECK(loop.exit_code == 2);
  CHECK_FALSE(testing::mentions(loop.err, "no such file"));
}

TEST_CASE("a command-line mistake is one line and never echoes a value that may be a secret") {
  // Issue 16 item 17: CLI11 printed "The following arguments were not
  // expected: SECRET --password" and a second line.
  Fixture f;
  auto result = run_mtlsprobe(f.args({"--password", "Sup3rSecret"}));
  CHECK(result.exit_code == 2);
  CHECK_FALSE(testing::mentions(result.err, "Sup3rSecret"));
  CHECK(testing::mentions(result.err, "--password"));
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  auto range = run_mtlsprobe({"check", "--revocation-timeout", "0"});
  CHECK(range.exit_code == 2);
  CHECK(std::count(range.err.begin(), range.err.end(), '\n') == 1);
}

TEST_CASE("ports above 65535 are refused, not wrapped") {
  // Issue 16 item 13: 99999 dialled and listened on 34463.
  Fixture f;
  auto connect = run_mtlsprobe({"connect", "127.0.0.1:99999", "--store", f.bems.string()});
  CHECK(connect.exit_code == 2);
  CHECK(testing::mentions(connect.err, "the port must be 1-65535"));
  auto serve = run_mtlsprobe({"serve", "--listen", "127.0.0.1:99999", "--store", f.lync.string()},
                             std::chrono::seconds(20));
  CHECK_FALSE(serve.timed_out);
  CHECK(serve.exit_code == 2);
  auto pki = run_mtlsprobe({"pki", "serve", f.dir.path().string(), "--listen", "127.0.0.1:99999"},
                           std::chrono::seconds(20));
  CHECK_FALSE(pki.timed_out);
  CHECK(pki.exit_code == 2);
  CHECK(testing::mentions(pki.err, "the port must be 0-65535"));
}

// `--output /dev/null` once renamed a file over the device: a target that is
// not a regular file is written in place and stays what it was.
TEST_CASE("--output to a FIFO writes through it and leaves it a FIFO") {
  Fixture f;
  const fs::path fifo = f.dir / "report.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    received.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  });
  auto result = run_mtlsprobe(f.args({"--format", "json", "--output", fifo.string()}));
  reader.join();
  CHECK(result.exit_code != 2);
  CHECK(fs::is_fifo(fs::status(fifo)));
  CHECK(testing::mentions(received, "\"command\": \"check\""));
}

TEST_CASE(
    "an unwritable --output is refused before any work, and a world-readable password file is "
    "warned about") {
  // Issue 16 item 18.
  Fixture f;
  auto result = run_mtlsprobe(f.args({"--output", "/nonexistent-folder/report.json"}));
  CHECK(result.exit_code == 2);
  CHECK(testing::mentions(result.err, "cannot write the report there"));
  CHECK(result.out.empty());
  testing::write_file(f.dir / "password.txt", "not-used\n");
  fs::permissions(f.dir / "password.txt", fs::perms::others_read, fs::perm_options::add);
  auto warned = run_mtlsprobe(f.args({"--password-file", (f.dir / "password.txt").string()}));
  CHECK(testing::mentions(warned.err, "every account on this machine can read it"));
}

TEST_CASE("--strict makes a warning fail") {
  Fixture f;
  fs::permissions(f.bems / "personal" / "key.pem", fs::perms::others_read, fs::perm_options::add);
  auto relaxed = run_mtlsprobe(f.args());
  CHECK(relaxed.exit_code == 0);
  CHECK(mentions(relaxed.out, "WARN  bems.key.readable"));
  auto strict = run_mtlsprobe(f.args({"--strict"}));
  CHECK(strict.exit_code == 1);
  CHECK(mentions(strict.out, "Result: FAIL"));
  auto json = run_mtlsprobe(f.args({"--strict", "--format", "json"}));
  CHECK(json.exit_code == 1);
  CHECK(boost::json::parse(json.out).at("result").as_string() == "fail");
  auto junit = run_mtlsprobe(f.args({"--strict", "--format", "junit"}));
  CHECK(junit.exit_code == 1);
  CHECK(mentions(junit.out, "type=\"warn\""));
}

TEST_CASE("unreadable input exits 2 with one line naming the file") {
  Fixture f;
  SUBCASE("garbage in trusted-root") {
    testing::write_file(f.bems / "trusted-root" / "junk.crt", "junk");
    auto result = run_mtlsprobe(f.args());
    CHECK(result.exit_code == 2);
    CHECK(mentions(result.err, "junk.crt"));
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
  SUBCASE("a store that does not exist") {
    auto result = run_mtlsprobe({"check", "--store", (f.dir / "nope").string()});
    CHECK(result.exit_code == 2);
    CHECK(mentions(result.err, "no such store folder"));
  }
  SUBCASE("a pfx with the wrong password; the password never appears") {
    auto pfx = f.dir / "bems.pfx";
    auto made = testing::run_process(
        {"openssl", "pkcs12", "-export", "-in", f.bems_pki.leaf_cert.string(), "-inkey",
         f.bems_pki.leaf_key.string(), "-out", pfx.string(), "-passout", "pass:right"});
    REQUIRE(made.exit_code == 0);
    auto result = run_mtlsprobe({"check", "--pfx", pfx.string(), "--password-env", "PFX_PASS",
                                 "--trusted-root", f.bems_pki.root_cert.string()},
                                std::chrono::seconds(30), {{"PFX_PASS", "Wr0ngSecret"}});
    CHECK(result.exit_code == 2);
    CHECK(mentions(result.err, "wrong password"));
    CHECK_FALSE(mentions(result.out + result.err, "Wr0ngSecret"));
  }
  SUBCASE("an unknown option") {
    auto result = run_mtlsprobe({"check", "--no-such-flag"});
    CHECK(result.exit_code == 2);
  }
  SUBCASE("nothing to check") {
    auto result = run_mtlsprobe({"check"});
    CHECK(result.exit_code == 2);
    CHECK(mentions(result.err, "--store"));
  }
}

TEST_CASE(
    "check fetches revocation data from the lab's responder and reports a revoked certificate") {
  TempDir dir;
  unsigned short port = testing::free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto lab = dir / "lab";
  REQUIRE(run_mtlsprobe(
              {"pki", "init", lab.string(), "--key-type", "ecdsa-p256", "--revocation-url", url})
              .exit_code == 0);
  testing::BackgroundProcess responder({MTLSPROBE_BIN, "pki", "serve", lab.string(), "--listen",
                                        "127.0.0.1:" + std::to_string(port)});
  REQUIRE(testing::wait_for_port(port));
  std::vector<std::string> check{
      "check",    "--store", (lab / "bems").string(), "--peer-store", (lab / "lync").string(),
      "--format", "json"};
  auto before = run_mtlsprobe(check);
  CHECK_MESSAGE(before.exit_code == 0, before.err);
  CHECK(status_of(boost::json::parse(before.out), "bems.revocation") == "pass");
  CHECK(status_of(boost::json::parse(before.out), "lync.revocation") == "pass");
  auto revoke = run_mtlsprobe({"pki", "revoke", lab.string(),
                               (lab / "bems" / "personal" / "bems.crt").string(), "--reason",
                               "keyCompromise"});
  REQUIRE(revoke.exit_code == 0);
  for (const char* mode : {"ocsp", "crl"}) {
    CAPTURE(mode);
    std::vector<std::string> args = check;
    args.insert(args.end(), {"--revocation", mode});
    auto after = run_mtlsprobe(args);
    CHECK(after.exit_code == 1);
    auto report = boost::json::parse(after.out);
    CHECK(status_of(report, "bems.revocation") == "fail");
    CHECK(status_of(report, "lync.revocation") == "pass");
    CHECK(mentions(after.out, "keyCompromise"));
  }
}

TEST_CASE("an unreachable revocation server is a warning with the URL and the error, quickly") {
  Fixture f;
  std::vector<std::string> args = f.args();
  args.pop_back();  // drop --no-revocation
  unsigned short closed = testing::free_port();
  // The openssl-made certificates point at pki.example.com; point the lab at a closed local port
  // instead.
  TempDir dir;
  auto lab = dir / "lab";
  REQUIRE(run_mtlsprobe({"pki", "init", lab.string(), "--key-type", "ecdsa-p256",
                         "--revocation-url", "http://127.0.0.1:" + std::to_string(closed)})
              .exit_code == 0);
  auto result = run_mtlsprobe({"check", "--store", (lab / "bems").string(), "--format", "json",
                               "--revocation-timeout", "2"});
  CHECK(result.exit_code == 0);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "bems.revocation") == "warn");
  CHECK(mentions(result.out, "127.0.0.1:" + std::to_string(closed)));
}

TEST_CASE("a key this account cannot read is bems.key.readable, and the rest is still judged") {
  // Issue 16 item 15: it used to be a load error (exit 2) with no report.
  Fixture f;
  const fs::path key = f.bems / "personal" / "key.pem";
  std::vector<std::string> argv;
  if (geteuid() == 0) {
    // root reads every file: judge as `nobody`, who may enter the folders and
    // read the certificates but not the key (root's, mode 600).
    for (fs::path dir = key.parent_path(); dir != f.dir.path().parent_path();
         dir = dir.parent_path())
      fs::permissions(dir, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    for (const auto& entry : fs::recursive_directory_iterator(f.dir.path()))
      if (entry.is_regular_file())
        fs::permissions(entry.path(), fs::perms::others_read, fs::perm_options::add);
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MTLSPROBE_BIN};
  } else {
    fs::permissions(key, fs::perms::none, fs::perm_options::replace);
    argv = {MTLSPROBE_BIN};
  }
  // serve cannot start without the key: one line that says it is the
  // permission, not a missing key (nothing is listened on: it stops first).
  auto serve = argv;
  for (const char* arg : {"serve", "--role", "bems", "--store"}) serve.emplace_back(arg);
  serve.push_back(f.bems.string());
  serve.push_back("--listen");
  serve.push_back("127.0.0.1:" + std::to_string(testing::free_port()));
  auto refused = testing::run_process(serve);
  CHECK(refused.exit_code == 2);
  CHECK_MESSAGE(mentions(refused.err, "key.pem: permission denied"), refused.err);

  for (const auto& arg : f.args({"--format", "json"})) argv.push_back(arg);
  auto result = testing::run_process(argv);
  REQUIRE_MESSAGE(result.exit_code == 1, result.err);
  auto report = boost::json::parse(result.out);
  CHECK(status_of(report, "bems.key.readable") == "fail");
  CHECK(status_of(report, "bems.key.present") == "skip");
  CHECK(status_of(report, "bems.key.matches") == "skip");
  CHECK(status_of(report, "bems.chain.trusted") == "pass");
  CHECK(status_of(report, "lync.chain.trusted") == "pass");
  CHECK(mentions(result.out, "key.pem is not readable by this account"));
  // Only the key's permissions are blamed.
  for (const auto& entry : report.at("findings").as_array())
    if (entry.at("id").as_string() != "bems.key.readable")
      CHECK_MESSAGE(entry.at("status").as_string() != "fail", entry.at("id").as_string());
}

TEST_CASE(
    "a chain its own CAs forbid (path length, name constraints, an issuer that is no CA, an "
    "unknown critical extension) fails bems.chain.trusted naming that CA, never a missing root") {
  struct Case {
    const char* name;
    std::string root_extra, issuing_extra, leaf_extra;
    const char* says;
    const char* fix;
  };
  const std::string ca = testing::kCaExtensions;
  const Case cases[] = {
      {"the root allows no CA below it", "basicConstraints=critical,CA:TRUE,pathlen:0\n", "", "",
       "'CN=T Root' allows at most 0 intermediate CA(s) below it", "pathLenConstraint"},
      {"the issuing CA's name constraints leave the pool out", "",
       "nameConstraints=critical,permitted;DNS:.other.example\n", "", "name constraints",
       "permitted subtrees"},
      {"the issuing CA is no CA", "", "basicConstraints=critical,CA:FALSE\n", "",
       "'CN=T Issuing' issued a certificate of the chain but may not act as a CA",
       "real CA certificate"},
      {"an unknown critical extension", "", "", "1.2.3.4.5=critical,ASN1:NULL\n",
       "carries an extension marked critical", "not marked critical"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    TempDir dir;
    const fs::path store = dir / "bems";
    for (const char* folder : {"personal", "trusted-root", "intermediate"})
      fs::create_directories(store / folder);
    // A later line of an openssl extfile section replaces an earlier one.
    auto with = [](std::string base, const std::string& extra) {
      if (!extra.empty()) {
        const std::string key = extra.substr(0, extra.find('='));
        std::string kept;
        std::istringstream lines(base);
        for (std::string line; std::getline(lines, line);)
          if (line.rfind(key + "=", 0) != 0) kept += line + "\n";
        base = kept + extra;
      }
      return base;
    };
    testing::openssl_issue({store / "trusted-root" / "root.pem",
                            dir / "root.key",
                            "/CN=T Root",
                            with(ca, c.root_extra),
                            {},
                            {}});
    testing::openssl_issue({store / "intermediate" / "issuing.pem", dir / "issuing.key",
                            "/CN=T Issuing", with(ca, c.issuing_extra),
                            store / "trusted-root" / "root.pem", dir / "root.key"});
    testing::openssl_issue(
        {store / "personal" / "bems.pem", store / "personal" / "bems.key",
         "/CN=bemsapppool.example.com",
         with("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
              "extendedKeyUsage=serverAuth,clientAuth\n"
              "subjectAltName=DNS:bemsapppool.example.com,DNS:bemsserver01.example.com\n"
              "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n",
              c.leaf_extra),
         store / "intermediate" / "issuing.pem", dir / "issuing.key"});
    auto result = run_mtlsprobe({"check", "--store", store.string(), "--no-revocation",
                                 "--instance", "bemsserver01.example.com", "--format", "json"});
    REQUIRE_MESSAGE(result.exit_code == 1, result.err);
    auto report = boost::json::parse(result.out);
    CHECK(status_of(report, "bems.chain.trusted") == "fail");
    const std::string detail = testing::detail_of(report, "bems.chain.trusted");
    std::string remedy;
    for (const auto& entry : report.at("findings").as_array())
      if (entry.at("id").as_string() == "bems.chain.trusted")
        remedy = testing::string_field(entry.as_object(), "remedy");
    CHECK_MESSAGE(mentions(detail, c.says), detail);
    CHECK_MESSAGE(mentions(remedy, c.fix), remedy);
    CHECK_MESSAGE(!mentions(detail + remedy, "not in BEMS's trusted-root"), detail);
    // One defect, one failing finding.
    for (const auto& entry : report.at("findings").as_array())
      if (entry.at("id").as_string() != "bems.chain.trusted")
        CHECK_MESSAGE(entry.at("status").as_string() != "fail", entry.at("id").as_string());
  }
}
