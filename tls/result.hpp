#pragma once
// The one error type of every library here (CMake target mtls_base:
// header-only, no OpenSSL), so SIP, the lab and the rules do not take it from
// the TLS mechanism. It lives in tls/ because the top-level folders are fixed
// and tls/ is the bottom layer; nothing in it is about TLS.
//
// Errors at I/O edges are values: a Result holds either the value or a
// one-line message meant for the user (it never contains key material).
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace mtls {

struct Error {
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + error().message);
    return std::get<T>(state_);
  }
  const T& value() const {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + error().message);
    return std::get<T>(state_);
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    if (ok()) throw std::logic_error("Result::error() on a value");
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// For operations that produce nothing but can fail.
struct Done {};
using Status = Result<Done>;

}  // namespace mtls

// tls/ writes its own API in these types unqualified; code outside tls/
// names them mtls::.
namespace tls {
using mtls::Done;
using mtls::Error;
using mtls::Result;
using mtls::Status;
}  // namespace tls
