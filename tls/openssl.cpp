#include "tls/detail/openssl.hpp"
#include "tls/process.hpp"

namespace tls {

std::string take_openssl_errors(const std::string& fallback) {
  std::string message;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(code);
    std::string text = reason ? reason : ("error " + std::to_string(ERR_GET_REASON(code)));
    if (message.find(text) != std::string::npos) continue;
    if (!message.empty()) message += "; ";
    message += text;
  }
  return message.empty() ? fallback : message;
}

void clear_openssl_errors() { ERR_clear_error(); }

void skip_openssl_cleanup_at_exit() {
#if !defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer the cleanup runs, so that its leak check at exit
  // tells our leaks from OpenSSL's tables.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
#endif
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

}  // namespace tls
