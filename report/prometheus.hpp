#pragma once
// The Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): metric
// families with HELP and TYPE, each family's samples together, label values
// escaped (backslash, double quote, newline) and made valid UTF-8, since
// they come from certificates and peers. Who adds samples chooses the names;
// this only spells them. render_prometheus() turns the one result model into
// mtlsprobe's metrics (the list is in the README's Monitoring section).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/model.hpp"

namespace report {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { gauge, counter, untyped };

class Exposition {
 public:
  // Declares a family; a second call with the same name is ignored.
  void family(const std::string& name, MetricType type, const std::string& help);
  // Adds a sample to a declared family. A label set the family already has
  // is dropped: a duplicate series is an error to Prometheus.
  void sample(const std::string& name, const Labels& labels, double value);

  // Families in the order they were declared; those without samples are left out.
  std::string text() const;

 private:
  struct Family {
    std::string name;
    MetricType type = MetricType::untyped;
    std::string help;
    std::vector<std::string> series;  // "{a=\"b\"}" (or "") then " value"
    std::vector<std::string> label_sets;
  };
  std::vector<Family> families_;
};

// A label value as the format wants it: valid UTF-8 (bad bytes become
// U+FFFD), then \\ for backslash, \" for a quote and \n for a newline.
std::string escape_label_value(std::string_view value);
// A HELP text: valid UTF-8, backslash and newline escaped.
std::string escape_help(std::string_view text);
// "1", "0.25", "1.7e+09" as shortest round trip, "NaN", "+Inf", "-Inf".
std::string format_sample_value(double value);

// The metrics of one run (check, connect, a probe of the exporter): its
// findings, and the measurements in report.monitoring.
std::string render_prometheus(const Report& report);
// 1 when the report passes (no finding fails; under strict, none warns) and every
// handshake completed.
bool probe_succeeded(const Report& report);

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace report
