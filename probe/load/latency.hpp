#pragma once
// Latency of one phase over a load run, as h2load keeps it: each worker
// thread records into its own histogram, the histograms are merged once the
// run ends, and the summary (min, mean, percentiles, max) is computed from
// the merge. Memory is fixed whatever the run's length: log-linear buckets
// of about 1.6% width above 128 us, exact below.
#include <array>
#include <cstdint>
#include <optional>

namespace probe::load {

struct LatencySummary {
  std::uint64_t count = 0;
  double min_ms = 0, mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

class LatencyHistogram {
 public:
  void record(double milliseconds);
  void merge(const LatencyHistogram& other);
  std::uint64_t count() const { return count_; }
  // nullopt when nothing was recorded.
  std::optional<LatencySummary> summary() const;

 private:
  // 64 sub-buckets per power of two from 2^7 us to 2^42 us (about 50 days).
  static constexpr int kExact = 128;
  static constexpr int kSubBits = 6;
  static constexpr int kBuckets = kExact + (42 - 7) * (1 << kSubBits);
  static int bucket_of(std::uint64_t microseconds);
  static double bucket_middle_us(int bucket);
  double percentile_us(double fraction) const;

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  double sum_us_ = 0;
  std::uint64_t min_us_ = UINT64_MAX, max_us_ = 0;
};

}  // namespace probe::load
