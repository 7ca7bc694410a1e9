#pragma once
// A load run as the one result model (text and JSON through report/) and as
// Prometheus metrics (report::Exposition): the rate, the latency of each
// phase, and each failing finding with how many handshakes it failed.
#include <string>

#include "probe/load/engine.hpp"
#include "report/model.hpp"

namespace probe::load {

// What the run was asked to do, as the report states it.
struct LoadDescription {
  std::string target;        // as given: "lyncpool.example.com:5061"
  std::string address;       // dialled: "127.0.0.1:5061"
  std::string tls_versions;  // "TLSv1.3", "TLSv1.2-TLSv1.3"
  const LoadSettings* settings = nullptr;
};

// Sections, facts["load"] and one failing finding per finding id that failed
// handshakes (its detail: how many, then the first such failure's own).
void fill_load_report(report::Report& report, const LoadResult& result,
                      const LoadDescription& description);

std::string load_exposition(const LoadResult& result, const LoadDescription& description);

}  // namespace probe::load
