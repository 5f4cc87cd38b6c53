// SPDX-License-Identifier: Apache-2.0
// AdaptiveFeed: what stands between a pool's running totals and AdaptiveSizer. The sizer reads
// one Sample per maintenance pass (what happened during that pass); the pool keeps monotonic
// totals (leases issued, wait and hold sums, timeouts). The feed remembers the totals of the
// previous pass, turns the new ones into differences, steps the sizer, and keeps its last
// decision and last change for the stats.
//
// Not thread-safe: the pool calls it under its mutex. Pure: no clock, no locks, no threads.
#ifndef CONNPOOL_CORE_SIZING_ADAPTIVE_FEED_H
#define CONNPOOL_CORE_SIZING_ADAPTIVE_FEED_H

#include <cstdint>

#include "sizing/adaptive_sizer.h"

namespace connpool {

class AdaptiveFeed {
 public:
  // Running totals since the pool was made; each only grows.
  struct Totals {
    uint64_t acquired = 0;   // leases issued
    uint64_t wait_us = 0;    // sum of the acquires' waits
    uint64_t timeouts = 0;   // acquires that gave up
    uint64_t completed = 0;  // leases given back
    uint64_t hold_us = 0;    // sum of those leases' hold times
  };
  // What the pool shows right now.
  struct Now {
    uint64_t waiters = 0;
    uint64_t in_use = 0;
    int64_t min_idle = 0;
    int64_t max_size = 1;
  };
  // A decision and when it was taken (at_ns < 0: none yet).
  struct Recorded {
    AdaptiveSizer::Decision decision;
    int64_t at_ns = -1;
  };

  AdaptiveFeed(int64_t target_wait_ms, int64_t initial_floor) : sizer_(target_wait_ms, initial_floor) {}

  // One pass at `now_ns`. A total that is lower than last time (it cannot, but a difference
  // must never wrap) counts as no change. The first pass has no interval (elapsed 0: the sizer
  // takes one second).
  AdaptiveSizer::Decision Step(int64_t now_ns, const Totals& totals, const Now& now);

  AdaptiveSizer& sizer() { return sizer_; }
  const AdaptiveSizer& sizer() const { return sizer_; }
  const Recorded& last_decision() const { return last_decision_; }
  // The last decision that moved the floor.
  const Recorded& last_change() const { return last_change_; }

 private:
  AdaptiveSizer sizer_;
  Totals prev_;
  int64_t prev_ns_ = -1;
  Recorded last_decision_, last_change_;
};

}  // namespace connpool

#endif  // CONNPOOL_CORE_SIZING_ADAPTIVE_FEED_H
