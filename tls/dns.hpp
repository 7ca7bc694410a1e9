#pragma once
// DNS lookups with c-ares on a Boost.Asio loop: every A/AAAA address of a
// name (not only the first that accepts TCP) and SRV records (RFC 2782),
// each lookup bounded by a deadline, optionally asked of one given server
// (split-horizon DNS: the inside and outside views differ). c-ares parses
// every reply; nothing here reads DNS wire format.
//
// Mechanism only: what the records mean for a Lync pool or a federation is
// the caller's business (probe/fleet/). Include from anywhere.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tls/result.hpp"

namespace tls {

struct DnsServer {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 53;
};

struct DnsOptions {
  // Empty: the system's resolvers (/etc/resolv.conf), with /etc/hosts first.
  // Given: only these servers, no hosts file, no search domains.
  std::vector<DnsServer> servers;
  // The whole lookup, every retry included; a server that never answers
  // ends as DnsError::timeout naming this.
  std::chrono::milliseconds timeout{5000};
  int tries = 2;  // attempts per server within `timeout`
};

// How a lookup ended, mapped once from c-ares' status codes.
enum class DnsError {
  none,
  nxdomain,            // the name does not exist
  no_data,             // the name exists but has no record of that type
  timeout,             // no server answered in time
  server_failure,      // SERVFAIL, REFUSED, NOTIMP, FORMERR from the server
  connection_refused,  // the server's port is closed (ICMP unreachable)
  bad_reply,           // an answer c-ares could not parse
  bad_name,            // not a valid DNS name
  local_error,         // out of memory, channel shut down
};
std::string to_string(DnsError error);  // "NXDOMAIN", "timeout", ...

struct AddressAnswer {
  std::string name;
  std::vector<std::string> addresses;  // IP literals: A then AAAA, each sorted, no duplicates
  std::chrono::seconds ttl{0};         // the shortest TTL of those records
  DnsError error = DnsError::none;
  std::string message;  // for a person; names the name, the type and the server
};

struct SrvRecord {
  std::string target;  // host name, without the trailing dot; "." means "no service"
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
};

struct SrvAnswer {
  std::string name;  // _service._proto.domain asked for
  // RFC 2782 order for a client that tries them all: priority ascending,
  // then weight descending (the random weighted pick only matters for load).
  std::vector<SrvRecord> records;
  DnsError error = DnsError::none;
  std::string message;
};

// Lookups on the caller's io_context: handlers run on that context's
// thread. Many lookups may be in flight at once. Not thread-safe; destroy
// it on the loop's thread (pending lookups are dropped, their handlers never run).
class DnsResolver {
 public:
  static Result<std::unique_ptr<DnsResolver>> create(boost::asio::io_context& io,
                                                     DnsOptions options);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  void lookup_addresses(const std::string& name, std::function<void(AddressAnswer)> handler);
  void lookup_srv(const std::string& name, std::function<void(SrvAnswer)> handler);

  // "127.0.0.1:5353" or "the system's resolvers", for messages.
  std::string servers_text() const;

  class Impl;

 private:
  explicit DnsResolver(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The TCP endpoints to dial for `host` (a name, or an IP literal taken as it
// is) and `port`, looked up on `io` (run here, so nothing else may run it
// meanwhile; left ready to run again) until answered, `deadline`, or `stop`
// returns true (asked every 50 ms). Names go to c-ares with the system's configuration, never to
// getaddrinfo: Asio's resolver runs getaddrinfo on a thread it cannot
// abandon, so a DNS server that drops a query held the caller for the
// libc's own retries (5 s per try, per address family, per search domain)
// whatever its deadline: serve's in-handshake revocation check, budgeted at
// a third of the handshake timeout, held a handshake for 10 s that way.
struct HostEndpoints {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // in the order DnsResolver gives
  std::chrono::seconds ttl{0};  // how long DNS says the addresses hold (0 for a literal)
  DnsError error = DnsError::none;
  bool stopped = false;  // `stop` ended the wait (error is timeout then)
  std::string message;   // why there are none, naming the host; empty when resolved
};
HostEndpoints resolve_host(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                           std::chrono::steady_clock::time_point deadline,
                           const std::function<bool()>& stop = nullptr);

// Blocking conveniences: their own loop, one lookup.
AddressAnswer resolve_addresses(const std::string& name, const DnsOptions& options);
SrvAnswer resolve_srv(const std::string& name, const DnsOptions& options);

}  // namespace tls
