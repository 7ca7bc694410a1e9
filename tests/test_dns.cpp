// tls::DnsResolver against a real DNS server (dnsmasq on loopback): every
// address of a name, SRV records in RFC 2782 order, and each way a lookup
// fails named (NXDOMAIN, no record, a server that never answers).
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>

#include "tests/support/dns_server.hpp"
#include "tls/dns.hpp"

namespace {

using namespace std::chrono_literals;

testing::DnsRecords pool_records() {
  testing::DnsRecords records;
  records.addresses = {{"pool.lab.test", "127.0.0.2"},  {"pool.lab.test", "127.0.0.3"},
                       {"pool.lab.test", "127.0.0.4"},  {"pool.lab.test", "::1"},
                       {"edge1.lab.test", "127.0.0.5"}, {"edge2.lab.test", "127.0.0.6"}};
  records.srv = {{"_sipfederationtls._tcp.lab.test", "edge2.lab.test", 5062, 20, 10},
                 {"_sipfederationtls._tcp.lab.test", "edge1.lab.test", 5061, 10, 5},
                 {"_sipfederationtls._tcp.lab.test", "pool.lab.test", 5061, 10, 50}};
  return records;
}

tls::DnsOptions asking(const testing::DnsServer& server,
                       std::chrono::milliseconds timeout = 3000ms) {
  tls::DnsOptions options;
  options.servers = {{"127.0.0.1", server.port()}};
  options.timeout = timeout;
  return options;
}

}  // namespace

TEST_CASE("every A and AAAA address of a pool name comes back, IPv4 first, in a stable order") {
  testing::DnsServer server(pool_records());
  auto answer = tls::resolve_addresses("pool.lab.test", asking(server));
  CHECK(answer.error == tls::DnsError::none);
  CHECK(answer.addresses == std::vector<std::string>{"127.0.0.2", "127.0.0.3", "127.0.0.4", "::1"});
}

TEST_CASE("SRV records come in priority order, the heavier weight first within one priority") {
  testing::DnsServer server(pool_records());
  auto answer = tls::resolve_srv("_sipfederationtls._tcp.lab.test", asking(server));
  REQUIRE(answer.error == tls::DnsError::none);
  REQUIRE(answer.records.size() == 3);
  CHECK(answer.records[0].target == "pool.lab.test");
  CHECK(answer.records[0].priority == 10);
  CHECK(answer.records[0].weight == 50);
  CHECK(answer.records[1].target == "edge1.lab.test");
  CHECK(answer.records[2].target == "edge2.lab.test");
  CHECK(answer.records[2].port == 5062);
}

TEST_CASE("a name that does not exist is NXDOMAIN, named with the server asked") {
  testing::DnsServer server(pool_records());
  auto answer = tls::resolve_addresses("nothere.lab.test", asking(server));
  CHECK(answer.error == tls::DnsError::nxdomain);
  CHECK(answer.addresses.empty());
  CHECK(answer.message.find("nothere.lab.test") != std::string::npos);
  CHECK(answer.message.find(server.address()) != std::string::npos);
}

TEST_CASE("a missing SRV record is an error with the record asked for") {
  testing::DnsServer server(pool_records());
  auto answer = tls::resolve_srv("_sipinternaltls._tcp.lab.test", asking(server));
  CHECK(answer.error != tls::DnsError::none);
  CHECK(answer.records.empty());
  CHECK(answer.message.find("_sipinternaltls._tcp.lab.test") != std::string::npos);
}

TEST_CASE("a DNS server that never answers ends in a timeout that names it, within the deadline") {
  testing::SilentDnsServer silent;
  tls::DnsOptions options;
  options.servers = {{"127.0.0.1", silent.port()}};
  options.timeout = 600ms;
  auto started = std::chrono::steady_clock::now();
  auto answer = tls::resolve_addresses("pool.lab.test", options);
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(answer.error == tls::DnsError::timeout);
  CHECK(answer.message.find("within 600 ms") != std::string::npos);
  CHECK(answer.message.find(silent.address()) != std::string::npos);
  CHECK(took < 5s);  // bounded, not a timing assertion: the deadline is 0.6 s
}

TEST_CASE("an address literal needs no DNS server") {
  tls::DnsOptions options;
  options.servers = {{"127.0.0.1", 9}};
  options.timeout = 500ms;
  auto answer = tls::resolve_addresses("127.0.0.9", options);
  CHECK(answer.error == tls::DnsError::none);
  CHECK(answer.addresses == std::vector<std::string>{"127.0.0.9"});
}

TEST_CASE("many lookups run at once on one loop") {
  testing::DnsServer server(pool_records());
  boost::asio::io_context io;
  auto resolver = tls::DnsResolver::create(io, asking(server));
  REQUIRE(resolver.ok());
  int answered = 0, nxdomain = 0;
  for (int i = 0; i < 50; ++i) {
    (*resolver)->lookup_addresses(
        i % 2 ? "pool.lab.test" : "missing" + std::to_string(i) + ".lab.test",
        [&](tls::AddressAnswer answer) {
          ++answered;
          if (answer.error == tls::DnsError::nxdomain) ++nxdomain;
        });
  }
  io.run();
  CHECK(answered == 50);
  CHECK(nxdomain == 25);
}
