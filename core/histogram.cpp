#include "histogram.h"

#include <algorithm>

namespace connpool {

int Histogram::BucketOf(uint64_t v) {
  const uint64_t top = (uint64_t{1} << kMaxBits) - 1;
  if (v > top) v = top;
  if (v < static_cast<uint64_t>(kSub)) return static_cast<int>(v);
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
  buckets_[BucketOf(v)].fetch_add(n, std::memory_order_relaxed);
  count_.fetch_add(n, std::memory_order_relaxed);
  sum_.fetch_add(v * n, std::memory_order_relaxed);
  uint64_t m = max_.load(std::memory_order_relaxed);
  while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
  }
}

HistogramSummary Histogram::Summarize(uint64_t extra_zeros) const {
  std::array<uint64_t, kBuckets> snap;
  uint64_t total = extra_zeros;
  for (int b = 0; b < kBuckets; ++b) {
    snap[b] = buckets_[b].load(std::memory_order_relaxed);
    total += snap[b];
  }
  snap[0] += extra_zeros;
  HistogramSummary s;
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  if (total == 0) return s;
  auto at = [&](double q) {
    // Smallest bucket whose cumulative count reaches ceil(q * total).
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total));
    if (static_cast<double>(rank) < q * static_cast<double>(total)) ++rank;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += snap[b];
      if (seen >= rank) return std::min(BucketUpper(b), s.max);
    }
    return s.max;
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  return s;
}

uint64_t Histogram::CountAtMost(uint64_t upper, uint64_t extra_zeros) const {
  uint64_t n = extra_zeros;
  for (int b = 0; b < kBuckets && BucketUpper(b) <= upper; ++b)
    n += buckets_[b].load(std::memory_order_relaxed);
  return n;
}

}  // namespace connpool
