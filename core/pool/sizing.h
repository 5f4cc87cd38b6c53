// SPDX-License-Identifier: Apache-2.0
// Sizing - how many connections a pool may have and keeps warm: max_size and min_idle as
// connpool_pool_resize sets them, the shrink that follows a smaller max_size, and adaptive
// sizing's limit (sizing/adaptive_feed.h) when the config turns it on.
//
// What it owns: the current max_size and min_idle (cfg_ keeps the values the pool was made
// with), the over-capacity flag the release path reads, the count of shrink retirements under
// way, and the adaptive feed. How a resize and a shrink behave: sizing.cpp.
//
// Requirements: one per Pool, built with it; the *Locked members and Resize's update run under
// the pool's mutex (Pool::mu_), which guards everything but the atomics; max_size(),
// min_idle() and over_capacity() may be read anywhere.
#ifndef CONNPOOL_CORE_POOL_SIZING_H
#define CONNPOOL_CORE_POOL_SIZING_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"
#include "sizing/adaptive_feed.h"
#include "util/status.h"

namespace connpool {

class Pool;

class Sizing {
 public:
  Sizing(Pool& pool, const Config& cfg)
      : pool_(pool),
        max_size_(cfg.max_size),
        min_idle_(cfg.min_idle),
        adaptive_(cfg.adaptive_sizing ? std::make_unique<AdaptiveFeed>(cfg.adaptive_target_wait_ms, cfg.min_idle)
                                      : nullptr) {}
  Sizing(const Sizing&) = delete;
  Sizing& operator=(const Sizing&) = delete;

  // Pool::Resize: new min_idle and max_size, checked like the config keys.
  Status Resize(int64_t min_idle, int64_t max_size, std::string* err);
  int64_t max_size() const { return max_size_.load(std::memory_order_relaxed); }
  int64_t min_idle() const { return min_idle_.load(std::memory_order_relaxed); }
  // Set while more connections are live than max_size (after a shrink): releases then leave
  // the one-CAS path so that the connection can be retired.
  bool over_capacity(std::memory_order order = std::memory_order_relaxed) const {
    return over_capacity_.load(order);
  }

  // over_capacity = live connections not already being retired exceed max_size.
  void UpdateOverCapacityLocked();
  // True when the pool is over max_size: the caller, which owns a slot with a connection,
  // must retire it with Reason::kShrink (counted in shrink_pending_ until it is emptied).
  bool TakeShrinkLocked();
  // A kShrink retirement is over (its slot emptied).
  void ShrinkDoneLocked() { --shrink_pending_; }
  // Retires idle connections while the pool is over max_size (unlocks around destroys).
  void TrimIdleLocked(std::unique_lock<std::mutex>& lk);
  // The number of idle connections the background threads keep warm.
  int64_t WarmFloorLocked() const;
  // The cap on live connections: max_size, or with adaptive sizing its limit (at most max_size).
  int64_t LiveCapLocked() const;
  // One adaptive sizing step from what happened since the last one (maintenance pass).
  void AdaptLocked(int64_t now_ns, uint64_t in_use);
  // Null when adaptive sizing is off.
  const AdaptiveFeed* adaptive_locked() const { return adaptive_.get(); }

 private:
  Pool& pool_;
  std::atomic<bool> over_capacity_{false};  // written under mu_
  std::atomic<int64_t> max_size_;           // written under mu_
  std::atomic<int64_t> min_idle_;           // written under mu_
  int64_t shrink_pending_ = 0;              // kShrink retirements under way
  std::unique_ptr<AdaptiveFeed> adaptive_;
};

}  // namespace connpool

#endif
