// SPDX-License-Identifier: Apache-2.0
// The maintenance pass (Boost.Thread, or the test's own thread): idle timeout, lifetime,
// keepalive, the warm floor, adaptive sizing, leak reports, time-driven health changes. It
// sleeps on the pool clock, so a FakeClock drives it in tests; Close() moves the pool's
// lifetime to stopping, interrupts and joins it.
//
// The stall watch (CheckStallLocked):
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
#include <boost/thread/thread.hpp>
#include <limits>

#include "pool/lease_timing.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

void Maintenance::MaintenanceLoop() {
  try {
    std::unique_lock<std::mutex> lk(pool_.mu_);
    // Anchored to the pool's creation, not to when this thread got scheduled.
    int64_t next = pool_.traits_.created_ns + pool_.cfg_.maintenance_interval_ms * 1'000'000;
    while (!pool_.lifetime_.stopping()) {
      const int64_t now = pool_.clock_->NowNs();
      if (now >= next) {
        lk.unlock();
        RunMaintenance();
        lk.lock();
        next = now + pool_.cfg_.maintenance_interval_ms * 1'000'000;
        continue;
      }
      pool_.WaitLocked(cv_, lk, next);
    }
  } catch (const boost::thread_interrupted&) {
  }
}

void Maintenance::RunMaintenance() {
  const int64_t now = pool_.clock_->NowNs();
  int64_t idle_count = 0;
  int64_t warm_floor = 0;
  // At a capacity limit idle connections count as working until shown otherwise; without
  // traffic nothing would show it, so one idle connection per pass is validated as a canary
  // (a dead server then fails it, and the pool sees an outage: health/health_machine.h).
  bool canary = false;
  {
    std::unique_lock<std::mutex> lk(pool_.mu_);
    if (pool_.lifetime_.draining()) return;
    pool_.UpdateHealthLocked(now);
    CheckStallLocked(now);  // maintenance.cpp
    // A release that raced a shrink may have left an idle connection above max_size.
    if (pool_.sizing_.over_capacity()) pool_.sizing_.TrimIdleLocked(lk);
    if (pool_.lifetime_.draining()) return;
    const SlotTable::Counts counts = pool_.slots_.Count();
    idle_count = static_cast<int64_t>(counts.idle);
    const uint64_t in_use = counts.in_use();
    pool_.sizing_.AdaptLocked(now, in_use);
    if (pool_.sizing_.over_capacity()) pool_.sizing_.TrimIdleLocked(lk);  // adaptive limit lowered
    if (pool_.lifetime_.draining()) return;
    warm_floor = pool_.sizing_.WarmFloorLocked();
    canary = pool_.traits_.has_validate && pool_.health_machine_.capacity_limited();
    pool_.logs_.FlushLocked(lk);
  }
  const uint32_t cap = pool_.slots_.Capacity();
  for (uint32_t i = 0; i < cap; ++i) {
    // Claim it before reading its plain fields.
    if (!pool_.slots_.ReserveIdle(i)) continue;
    Slot& s = pool_.SlotAt(i);
    int64_t idle_for = now - s.last_used_ns.load(std::memory_order_relaxed);
    Pool::Reason retire = Pool::Reason::kNone;
    if (s.expires_ns != 0 && now >= s.expires_ns) {
      retire = Pool::Reason::kLifetime;
    } else if (pool_.cfg_.idle_timeout_ms > 0 && idle_for >= pool_.cfg_.idle_timeout_ms * 1'000'000 &&
               idle_count > warm_floor) {
      retire = Pool::Reason::kIdle;
    } else if (const int64_t since_check =
                   // A use proves the connection as well as a validation does.
               now - std::max(s.checked_ns, s.last_used_ns.load(std::memory_order_relaxed));
               pool_.traits_.has_validate &&
               ((pool_.cfg_.validate_interval_ms > 0 && since_check >= pool_.cfg_.validate_interval_ms * 1'000'000) ||
                (canary && since_check >= pool_.cfg_.validation_idle_ms * 1'000'000))) {
      canary = false;
      // On a helper, bounded by validation_timeout_ms: a hung keepalive must not stop
      // maintenance (which also reports stalls).
      Connector::Checked c = pool_.connector_.ValidateForAcquire(
          i, SaturatingDeadline(pool_.clock_->NowNs(), pool_.cfg_.validation_timeout_ms), true);
      if (c == Connector::Checked::kGaveUp || c == Connector::Checked::kPoolClosing) {
        std::unique_lock<std::mutex> lk(pool_.mu_);
        if (c == Connector::Checked::kGaveUp) {
          pool_.lifetime_.Unpin();  // the pin taken for an acquirer; the helper owns the slot now
          continue;
        }
        lk.unlock();
        pool_.RetireOwned(i, Pool::Reason::kNone);
        continue;
      }
      if (c == Connector::Checked::kValid) {
        s.checked_ns = now;
      } else {
        pool_.metrics_.counters.validation_failures.fetch_add(1, std::memory_order_relaxed);
        retire = Pool::Reason::kValidation;
      }
    }
    if (retire != Pool::Reason::kNone) {
      --idle_count;
      pool_.RetireOwned(i, retire);  // Close() joins this thread before deleting, so this is safe
      continue;
    }
    std::unique_lock<std::mutex> lk(pool_.mu_);
    if (pool_.lifetime_.draining()) {
      lk.unlock();
      pool_.RetireOwned(i, Pool::Reason::kNone);
      continue;
    }
    pool_.PutBackLocked(i);
  }
  LogLeaks(now);
  std::lock_guard<std::mutex> lk(pool_.mu_);
  pool_.connector_.WakeLocked();  // refill to min_idle if retirements left a gap
}

