#pragma once
// The exporter's HTTP side: GET /probe runs one connect_target() on a worker
// and answers with its metrics; GET /metrics gives the exporter's own. At
// most max_concurrent probes run and max_queued wait; beyond that a request
// gets 503 at once, and one that waited past its budget gets 503 without
// running. Requests are refused with a one-line 400 before anything runs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "probe/exporter/config.hpp"
#include "tls/http_server.hpp"

namespace probe {

class ExporterService {
 public:
  explicit ExporterService(ExporterConfig config);
  ~ExporterService();
  ExporterService(const ExporterService&) = delete;
  ExporterService& operator=(const ExporterService&) = delete;

  // Routes for tls::HttpServer; they refer to this service, which must
  // outlive the server's thread (stop the server, then the service).
  std::vector<tls::HttpRoute> routes();
  // Waits for running probes; queued ones are dropped (their connections close).
  void stop();

  const ExporterConfig& config() const { return config_; }

 private:
  void probe(const tls::HttpServerRequest& request, tls::HttpResponder respond);
  tls::HttpServerResponse run_queued(ProbeRequest& request,
                                     std::chrono::steady_clock::time_point received);
  tls::HttpServerResponse run_probe(const ProbeRequest& request);
  tls::HttpServerResponse own_metrics() const;
  void count_rejection(const std::string& reason);

  ExporterConfig config_;
  boost::asio::thread_pool workers_;
  std::atomic<std::size_t> in_flight_{0};  // running and queued

  struct ModuleCounts {
    std::uint64_t success = 0, failure = 0;
    double seconds = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, ModuleCounts> probes_;     // by module
  std::map<std::string, std::uint64_t> rejected_;  // by reason
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace probe
