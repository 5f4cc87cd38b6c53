// SPDX-License-Identifier: Apache-2.0
// The pool's background threads (Boost.Thread): connectors, which run creates under backoff
// and connect_concurrency, and the maintenance thread (idle timeout, lifetime, keepalive,
// leak reports, time-driven health changes). Both sleep on the pool clock, so a FakeClock
// drives them in tests; Close() moves lifetime_ to stopping, interrupts and joins them.
#include <algorithm>
#include <boost/thread/thread.hpp>
#include <limits>

#include "pool/lease_timing.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

void Pool::MaintenanceLoop() {
  try {
    std::unique_lock<std::mutex> lk(mu_);
    // Anchored to the pool's creation, not to when this thread got scheduled.
    int64_t next = created_ns_ + cfg_.maintenance_interval_ms * 1'000'000;
    while (!lifetime_.stopping()) {
      const int64_t now = clock_->NowNs();
      if (now >= next) {
        lk.unlock();
        RunMaintenance();
        lk.lock();
        next = now + cfg_.maintenance_interval_ms * 1'000'000;
        continue;
      }
      WaitLocked(maintenance_cv_, lk, next);
    }
  } catch (const boost::thread_interrupted&) {
  }
}

void Pool::RunMaintenance() {
  const int64_t now = clock_->NowNs();
  int64_t idle_count = 0;
  int64_t warm_floor = 0;
  // At a capacity limit idle connections count as working until shown otherwise; without
  // traffic nothing would show it, so one idle connection per pass is validated as a canary
  // (a dead server then fails it, and the pool sees an outage: health/health_machine.h).
  bool canary = false;
  {
    std::unique_lock<std::mutex> lk(mu_);
    if (lifetime_.draining()) return;
    UpdateHealthLocked(now);
    CheckStallLocked(now);  // pool_stall.cpp
    // A release that raced a shrink may have left an idle connection above max_size.
    if (sizing_.over_capacity()) sizing_.TrimIdleLocked(lk);
    if (lifetime_.draining()) return;
    const SlotTable::Counts counts = slots_.Count();
    idle_count = static_cast<int64_t>(counts.idle);
    const uint64_t in_use = counts.in_use();
    sizing_.AdaptLocked(now, in_use);
    if (sizing_.over_capacity()) sizing_.TrimIdleLocked(lk);  // adaptive limit lowered
    if (lifetime_.draining()) return;
    warm_floor = sizing_.WarmFloorLocked();
    canary = has_validate_ && health_machine_.capacity_limited();
    logs_.FlushLocked(lk);
  }
  const uint32_t cap = slots_.Capacity();
  for (uint32_t i = 0; i < cap; ++i) {
    // Claim it before reading its plain fields.
    if (!slots_.ReserveIdle(i)) continue;
    Slot& s = SlotAt(i);
    int64_t idle_for = now - s.last_used_ns.load(std::memory_order_relaxed);
    Reason retire = Reason::kNone;
    if (s.expires_ns != 0 && now >= s.expires_ns) {
      retire = Reason::kLifetime;
    } else if (cfg_.idle_timeout_ms > 0 && idle_for >= cfg_.idle_timeout_ms * 1'000'000 &&
               idle_count > warm_floor) {
      retire = Reason::kIdle;
    } else if (const int64_t since_check =
                   // A use proves the connection as well as a validation does.
                   now - std::max(s.checked_ns, s.last_used_ns.load(std::memory_order_relaxed));
               has_validate_ && ((cfg_.validate_interval_ms > 0 && since_check >= cfg_.validate_interval_ms * 1'000'000) ||
                                 (canary && since_check >= cfg_.validation_idle_ms * 1'000'000))) {
      canary = false;
      // On a helper, bounded by validation_timeout_ms: a hung keepalive must not stop
      // maintenance (which also reports stalls).
      Connector::Checked c = connector_.ValidateForAcquire(i, SaturatingDeadline(clock_->NowNs(), cfg_.validation_timeout_ms), true);
      if (c == Connector::Checked::kGaveUp || c == Connector::Checked::kPoolClosing) {
        std::unique_lock<std::mutex> lk(mu_);
        if (c == Connector::Checked::kGaveUp) {
          lifetime_.Unpin();  // the pin taken for an acquirer; the helper owns the slot now
          continue;
        }
        lk.unlock();
        RetireOwned(i, Reason::kNone);
        continue;
      }
      if (c == Connector::Checked::kValid) {
        s.checked_ns = now;
      } else {
        counters_.validation_failures.fetch_add(1, std::memory_order_relaxed);
        retire = Reason::kValidation;
      }
    }
    if (retire != Reason::kNone) {
      --idle_count;
      RetireOwned(i, retire);  // Close() joins this thread before deleting, so this is safe
      continue;
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (lifetime_.draining()) {
      lk.unlock();
      RetireOwned(i, Reason::kNone);
      continue;
    }
    PutBackLocked(i);
  }
  LogLeaks(now);
  std::lock_guard<std::mutex> lk(mu_);
  connector_.WakeLocked();  // refill to min_idle if retirements left a gap
}

void Pool::LogLeaks(int64_t now_ns) {
  if (cfg_.leak_threshold_ms <= 0 || mux_) return;  // shared connections: not reported yet
  const uint32_t cap = slots_.Capacity();
  if (leak_logged_.size() < cap) leak_logged_.resize(cap, 0);
  const int64_t threshold = cfg_.leak_threshold_ms * 1'000'000;
  slots_.ForEach([&](uint32_t i, SlotWord w, const Slot& s) {
    if (i >= cap || w.state() != kLeased) return;  // a slot made since: next pass
    int64_t held = now_ns - StartNs(s.lease_start_ns.load(std::memory_order_relaxed));
    uint64_t lease = MakeLease(tag_, i, w.gen());
    if (held < threshold || leak_logged_[i] == lease) return;
    leak_logged_[i] = lease;  // once per lease
    Log(CONNPOOL_LOG_WARN, "pool '" + cfg_.name + "': lease " + std::to_string(lease) + " held for " +
                               std::to_string(held / 1'000'000) + " ms by thread " +
                               std::to_string(s.holder_thread.load(std::memory_order_relaxed)) +
                               " (leak_threshold_ms=" + std::to_string(cfg_.leak_threshold_ms) + ")");
  });
}

}  // namespace connpool
