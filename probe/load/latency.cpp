#include "probe/load/latency.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace probe::load {

int LatencyHistogram::bucket_of(std::uint64_t microseconds) {
  if (microseconds < kExact) return static_cast<int>(microseconds);
  const int exponent = std::bit_width(microseconds) - 1;  // >= 7
  const int sub = static_cast<int>((microseconds >> (exponent - kSubBits)) & ((1 << kSubBits) - 1));
  return std::min(kExact + (exponent - 7) * (1 << kSubBits) + sub, kBuckets - 1);
}

double LatencyHistogram::bucket_middle_us(int bucket) {
  if (bucket < kExact) return bucket;
  const int exponent = 7 + (bucket - kExact) / (1 << kSubBits);
  const int sub = (bucket - kExact) % (1 << kSubBits);
  const double width = std::ldexp(1.0, exponent - kSubBits);
  return std::ldexp(1.0, exponent) + (sub + 0.5) * width;
}

void LatencyHistogram::record(double milliseconds) {
  const auto microseconds =
      static_cast<std::uint64_t>(std::llround(std::max(0.0, milliseconds) * 1000));
  ++buckets_[static_cast<std::size_t>(bucket_of(microseconds))];
  ++count_;
  sum_us_ += static_cast<double>(microseconds);
  min_us_ = std::min(min_us_, microseconds);
  max_us_ = std::max(max_us_, microseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_us_ += other.sum_us_;
  min_us_ = std::min(min_us_, other.min_us_);
  max_us_ = std::max(max_us_, other.max_us_);
}

// The nearest-rank percentile, clamped to what was seen (a bucket's middle
// can lie outside the recorded extremes).
double LatencyHistogram::percentile_us(double fraction) const {
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (int bucket = 0; bucket < kBuckets; ++bucket) {
    seen += buckets_[static_cast<std::size_t>(bucket)];
    if (seen >= rank)
      return std::clamp(bucket_middle_us(bucket), static_cast<double>(min_us_),
                        static_cast<double>(max_us_));
  }
  return static_cast<double>(max_us_);
}

std::optional<LatencySummary> LatencyHistogram::summary() const {
  if (count_ == 0) return std::nullopt;
  LatencySummary s;
  s.count = count_;
  s.min_ms = static_cast<double>(min_us_) / 1000;
  s.max_ms = static_cast<double>(max_us_) / 1000;
  s.mean_ms = sum_us_ / static_cast<double>(count_) / 1000;
  s.p50_ms = percentile_us(0.50) / 1000;
  s.p90_ms = percentile_us(0.90) / 1000;
  s.p99_ms = percentile_us(0.99) / 1000;
  return s;
}

}  // namespace probe::load
