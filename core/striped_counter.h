// SPDX-License-Identifier: Apache-2.0
// A counter for the hot path: each thread adds to one of 16 cache-line-sized stripes, so
// threads on different cores do not bounce one line between them; Read() sums the stripes.
// Reads are not a snapshot across stripes (fine for monotonic statistics).
#ifndef CONNPOOL_CORE_STRIPED_COUNTER_H
#define CONNPOOL_CORE_STRIPED_COUNTER_H

#include <atomic>
#include <cstdint>

namespace connpool {

// This thread's stripe, assigned round-robin on first use.
unsigned ThreadStripe();

class StripedCounter {
 public:
  static constexpr unsigned kStripes = 16;

  void Add(uint64_t n = 1) {
    stripes_[ThreadStripe() % kStripes].v.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Read() const {
    uint64_t sum = 0;
    for (const Stripe& s : stripes_) sum += s.v.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<uint64_t> v{0};
  };
  Stripe stripes_[kStripes];
};

}  // namespace connpool

#endif
