#include "tls/detail/openssl.hpp"

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

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

}  // namespace tls