void Maintenance::LogLeaks(int64_t now_ns) {
  if (pool_.cfg_.leak_threshold_ms <= 0 || pool_.traits_.mux) return;  // shared connections: not reported yet
  const uint32_t cap = pool_.slots_.Capacity();
  if (leak_logged_.size() < cap) leak_logged_.resize(cap, 0);
  const int64_t threshold = pool_.cfg_.leak_threshold_ms * 1'000'000;
  pool_.slots_.ForEach([&](uint32_t i, SlotWord w, const Slot& s) {
    if (i >= cap || w.state() != kLeased) return;  // a slot made since: next pass
    int64_t held = now_ns - StartNs(s.lease_start_ns.load(std::memory_order_relaxed));
    uint64_t lease = MakeLease(pool_.traits_.tag, i, w.gen());
    if (held < threshold || leak_logged_[i] == lease) return;
    leak_logged_[i] = lease;  // once per lease
    Log(CONNPOOL_LOG_WARN, "pool '" + pool_.cfg_.name + "': lease " + std::to_string(lease) + " held for " +
                               std::to_string(held / 1'000'000) + " ms by thread " +
                               std::to_string(s.holder_thread.load(std::memory_order_relaxed)) +
                               " (leak_threshold_ms=" + std::to_string(pool_.cfg_.leak_threshold_ms) + ")");
  });
}

void Maintenance::CheckStallLocked(int64_t now_ns) {
  if (pool_.cfg_.stall_after_ms <= 0 || pool_.traits_.mux || pool_.lifetime_.draining()) return;
  int64_t newest = -1;
  uint64_t idle = 0, out = 0;
  pool_.slots_.ForEach([&](uint32_t, SlotWord w, const Slot& s) {
    if (w.state() == kEmpty || w.state() == kCreating) return;
    if (w.idle_or_reserved()) ++idle;
    if (w.in_use()) {
      ++out;
      newest = std::max(newest, StartNs(s.lease_start_ns.load(std::memory_order_relaxed)));
    }
    newest = std::max(newest, s.last_used_ns.load(std::memory_order_relaxed));
  });
  const uint64_t timeouts = pool_.metrics_.counters.timeouts.load(std::memory_order_relaxed);
  if (newest > stall_.last_change_ns) {
    stall_.last_change_ns = newest;
    stall_.timeouts_mark = timeouts;
  }
  const bool starved = pool_.waiters_count_.load(std::memory_order_relaxed) > 0 || timeouts > stall_.timeouts_mark;
  const bool stalled = out > 0 && idle == 0 && starved && stall_.last_change_ns >= 0 &&
                       now_ns - stall_.last_change_ns >= pool_.cfg_.stall_after_ms * 1'000'000;
  if (stalled == stall_.stalled) return;
  stall_.stalled = stalled;
  if (stalled) {
    stall_.since_ns = now_ns;
    pool_.metrics_.counters.stalls.fetch_add(1, std::memory_order_relaxed);
    pool_.logs_.AddLocked(CONNPOOL_LOG_WARN,
                          "pool '" + pool_.cfg_.name + "': stalled: all " + std::to_string(out) +
                              " connections leased, acquires waiting or timing out, and no lease back for " +
                              std::to_string((now_ns - stall_.last_change_ns) / 1'000'000) +
                              " ms (stall_after_ms=" + std::to_string(pool_.cfg_.stall_after_ms) + ")");
    pool_.ApplyHealthLocked(pool_.health_machine_.OnStalled(now_ns));  // ready -> degraded
    return;
  }
  pool_.logs_.AddLocked(CONNPOOL_LOG_INFO, "pool '" + pool_.cfg_.name + "': stall over after " +
                                               std::to_string((now_ns - stall_.since_ns) / 1'000'000) + " ms");
  // Back to ready, unless degraded for a create outage as well: that one ends with a successful create.
  pool_.ApplyHealthLocked(pool_.health_machine_.OnStallOver(now_ns));
}

}  // namespace connpool
