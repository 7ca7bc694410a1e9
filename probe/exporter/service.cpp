#include "probe/exporter/service.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include <boost/asio/post.hpp>

#include "probe/diagnosis/monitoring.hpp"
#include "probe/fleet/fleet.hpp"
#include "report/prometheus.hpp"

namespace probe {
namespace {

tls::HttpServerResponse text_answer(unsigned status, const std::string& line) {
  return tls::HttpServerResponse{status, "text/plain; charset=utf-8", line + "\n", {}};
}

tls::HttpServerResponse metrics_answer(std::string body) {
  return tls::HttpServerResponse{
      200, std::string(report::kPrometheusContentType), std::move(body), {}};
}

// Resident memory from the kernel's own count (/proc/self/statm, in pages),
// so a leak over many probes shows in a graph.
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

ExporterService::ExporterService(ExporterConfig config)
    : config_(std::move(config)), workers_(config_.max_concurrent) {}

ExporterService::~ExporterService() { stop(); }

void ExporterService::stop() {
  workers_.stop();
  workers_.join();
}

std::vector<tls::HttpRoute> ExporterService::routes() {
  std::vector<tls::HttpRoute> routes;
  routes.push_back({"/probe", nullptr,
                    [this](const tls::HttpServerRequest& request, tls::HttpResponder respond) {
                      probe(request, std::move(respond));
                    }});
  routes.push_back({"/metrics", [this](const tls::HttpServerRequest& request) {
                      if (request.method != "GET") return text_answer(405, "use GET for /metrics");
                      return own_metrics();
                    }});
  routes.push_back({"/", [](const tls::HttpServerRequest&) {
                      return text_answer(200,
                                         "mtlsprobe exporter: GET /probe?target=HOST[:PORT]&module="
                                         "NAME for a probe, GET /metrics for the exporter's own");
                    }});
  return routes;
}

void ExporterService::count_rejection(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++rejected_[reason];
}

void ExporterService::probe(const tls::HttpServerRequest& request, tls::HttpResponder respond) {
  if (request.method != "GET") {
    count_rejection("bad_request");
    return respond(text_answer(405, "use GET for /probe"));
  }
  auto parsed =
      probe_request(config_, request.target, request.header("X-Prometheus-Scrape-Timeout-Seconds"));
  if (!parsed) {
    count_rejection("bad_request");
    return respond(text_answer(400, parsed.error().message));
  }
  // Bounded twice: the workers (max_concurrent) and this count of running
  // plus waiting requests, so a flood cannot grow the queue without end.
  if (in_flight_.fetch_add(1) >= config_.max_concurrent + config_.max_queued) {
    --in_flight_;
    count_rejection("busy");
    return respond(text_answer(503, "too many probes at once (max_concurrent_probes " +
                                        std::to_string(config_.max_concurrent) +
                                        " running, max_queued_probes " +
                                        std::to_string(config_.max_queued) + " waiting)"));
  }
  const auto received = std::chrono::steady_clock::now();
  boost::asio::post(workers_, [this, request = std::move(*parsed), respond = std::move(respond),
                               received]() mutable {
    tls::HttpServerResponse answer = run_queued(request, received);
    // The slot is free before the answer leaves, so a client that asks again
    // right after its answer finds it free.
    --in_flight_;
    respond(std::move(answer));
  });
}

tls::HttpServerResponse ExporterService::run_queued(
    ProbeRequest& request, std::chrono::steady_clock::time_point received) {
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - received);
  if (request.budget) {
    // Prometheus has given up on a scrape that waited out its timeout:
    // probing now would only delay the requests behind it.
    if (waited >= *request.budget) {
      count_rejection("timed_out_in_queue");
      return text_answer(503, "waited " + std::to_string(waited.count()) +
                                  " ms for a free probe slot, past the scrape timeout");
    }
    *request.budget -= waited;
  }
  try {
    return run_probe(request);
  } catch (const std::exception& e) {
    count_rejection("internal_error");
    return text_answer(500, std::string("the probe failed: ") + e.what());
  }
}

tls::HttpServerResponse ExporterService::run_probe(const ProbeRequest& request) {
  ConnectSettings settings = settings_within(*request.module, request.budget);
  // Revocation answers are shared by both chains of this probe only: a
  // scrape should see the CA's current answer, not one from an hour ago.
  RevocationMemo memo;
  settings.memo = &memo;
  // Every address of the name (each Front End of a pool may differ), each
  // with its own series; the lookup's deadline is a step's, like TCP's.
  auto dns = dns_options_from(request.module->dns_servers, settings.timeout);
  auto every = dns ? fleet::probe_every_address(request.target, settings, *dns)
                   : mtls::Result<report::Report>(dns.error());
  report::Report probed =
      every ? std::move(*every) : connect_target(request.target, settings).report;
  const bool success = report::probe_succeeded(probed);
  {
    std::lock_guard lock(mutex_);
    auto& counts = probes_[request.module->name];
    ++(success ? counts.success : counts.failure);
    counts.seconds += probed.monitoring.duration_seconds.value_or(0);
  }
  return metrics_answer(report::render_prometheus(probed));
}

tls::HttpServerResponse ExporterService::own_metrics() const {
  report::Exposition out;
  out.family("mtlsprobe_exporter_probes_total", report::MetricType::counter,
             "Probes run, by module and result (success: mtlsprobe_probe_success was 1).");
  out.family("mtlsprobe_exporter_probe_duration_seconds_total", report::MetricType::counter,
             "Time spent in probes, by module; divide by mtlsprobe_exporter_probes_total for the "
             "mean.");
  out.family("mtlsprobe_exporter_rejected_requests_total", report::MetricType::counter,
             "Probe requests answered without a probe, by reason (bad_request: 400 or 405; busy "
             "and timed_out_in_queue: 503; internal_error: 500).");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [module, counts] : probes_) {
      out.sample("mtlsprobe_exporter_probes_total", {{"module", module}, {"result", "success"}},
                 static_cast<double>(counts.success));
      out.sample("mtlsprobe_exporter_probes_total", {{"module", module}, {"result", "failure"}},
                 static_cast<double>(counts.failure));
      out.sample("mtlsprobe_exporter_probe_duration_seconds_total", {{"module", module}},
                 counts.seconds);
    }
    for (const auto& [reason, count] : rejected_)
      out.sample("mtlsprobe_exporter_rejected_requests_total", {{"reason", reason}},
                 static_cast<double>(count));
  }
  out.family("mtlsprobe_exporter_probes_in_flight", report::MetricType::gauge,
             "Probe requests running or waiting for a worker now.");
  out.sample("mtlsprobe_exporter_probes_in_flight", {}, static_cast<double>(in_flight_.load()));
  out.family("mtlsprobe_exporter_max_concurrent_probes", report::MetricType::gauge,
             "Probes that may run at once (max_concurrent_probes).");
  out.sample("mtlsprobe_exporter_max_concurrent_probes", {},
             static_cast<double>(config_.max_concurrent));
  out.family("mtlsprobe_exporter_build_info", report::MetricType::gauge,
             "The mtlsprobe version serving (value 1).");
  out.sample("mtlsprobe_exporter_build_info", {{"version", MTLSPROBE_VERSION}}, 1);
  out.family("process_resident_memory_bytes", report::MetricType::gauge,
             "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", {}, resident_bytes());
  out.family("process_cpu_seconds_total", report::MetricType::counter,
             "Total user and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", {}, cpu_seconds());
  out.family("mtlsprobe_exporter_uptime_seconds", report::MetricType::gauge,
             "Seconds since the exporter started.");
  out.sample("mtlsprobe_exporter_uptime_seconds", {},
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  return metrics_answer(out.text());
}

}  // namespace probe
