#include "tls/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include <boost/asio/error.hpp>

namespace tls {

std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return 1u << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

std::size_t connection_cap(std::size_t descriptor_limit) {
  // Files, CRL/OCSP/AIA fetches, the resolver, stdio and the listening
  // sockets; beyond that, a connection costs one descriptor.
  constexpr std::size_t kReserve = 64;
  constexpr std::size_t kFloor = 8;
  // epoll and the kernel's per-socket memory make more than this pointless
  // for a diagnostic server, however high the hard limit.
  constexpr std::size_t kCeiling = 10000;
  if (descriptor_limit <= kReserve + kFloor) return kFloor;
  return std::min(descriptor_limit - kReserve, kCeiling);
}

bool is_resource_shortage(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int value = ec.value();
  return value == EMFILE || value == ENFILE || value == ENOBUFS || value == ENOMEM;
}

}  // namespace tls
