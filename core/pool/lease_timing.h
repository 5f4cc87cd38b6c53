// SPDX-License-Identifier: Apache-2.0
// Which leases get their hold time measured with the precise clock, and how a slot records it.
//
// Why: the fast path reads only the coarse clock (CLOCK_MONOTONIC_COARSE, one read ~10 ns, but
// 4 ms ticks on a HZ=250 kernel), which cannot show millisecond leases; a precise read costs
// 25-45 ns on a VM, too much for every cycle of a tight loop. So each thread may time up to
// kTimedLeasesPerTick leases per coarse tick precisely: every lease of a thread that takes
// leases no faster than one per 250 us is timed, and a tight loop pays two precise reads per
// 4 ms. A lease over budget (its thread is in a tight loop, so it is almost surely short)
// counts as held 0 unless the coarse clock shows it was held two ticks or more.
//
// The flag rides in bit 0 of Slot::lease_start_ns (odd: a precise start), so the slot stays one
// cache line; readers that compare it with the coarse clock (leak reports) lose 1 ns.
#ifndef CONNPOOL_CORE_LEASE_TIMING_H
#define CONNPOOL_CORE_LEASE_TIMING_H

#include <cstdint>

namespace connpool {

constexpr int kTimedLeasesPerTick = 16;

struct LeaseTimingBudget {
  int64_t tick = -1;  // the coarse reading the budget is for
  int used = 0;
};

// True if the calling thread may time one more lease in the coarse tick `coarse_now`.
// `used` stops at the budget, so that a thread over it only reads the budget (no store).
inline bool TakeLeaseTiming(LeaseTimingBudget& b, int64_t coarse_now) {
  if (coarse_now != b.tick) {
    b.tick = coarse_now;
    b.used = 0;
  }
  if (b.used >= kTimedLeasesPerTick) return false;
  ++b.used;
  return true;
}

// True when TakeLeaseTiming(b, coarse_now) would return false without changing `b`: the
// budget of this tick is spent. The acquire fast path's test: it times nothing then.
inline bool LeaseTimingSpent(const LeaseTimingBudget& b, int64_t coarse_now) {
  return coarse_now == b.tick && b.used >= kTimedLeasesPerTick;
}

inline int64_t TimedStart(int64_t precise_now) { return precise_now | 1; }
inline int64_t UntimedStart(int64_t coarse_now) { return coarse_now & ~int64_t{1}; }
inline bool IsTimedStart(int64_t start) { return (start & 1) != 0; }
inline int64_t StartNs(int64_t start) { return start & ~int64_t{1}; }

// Microseconds to record for a lease that started at `start` (a slot's lease_start_ns), given
// both clocks now (precise_now is read only for timed leases: pass a callable). -1: record
// nothing (an untimed lease under two coarse ticks; Snapshot counts it as 0).
template <typename PreciseNow>
int64_t HeldUs(int64_t start, int64_t coarse_now, int64_t coarse_tick_ns, PreciseNow precise_now) {
  if (IsTimedStart(start)) {
    const int64_t held = precise_now() - StartNs(start);
    return held > 0 ? held / 1000 : 0;
  }
  const int64_t held = coarse_now - start;
  return held >= 2 * coarse_tick_ns ? held / 1000 : -1;
}

}  // namespace connpool

#endif
