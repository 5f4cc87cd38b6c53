// SPDX-License-Identifier: Apache-2.0
// Pool::Load(): a cheap busyness reading that lets a group pick the least loaded replica
// without taking the pool's mutex (Snapshot() would, and would build a whole report).
#include "pool/pool.h"

namespace connpool {

double Pool::Load() const {
  uint64_t busy = waiters_count_.load(std::memory_order_relaxed);
  const uint32_t cap = capacity_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < cap; ++i) {
    uint64_t st = StateOf(SlotAt(i).word.load(std::memory_order_relaxed));
    if (st == kLeased || st == kReturning) ++busy;
  }
  // Relative to max_size (as resized) so that a big replica and a small one compare fairly.
  const int64_t max = max_size();
  return static_cast<double>(busy) / static_cast<double>(max > 0 ? max : 1);
}

}  // namespace connpool
