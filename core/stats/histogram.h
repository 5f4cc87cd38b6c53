// SPDX-License-Identifier: Apache-2.0
// Lock-free log-linear histogram of non-negative integer samples (microseconds here).
//
// Values below 16 have a bucket each; above, every power of two is split into 16 buckets of
// equal width, so the upper edge of a sample's bucket exceeds the sample by less than 1/16:
// a reported percentile p satisfies  true <= p < true * (1 + 1/16)  (tests/stats check this).
// Values are clamped at 2^36 - 1 (about 19 hours in microseconds). Fixed memory: 528
// counters, ~4 KiB; no allocation after construction.
//
// Record() is wait-free (relaxed atomic increments). Readers take one pass over the buckets
// (Read()) and derive every figure from that copy, so percentiles, counts and cumulative
// buckets of one reading agree with each other. A sample recorded during the pass may be in
// the copy's sum and max but not yet in its buckets: that shifts figures by one sample.
#ifndef CONNPOOL_CORE_HISTOGRAM_H
#define CONNPOOL_CORE_HISTOGRAM_H

#include <array>
#include <atomic>
#include <cstdint>

namespace connpool {

struct HistogramSummary {
  uint64_t count = 0;
  uint64_t sum = 0;  // of the (clamped) samples
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

class Histogram {
 public:
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxBits = 36;
  static constexpr int kBuckets = (kMaxBits - kSubBits + 1) * kSub;
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxBits) - 1;

  // One reading of every bucket (a plain copy the reader owns).
  struct Counts {
    std::array<uint64_t, kBuckets> buckets{};
    uint64_t count = 0;  // sum of buckets
    uint64_t sum = 0;
    uint64_t max = 0;

    HistogramSummary Summarize() const;
    // Samples whose bucket lies entirely at or below `upper` (for Prometheus `le` buckets).
    // A sample sharing a bucket with `upper` but not above it is left out, so the result
    // undercounts by at most the samples within 1/16 below `upper`; it never overcounts.
    uint64_t CountAtMost(uint64_t upper) const;
  };

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t n);

  // Copies the buckets, with `extra_zeros` samples of value 0 added (the pool counts
  // zero-wait acquires in a cheaper striped counter and folds them in here).
  Counts Read(uint64_t extra_zeros = 0) const;
  // Shorthands for Read(extra_zeros).Summarize() / .CountAtMost(upper).
  HistogramSummary Summarize(uint64_t extra_zeros = 0) const;
  uint64_t CountAtMost(uint64_t upper, uint64_t extra_zeros = 0) const;
  uint64_t Sum() const { return sum_.load(std::memory_order_relaxed); }

  static int BucketOf(uint64_t value);
  // Largest value that falls into `bucket` (its smallest is BucketUpper(bucket - 1) + 1).
  static uint64_t BucketUpper(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace connpool

#endif
