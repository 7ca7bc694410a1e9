#pragma once
// Our handshake server on its own thread, for tests that dial it.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tls/handshake.hpp"

namespace testing {

// Our HandshakeServer on its own thread, collecting every record.
class RunningServer {
 public:
  explicit RunningServer(tls::ServerOptions options)
      : server_(std::move(options), [this](const tls::HandshakeRecord& record,
                                           std::shared_ptr<tls::EstablishedConnection>) {
          std::lock_guard lock(mutex_);
          records_.push_back(record);
          changed_.notify_all();
        }) {
    mtls::Status listening = server_.listen();
    REQUIRE_MESSAGE(listening.ok(), (listening.ok() ? std::string() : listening.error().message));
    thread_ = std::thread([this] { server_.run(); });
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }
  tls::HandshakeServer& handshake_server() { return server_; }

  // The index-th record, waiting for it (bounded).
  std::optional<tls::HandshakeRecord> record(
      std::size_t index = 0, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return records_.size() > index; });
    if (records_.size() <= index) return std::nullopt;
    return records_[index];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<tls::HandshakeRecord> records_;
  tls::HandshakeServer server_;
  std::thread thread_;
};

}  // namespace testing
