#include "probe/load/load_report.hpp"

#include <cstdio>

#include "report/prometheus.hpp"

namespace probe::load {
namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string ms(double value) { return fixed(value, value < 10 ? 2 : 1); }

std::string run_bounds(const LoadSettings& settings) {
  std::string text;
  if (settings.duration) text = fixed(settings.duration->count(), 1) + " s";
  if (settings.count)
    text += (text.empty() ? "" : " or ") + std::to_string(*settings.count) + " handshakes";
  return text;
}

std::string loop_text(const LoadSettings& settings) {
  if (settings.rate)
    return "open loop, " + fixed(*settings.rate, 1) + " handshakes/s, at most " +
           std::to_string(settings.connections) + " in flight";
  return "closed loop, " + std::to_string(settings.connections) + " connections";
}

boost::json::object latency_json(const LatencySummary& s) {
  return {{"count", s.count},   {"min_ms", s.min_ms}, {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms},
          {"p90_ms", s.p90_ms}, {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}};
}

}  // namespace

void fill_load_report(report::Report& report, const LoadResult& result,
                      const LoadDescription& description) {
  const LoadSettings& settings = *description.settings;
  const std::uint64_t total = result.succeeded + result.failed;

  report::Section run{"Load on " + description.target, {}};
  run.lines.emplace_back("dialled", description.address);
  run.lines.emplace_back("run", loop_text(settings) + ", " + std::to_string(settings.threads) +
                                    " thread(s), until " + run_bounds(settings));
  run.lines.emplace_back("TLS", description.tls_versions +
                                    (settings.resumption ? ", resumption on" : ", no resumption") +
                                    (settings.sip ? ", one SIP OPTIONS per connection" : ""));
  run.lines.emplace_back("handshakes",
                         std::to_string(total) + " in " + fixed(result.elapsed_seconds, 2) +
                             " s: " + std::to_string(result.succeeded) + " succeeded, " +
                             std::to_string(result.failed) + " failed");
  run.lines.emplace_back("rate",
                         fixed(result.handshakes_per_second(), 1) + " successful handshakes/s");
  if (settings.resumption)
    run.lines.emplace_back(
        "resumed", std::to_string(result.resumed) + " of " + std::to_string(result.succeeded));
  if (settings.rate)
    run.lines.emplace_back("not started", std::to_string(result.not_started) +
                                              " (due while --connections were in flight)");
  report.sections.push_back(run);

  report::Section latency{"Latency per phase (ms): min / mean / p50 / p90 / p99 / max", {}};
  boost::json::object latency_facts;
  for (const auto& [phase, s] : result.latency) {
    latency.lines.emplace_back(to_string(phase), ms(s.min_ms) + " / " + ms(s.mean_ms) + " / " +
                                                     ms(s.p50_ms) + " / " + ms(s.p90_ms) + " / " +
                                                     ms(s.p99_ms) + " / " + ms(s.max_ms) + " (" +
                                                     std::to_string(s.count) + ")");
    latency_facts[to_string(phase)] = latency_json(s);
  }
  if (!result.latency.empty()) report.sections.push_back(latency);

  boost::json::array failures;
  for (const FailureCount& counted : result.failures) {
    failures.push_back({{"id", counted.finding.id},
                        {"count", counted.count},
                        {"example", counted.finding.detail}});
    report::Finding f = counted.finding;
    f.detail = std::to_string(counted.count) + " of " + std::to_string(total) +
               " handshakes failed here; the first: " + f.detail;
    report.findings.push_back(std::move(f));
  }

  boost::json::object facts;
  facts["target"] = description.target;
  facts["address"] = description.address;
  facts["mode"] = settings.rate ? "open" : "closed";
  facts["connections"] = settings.connections;
  if (settings.rate) facts["rate"] = *settings.rate;
  if (settings.duration) facts["duration_seconds"] = settings.duration->count();
  if (settings.count) facts["count"] = *settings.count;
  facts["threads"] = settings.threads;
  facts["tls_versions"] = description.tls_versions;
  facts["resumption"] = settings.resumption;
  facts["sip"] = settings.sip.has_value();
  facts["elapsed_seconds"] = result.elapsed_seconds;
  facts["handshakes"] = {{"total", total},
                         {"succeeded", result.succeeded},
                         {"failed", result.failed},
                         {"resumed", result.resumed},
                         {"not_started", result.not_started}};
  facts["handshakes_per_second"] = result.handshakes_per_second();
  facts["latency"] = latency_facts;
  facts["failures"] = failures;
  report.facts["load"] = facts;
}

std::string load_exposition(const LoadResult& result, const LoadDescription& description) {
  report::Exposition out;
  const report::Labels target{{"target", description.target}};
  auto with = [&](std::string name, std::string value) {
    report::Labels labels = target;
    labels.emplace_back(std::move(name), std::move(value));
    return labels;
  };
  out.family("mtlsprobe_load_handshakes_total", report::MetricType::counter,
             "Handshakes of the load run, by outcome (success, failure).");
  out.sample("mtlsprobe_load_handshakes_total", with("outcome", "success"),
             static_cast<double>(result.succeeded));
  out.sample("mtlsprobe_load_handshakes_total", with("outcome", "failure"),
             static_cast<double>(result.failed));
  out.family("mtlsprobe_load_failures_total", report::MetricType::counter,
             "Failed handshakes by the finding `connect` fails for them.");
  for (const FailureCount& counted : result.failures)
    out.sample("mtlsprobe_load_failures_total", with("finding", counted.finding.id),
               static_cast<double>(counted.count));
  out.family("mtlsprobe_load_resumed_total", report::MetricType::counter,
             "Successful handshakes that resumed a session.");
  out.sample("mtlsprobe_load_resumed_total", target, static_cast<double>(result.resumed));
  out.family("mtlsprobe_load_not_started_total", report::MetricType::counter,
             "Open loop: handshakes due while --connections were in flight, not started.");
  out.sample("mtlsprobe_load_not_started_total", target, static_cast<double>(result.not_started));
  out.family("mtlsprobe_load_handshakes_per_second", report::MetricType::gauge,
             "Successful handshakes per second over the run.");
  out.sample("mtlsprobe_load_handshakes_per_second", target, result.handshakes_per_second());
  out.family("mtlsprobe_load_duration_seconds", report::MetricType::gauge,
             "How long the run took.");
  out.sample("mtlsprobe_load_duration_seconds", target, result.elapsed_seconds);
  out.family("mtlsprobe_load_latency_seconds", report::MetricType::gauge,
             "Latency of each phase (tcp, tls, sip) over the run: min, mean, p50, p90, p99, max.");
  for (const auto& [phase, s] : result.latency) {
    const std::pair<const char*, double> stats[] = {{"min", s.min_ms}, {"mean", s.mean_ms},
                                                    {"p50", s.p50_ms}, {"p90", s.p90_ms},
                                                    {"p99", s.p99_ms}, {"max", s.max_ms}};
    for (const auto& [stat, value] : stats) {
      report::Labels labels = with("phase", to_string(phase));
      labels.emplace_back("stat", stat);
      out.sample("mtlsprobe_load_latency_seconds", labels, value / 1000);
    }
  }
  return out.text();
}

}  // namespace probe::load
