// SPDX-License-Identifier: Apache-2.0
// A stalled backend: the server is frozen (SIGSTOP, a VM paused, a lock pile-up) or a proxy
// blackholes the traffic, so every lease is stuck in a query and nothing comes back, while
// creates may even succeed (the listener answers) or are not attempted (the pool is full).
// Create-driven health never notices: the pool stayed `ready` for a whole 20 s freeze in our
// measurements while every acquire timed out. Maintenance therefore also looks at the leases:
//
//   stalled  <=>  stall_after_ms > 0, at least one lease out, no connection idle,
//                 acquires waiting now or timed out since the last change, and no lease
//                 started or came back for stall_after_ms
//
// "Started or came back" is the newest lease_start_ns / last_used_ns over the slots, which
// the hot path writes anyway: detection costs it nothing. A stall turns `ready` into
// `degraded` (stats hangs.stalled, counters.stalls, log WARN) and the first maintenance pass
// after a lease moves again clears it. Multiplexed pools are not watched (their releases do
// not stamp the slot). Why degraded and not 503: docs/HEALTH.md, "Stalled backend".
#include <algorithm>

#include "pool/lease_timing.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

void Pool::CheckStallLocked(int64_t now_ns) {
  if (cfg_.stall_after_ms <= 0 || mux_ || lifetime_.draining()) return;
  int64_t newest = -1;
  uint64_t idle = 0, out = 0;
  slots_.ForEach([&](uint32_t, SlotWord w, const Slot& s) {
    if (w.state() == kEmpty || w.state() == kCreating) return;
    if (w.idle_or_reserved()) ++idle;
    if (w.in_use()) {
      ++out;
      newest = std::max(newest, StartNs(s.lease_start_ns.load(std::memory_order_relaxed)));
    }
    newest = std::max(newest, s.last_used_ns.load(std::memory_order_relaxed));
  });
  const uint64_t timeouts = counters_.timeouts.load(std::memory_order_relaxed);
  if (newest > stall_.last_change_ns) {
    stall_.last_change_ns = newest;
    stall_.timeouts_mark = timeouts;
  }
  const bool starved = waiters_count_.load(std::memory_order_relaxed) > 0 || timeouts > stall_.timeouts_mark;
  const bool stalled = out > 0 && idle == 0 && starved && stall_.last_change_ns >= 0 &&
                       now_ns - stall_.last_change_ns >= cfg_.stall_after_ms * 1'000'000;
  if (stalled == stall_.stalled) return;
  stall_.stalled = stalled;
  if (stalled) {
    stall_.since_ns = now_ns;
    counters_.stalls.fetch_add(1, std::memory_order_relaxed);
    logs_.AddLocked(CONNPOOL_LOG_WARN,
                               "pool '" + cfg_.name + "': stalled: all " + std::to_string(out) +
                                   " connections leased, acquires waiting or timing out, and no lease back for " +
                                   std::to_string((now_ns - stall_.last_change_ns) / 1'000'000) +
                                   " ms (stall_after_ms=" + std::to_string(cfg_.stall_after_ms) + ")");
    ApplyHealthLocked(health_machine_.OnStalled(now_ns));  // ready -> degraded
    return;
  }
  logs_.AddLocked(CONNPOOL_LOG_INFO, "pool '" + cfg_.name + "': stall over after " +
                                                    std::to_string((now_ns - stall_.since_ns) / 1'000'000) + " ms");
  // Back to ready, unless degraded for a create outage as well: that one ends with a successful create.
  ApplyHealthLocked(health_machine_.OnStallOver(now_ns));
}

}  // namespace connpool
