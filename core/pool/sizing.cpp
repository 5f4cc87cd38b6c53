// SPDX-License-Identifier: Apache-2.0
// Runtime resize (connpool_pool_resize). max_size_ and min_idle_ replace cfg_'s values for
// every sizing decision. Growing only needs the connectors woken: waiters are demand and the
// new cap lets them create. Shrinking never takes a lease back: idle connections above the new
// max_size are retired at once, and while more are live than max_size (over_capacity_) every
// release leaves the one-CAS path and retires its connection instead of keeping it.
// With adaptive sizing the cap is the sizer's limit (LiveCapLocked, never above max_size), and
// a limit the sizer lowers shrinks the pool the same way.
//
// Slots: indices are bounded by kMaxPoolSize, not by max_size; the chunk table is sized for
// kMaxPoolSize up front and a chunk is published before the capacity_ that covers it
// (ReserveSlotLocked), so growing past the initial max_size is safe for lock-free scanners.
#include <algorithm>

#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

int64_t Sizing::WarmFloorLocked() const {
  int64_t floor = min_idle_.load(std::memory_order_relaxed);
  if (adaptive_) floor = std::max(floor, adaptive_->sizer().floor());
  return std::min(floor, max_size_.load(std::memory_order_relaxed));
}

int64_t Sizing::LiveCapLocked() const {
  const int64_t max = max_size_.load(std::memory_order_relaxed);
  return adaptive_ ? std::min(max, adaptive_->sizer().limit()) : max;
}

void Sizing::AdaptLocked(int64_t now_ns, uint64_t in_use) {
  if (!adaptive_) return;
  AdaptiveFeed::Totals totals;
  totals.acquired = pool_.AcquiredTotal();
  totals.wait_us = pool_.metrics_.acquire_wait_us.Sum();
  totals.timeouts = pool_.metrics_.counters.timeouts.load(std::memory_order_relaxed);
  // Leases given back so far: issued minus out now (as Snapshot() counts lease holds); their
  // hold times are in metrics_.lease_hold_us (a lease over its thread's timing budget counts as 0).
  const uint64_t out = pool_.traits_.mux ? static_cast<uint64_t>(pool_.shared_.leases_out_locked()) : in_use;
  totals.completed = totals.acquired - std::min(totals.acquired, out);
  totals.hold_us = pool_.metrics_.lease_hold_us.Sum();
  AdaptiveFeed::Now seen;
  seen.waiters = pool_.queue_.Size();
  seen.in_use = out;
  seen.min_idle = min_idle_.load(std::memory_order_relaxed);
  seen.max_size = max_size_.load(std::memory_order_relaxed);
  const AdaptiveSizer::Decision d = adaptive_->Step(now_ns, totals, seen);
  if (d.from == d.to) return;
  // A lower limit leaves the pool over its cap: releases retire the extra connections, and
  // the maintenance pass closes idle ones (never a lease). A higher one is filled at once.
  UpdateOverCapacityLocked();
  pool_.connector_.WakeLocked();
  if (LogEnabled())
    pool_.logs_.AddLocked(CONNPOOL_LOG_INFO, "pool '" + pool_.cfg_.name + "': adaptive sizing " +
                                                 AdaptiveSizer::ActionName(d.action) + "s the warm floor " +
                                                 std::to_string(d.from) + " -> " + std::to_string(d.to) + " (" +
                                                 d.reason + ")");
}

void Sizing::UpdateOverCapacityLocked() {
  bool over = pool_.live_ - shrink_pending_ > LiveCapLocked();
  if (over != over_capacity_.load(std::memory_order_relaxed)) over_capacity_.store(over, std::memory_order_seq_cst);
}

bool Sizing::TakeShrinkLocked() {
  if (pool_.live_ - shrink_pending_ <= LiveCapLocked()) return false;
  ++shrink_pending_;
  UpdateOverCapacityLocked();
  return true;
}

void Sizing::TrimIdleLocked(std::unique_lock<std::mutex>& lk) {
  std::vector<uint32_t> taken;
  const uint32_t cap = pool_.slots_.Capacity();
  // From the top, so the low slot indices (which acquires scan first) stay populated.
  for (uint32_t i = cap; i-- > 0 && pool_.live_ - shrink_pending_ > LiveCapLocked();) {
    if (!pool_.slots_.ReserveIdle(i)) continue;
    taken.push_back(i);
    ++shrink_pending_;
  }
  UpdateOverCapacityLocked();
  if (taken.empty()) return;
  // Pinned: the pool stays alive while we destroy without the lock.
  pool_.lifetime_.RunUnlockedPinned(lk, [&] {
    for (uint32_t i : taken) pool_.SafeDestroy(pool_.SlotAt(i).conn);
  });
  for (uint32_t i : taken) pool_.SlotEmptiedLocked(i, Pool::Reason::kShrink);
}

Status Sizing::Resize(int64_t min_idle, int64_t max_size, std::string* err) {
  const KeySpec* max_key = FindKey("max_size");
  const KeySpec* min_key = FindKey("min_idle");
  if (max_size < max_key->min || max_size > max_key->max) {
    *err = "max_size " + std::to_string(max_size) + " is out of range (allowed: " + RangeText(*max_key) + ")";
    return Status::kEINVAL;
  }
  if (min_idle < min_key->min || min_idle > min_key->max) {
    *err = "min_idle " + std::to_string(min_idle) + " is out of range (allowed: " + RangeText(*min_key) + ")";
    return Status::kEINVAL;
  }
  if (min_idle > max_size) {
    *err = "min_idle (" + std::to_string(min_idle) + ") must not exceed max_size (" + std::to_string(max_size) + ")";
    return Status::kEINVAL;
  }
  std::unique_lock<std::mutex> lk(pool_.mu_);
  if (pool_.lifetime_.draining()) {
    *err = "the pool is draining or closed";
    return Status::kECLOSED;
  }
  const int64_t old_max = max_size_.load(std::memory_order_relaxed);
  const int64_t old_min = min_idle_.load(std::memory_order_relaxed);
  max_size_.store(max_size, std::memory_order_relaxed);
  min_idle_.store(min_idle, std::memory_order_relaxed);
  UpdateOverCapacityLocked();
  if (adaptive_) adaptive_->sizer().Clamp(min_idle, max_size);
  if (LogEnabled())
    pool_.logs_.AddLocked(CONNPOOL_LOG_INFO, "pool '" + pool_.cfg_.name + "': resized min_idle " +
                                                 std::to_string(old_min) + " -> " + std::to_string(min_idle) +
                                                 ", max_size " + std::to_string(old_max) + " -> " +
                                                 std::to_string(max_size));
  if (over_capacity_.load(std::memory_order_relaxed)) TrimIdleLocked(lk);
  pool_.connector_.WakeLocked();  // growing: waiters and the warm floor may create now
  pool_.maintenance_.WakeLocked();
  const bool del = pool_.ShouldDeleteLocked();
  pool_.UnlockDeliverMaybeDelete(lk, del);
  return Status::kOK;
}

}  // namespace connpool
