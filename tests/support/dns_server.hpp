#pragma once
// A real DNS server for tests: Debian's dnsmasq on 127.0.0.1, a free port,
// serving only the records given (no upstream, no hosts file), killed when
// the object goes. Also a UDP socket that never answers, for timeouts.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace testing {

struct DnsRecords {
  // name -> address; repeat a name for several addresses (A or AAAA).
  std::vector<std::pair<std::string, std::string>> addresses;
  // _service._proto.domain, target, port, priority, weight
  struct Srv {
    std::string name, target;
    std::uint16_t port = 5061, priority = 0, weight = 0;
  };
  std::vector<Srv> srv;
};

class DnsServer {
 public:
  explicit DnsServer(const DnsRecords& records);
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

// A bound UDP socket on 127.0.0.1 that nobody reads: queries to it go
// unanswered (no ICMP refusal either), as with a filtered server.
class SilentDnsServer {
 public:
  SilentDnsServer();
  ~SilentDnsServer();
  SilentDnsServer(const SilentDnsServer&) = delete;
  SilentDnsServer& operator=(const SilentDnsServer&) = delete;
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace testing
