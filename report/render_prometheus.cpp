#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "report/prometheus.hpp"
#include "report/utf8.hpp"

namespace report {

namespace {

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::gauge:
      return "gauge";
    case MetricType::counter:
      return "counter";
    case MetricType::untyped:
      return "untyped";
  }
  return "untyped";
}

// Labels with an empty value are left out: to Prometheus an empty label is
// the same as no label, and the text is shorter.
std::string label_text(const Labels& labels) {
  std::string text;
  for (const auto& [name, value] : labels) {
    if (value.empty()) continue;
    text += text.empty() ? "{" : ",";
    text += name + "=\"" + escape_label_value(value) + "\"";
  }
  if (!text.empty()) text += "}";
  return text;
}

// Worse first: a finding id reported twice (two addresses, two directions)
// keeps the status that matters most.
int severity(Status status) {
  switch (status) {
    case Status::fail:
      return 3;
    case Status::warn:
      return 2;
    case Status::pass:
      return 1;
    case Status::skip:
      return 0;
  }
  return 0;
}

}  // namespace

void Exposition::family(const std::string& name, MetricType type, const std::string& help) {
  for (const auto& existing : families_)
    if (existing.name == name) return;
  families_.push_back(Family{name, type, help, {}, {}});
}

void Exposition::sample(const std::string& name, const Labels& labels, double value) {
  auto family = std::find_if(families_.begin(), families_.end(),
                             [&](const Family& f) { return f.name == name; });
  if (family == families_.end())
    family = families_.insert(families_.end(), Family{name, MetricType::untyped, "", {}, {}});
  std::string labels_text = label_text(labels);
  if (std::find(family->label_sets.begin(), family->label_sets.end(), labels_text) !=
      family->label_sets.end())
    return;
  family->series.push_back(name + labels_text + " " + format_sample_value(value));
  family->label_sets.push_back(std::move(labels_text));
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& family : families_) {
    if (family.series.empty()) continue;
    if (!family.help.empty())
      out += "# HELP " + family.name + " " + escape_help(family.help) + "\n";
    out += "# TYPE " + family.name + " " + std::string(type_name(family.type)) + "\n";
    for (const auto& line : family.series) out += line + "\n";
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string text = valid_utf8(value);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string valid = valid_utf8(text);
  std::string out;
  for (char c : valid) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (timestamps, codes, counts) as integers, which a person
  // reads more easily than 1.7987616e+09.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)
    return std::to_string(static_cast<long long>(value));
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

bool probe_succeeded(const Report& report) {
  if (overall(report) != Status::pass) return false;
  return std::all_of(report.monitoring.handshakes.begin(), report.monitoring.handshakes.end(),
                     [](const HandshakeMeasurement& h) { return h.completed; });
}

std::string render_prometheus(const Report& report) {
  const Monitoring& m = report.monitoring;
  Exposition out;
  out.family("mtlsprobe_probe_success", MetricType::gauge,
             "1 when every handshake completed and no finding fails, else 0.");
  out.sample("mtlsprobe_probe_success", {}, probe_succeeded(report) ? 1 : 0);
  out.family("mtlsprobe_probe_duration_seconds", MetricType::gauge,
             "How long the whole run took, in seconds.");
  if (m.duration_seconds) out.sample("mtlsprobe_probe_duration_seconds", {}, *m.duration_seconds);
  out.family("mtlsprobe_dns_lookup_duration_seconds", MetricType::gauge,
             "How long resolving the target's name took, in seconds, before its addresses "
             "were dialled (absent for an address, or a name dialled directly).");
  if (m.dns_seconds) out.sample("mtlsprobe_dns_lookup_duration_seconds", {}, *m.dns_seconds);
  out.family("mtlsprobe_run_finished_timestamp_seconds", MetricType::gauge,
             "When the run ended, seconds since the Unix epoch (a stale text file shows here).");
  if (m.finished_at > 0)
    out.sample("mtlsprobe_run_finished_timestamp_seconds", {}, static_cast<double>(m.finished_at));

  out.family("mtlsprobe_finding", MetricType::gauge,
             "One series per finding id with the status it has (pass, warn, fail, skip); "
             "the README lists the ids.");
  std::map<std::string, Status> worst;
  std::vector<std::string> order;
  for (const auto& finding : report.findings) {
    auto [it, inserted] = worst.emplace(finding.id, finding.status);
    if (inserted)
      order.push_back(finding.id);
    else if (severity(finding.status) > severity(it->second))
      it->second = finding.status;
  }
  for (const auto& id : order)
    out.sample("mtlsprobe_finding", {{"id", id}, {"status", std::string(to_string(worst[id]))}}, 1);

  out.family("mtlsprobe_handshake_completed", MetricType::gauge,
             "1 when the TLS handshake with this address completed (the peer may still have "
             "rejected our certificate afterwards, see mtlsprobe_finding).");
  out.family("mtlsprobe_handshake_duration_seconds", MetricType::gauge,
             "Time spent in each phase of the handshake with this address, in seconds.");
  out.family("mtlsprobe_tls_alert", MetricType::gauge,
             "TLS alerts seen in the handshake with this address, by direction and name.");
  out.family("mtlsprobe_tls_version_info", MetricType::gauge,
             "The TLS version and cipher suite agreed with this address (value 1).");
  out.family("mtlsprobe_sip_options_duration_seconds", MetricType::gauge,
             "Time from our SIP OPTIONS to its final answer, in seconds.");
  out.family("mtlsprobe_sip_status_code", MetricType::gauge,
             "The status code of the final answer to our SIP OPTIONS.");
  for (const auto& h : m.handshakes) {
    out.sample("mtlsprobe_handshake_completed", {{"address", h.address}}, h.completed ? 1 : 0);
    for (const auto& [phase, seconds] : h.phase_seconds)
      out.sample("mtlsprobe_handshake_duration_seconds", {{"address", h.address}, {"phase", phase}},
                 seconds);
    std::map<std::pair<std::string, std::string>, int> alerts;
    for (const auto& alert : h.alerts) ++alerts[{alert.direction, alert.name}];
    for (const auto& [key, count] : alerts)
      out.sample("mtlsprobe_tls_alert",
                 {{"address", h.address}, {"direction", key.first}, {"alert", key.second}}, count);
    if (!h.tls_version.empty())
      out.sample("mtlsprobe_tls_version_info",
                 {{"address", h.address}, {"version", h.tls_version}, {"cipher", h.cipher_suite}},
                 1);
    if (h.sip_options_seconds)
      out.sample("mtlsprobe_sip_options_duration_seconds", {{"address", h.address}},
                 *h.sip_options_seconds);
    if (h.sip_status_code)
      out.sample("mtlsprobe_sip_status_code", {{"address", h.address}}, *h.sip_status_code);
  }

  out.family("mtlsprobe_cert_not_after_timestamp_seconds", MetricType::gauge,
             "When a certificate expires, seconds since the Unix epoch: ours from our store "
             "(whatever the handshake did), the peer's as presented (depth 0 is the leaf).");
  for (const auto& c : m.certificates)
    out.sample("mtlsprobe_cert_not_after_timestamp_seconds",
               {{"side", c.side},
                {"address", c.address},
                {"depth", std::to_string(c.depth)},
                {"subject", c.certificate.subject},
                {"serial", c.certificate.serial},
                {"sha256", c.certificate.sha256}},
               static_cast<double>(c.not_after));
  out.family("mtlsprobe_revocation_status", MetricType::gauge,
             "The revocation answer for a certificate (value 1 for the status it has: good, "
             "revoked, unknown, unavailable, not_published).");
  for (const auto& r : m.revocation)
    out.sample("mtlsprobe_revocation_status",
               {{"side", r.side},
                {"address", r.address},
                {"depth", std::to_string(r.depth)},
                {"status", r.status}},
               1);
  return out.text();
}

}  // namespace report
