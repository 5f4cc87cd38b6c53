// SPDX-License-Identifier: Apache-2.0
// PoolMetrics - a pool's monotonic counts and histograms: what Pool::Snapshot reports and what
// every path bumps. Lock-free: relaxed atomics and Histogram's own atomics, so that a count
// never needs the pool's mutex.
//
// Why `acquired` is not here as a counter: the hot path bumps no shared word. It is derived
// from the slot generations (Pool::AcquiredTotal) less failed_claims, and acquired_reported
// keeps the derived value from ever going backwards between two snapshots.
#ifndef CONNPOOL_CORE_POOL_POOL_METRICS_H
#define CONNPOOL_CORE_POOL_POOL_METRICS_H

#include <atomic>
#include <cstdint>

#include "stats/counters.h"
#include "stats/histogram.h"

namespace connpool {

struct PoolMetrics {
  std::atomic<uint64_t> failed_claims{0};               // generation bumps that did not become a lease
  mutable std::atomic<uint64_t> acquired_reported{0};   // keeps `acquired` monotonic
  mutable std::atomic<uint64_t> zero_wait_reported{0};  // keeps zero_wait_acquires() monotonic
  // The counts bumped off the fast path, one per row of stats/counters.h.
  PoolCounters counters;
  Histogram acquire_wait_us;
  Histogram lease_hold_us;
  Histogram create_us;
};

}  // namespace connpool

#endif
