// Lock-free log-linear histogram of non-negative integer samples (microseconds here).
//
// Values below 16 have a bucket each; above, every power of two is split into 16 buckets, so a
// reported percentile is within 6.25% of the true value. Values are clamped at 2^36 - 1
// (about 19 hours in microseconds). Fixed memory: 528 counters, ~4 KiB.
// Record() is wait-free (relaxed atomic increments): readers may see a sample in `count`
// before its bucket, which only shifts a percentile by one sample.
#ifndef CONNPOOL_CORE_HISTOGRAM_H
#define CONNPOOL_CORE_HISTOGRAM_H

#include <array>
#include <atomic>
#include <cstdint>

namespace connpool {

struct HistogramSummary {
  uint64_t count = 0;
  uint64_t sum = 0;
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

class Histogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxBits = 36;
  static constexpr int kBuckets = (kMaxBits - kSubBits + 1) * kSub;

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t n);

  // Summary, with `extra_zeros` samples of value 0 added (the pool counts zero-wait acquires
  // in a cheaper striped counter and folds them in here).
  HistogramSummary Summarize(uint64_t extra_zeros = 0) const;
  // Cumulative count of samples <= `upper` (for Prometheus buckets), including extra zeros.
  uint64_t CountAtMost(uint64_t upper, uint64_t extra_zeros = 0) const;
  uint64_t Sum() const { return sum_.load(std::memory_order_relaxed); }

  static int BucketOf(uint64_t value);
  static uint64_t BucketUpper(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace connpool

#endif
