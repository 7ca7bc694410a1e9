#pragma once
// What a command-line process sets up once, before anything else uses OpenSSL.

namespace tls {

// OpenSSL frees its tables in an atexit handler; a process about to exit gives
// that memory back anyway, and the cleanup was 3% of a whole `connect`
// (callgrind, issue 17). First in main(): OpenSSL reads the option only at its
// first initialisation.
void skip_openssl_cleanup_at_exit();

}  // namespace tls
