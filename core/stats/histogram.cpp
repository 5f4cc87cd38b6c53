// SPDX-License-Identifier: Apache-2.0
#include "stats/histogram.h"

#include <algorithm>

namespace connpool {

int Histogram::BucketOf(uint64_t v) {
  if (v > kMaxValue) v = kMaxValue;
  if (v < static_cast<uint64_t>(kSub)) return static_cast<int>(v);
  // For v in [2^msb, 2^(msb+1)): 16 buckets of width 2^(msb-4), indexed by the 4 bits below
  // the leading one.
  int msb = 63 - __builtin_clzll(v);
  int shift = msb - kSubBits;
  return (shift + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
}

uint64_t Histogram::BucketUpper(int b) {
  if (b < kSub) return static_cast<uint64_t>(b);
  int shift = b / kSub - 1;
  uint64_t lower = static_cast<uint64_t>(kSub + b % kSub) << shift;
  return lower + (uint64_t{1} << shift) - 1;
}

void Histogram::RecordN(uint64_t v, uint64_t n) {
  if (v > kMaxValue) v = kMaxValue;  // max and sum agree with the bucket the sample lands in
  // max and sum first, then the bucket with release: a reader that sees the bucket (acquire)
  // also sees a max at least this large, so clipping percentiles to max is safe.
  uint64_t m = max_.load(std::memory_order_relaxed);
  while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
  }
  sum_.fetch_add(v * n, std::memory_order_relaxed);
  buckets_[BucketOf(v)].fetch_add(n, std::memory_order_release);
}

Histogram::Counts Histogram::Read(uint64_t extra_zeros) const {
  Counts c;
  for (int b = 0; b < kBuckets; ++b) {
    c.buckets[b] = buckets_[b].load(std::memory_order_acquire);
    c.count += c.buckets[b];
  }
  c.buckets[0] += extra_zeros;
  c.count += extra_zeros;
  c.sum = sum_.load(std::memory_order_relaxed);
  c.max = max_.load(std::memory_order_relaxed);
  return c;
}

HistogramSummary Histogram::Counts::Summarize() const {
  HistogramSummary s;
  s.count = count;
  s.sum = sum;
  if (count == 0) return s;
  // Read() loads max after the buckets (see RecordN), so it is never below a sample they hold.
  s.max = max;
  auto at = [&](uint64_t num, uint64_t den) {
    // Nearest rank: the smallest bucket whose cumulative count reaches ceil(count * num / den),
    // in integers (a double product such as 0.9 * 30 can land just above 27 and add one).
    uint64_t rank = count / den * num + (count % den * num + den - 1) / den;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += buckets[b];
      if (seen >= rank) return std::min(BucketUpper(b), s.max);
    }
    return s.max;
  };
  s.p50 = at(500, 1000);
  s.p90 = at(900, 1000);
  s.p99 = at(990, 1000);
  s.p999 = at(999, 1000);
  return s;
}

uint64_t Histogram::Counts::CountAtMost(uint64_t upper) const {
  uint64_t n = 0;
  for (int b = 0; b < kBuckets && BucketUpper(b) <= upper; ++b) n += buckets[b];
  return n;
}

HistogramSummary Histogram::Summarize(uint64_t extra_zeros) const {
  return Read(extra_zeros).Summarize();
}

uint64_t Histogram::CountAtMost(uint64_t upper, uint64_t extra_zeros) const {
  return Read(extra_zeros).CountAtMost(upper);
}

}  // namespace connpool
