#include "tests/support/dns_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace testing {

DnsServer::DnsServer(const DnsRecords& records) {
  port_ = free_port();
  std::vector<std::string> argv = {
      "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
      "--pid-file=", "--listen-address=127.0.0.1", "--bind-interfaces", "--log-facility=-",
      // Authoritative for .test: an unknown name there is NXDOMAIN,
      // not REFUSED for want of an upstream.
      "--local=/test/", "--port=" + std::to_string(port_)};
  // As root, dnsmasq would switch to a user that may not exist here.
  if (geteuid() == 0) argv.push_back("--user=root");
  for (const auto& [name, address] : records.addresses)
    argv.push_back("--host-record=" + name + "," + address);
  for (const auto& srv : records.srv)
    argv.push_back("--srv-host=" + srv.name + "," + srv.target + "," + std::to_string(srv.port) +
                   "," + std::to_string(srv.priority) + "," + std::to_string(srv.weight));
  process_ = std::make_unique<BackgroundProcess>(argv);
  // dnsmasq answers over TCP on the same port once it is ready.
  if (!wait_for_port(port_))
    throw std::runtime_error("dnsmasq did not start: " + process_->output());
}

SilentDnsServer::SilentDnsServer() {
  fd_ = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
  socklen_t length = sizeof address;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
}

SilentDnsServer::~SilentDnsServer() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace testing
