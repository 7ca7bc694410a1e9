#pragma once
// File descriptors for the servers (serve, pki serve): how many a process
// may hold, and how many connections to allow at once so that a flood of
// idle clients cannot take the descriptors a CRL fetch or a log file needs.
#include <cstddef>

#include <boost/system/error_code.hpp>

namespace tls {

// Raises the soft RLIMIT_NOFILE to the hard limit (the usual soft limit of
// 1024 is about 1,000 idle connections) and returns the soft limit in force.
std::size_t raise_descriptor_limit();

// The connections a server allows at once with `descriptor_limit`: what is
// left after a reserve for files, fetches and the listening sockets.
std::size_t connection_cap(std::size_t descriptor_limit);

// accept() failed for want of descriptors or memory (EMFILE, ENFILE,
// ENOBUFS, ENOMEM): retrying at once spins a core without accepting anyone.
bool is_resource_shortage(const boost::system::error_code& ec);

}  // namespace tls
