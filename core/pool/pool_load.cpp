// SPDX-License-Identifier: Apache-2.0
// Pool::Load(): a cheap busyness reading that lets a group pick the least loaded replica
// without taking the pool's mutex (Snapshot() would, and would build a whole report).
#include "pool/pool.h"

namespace connpool {

double Pool::Load() const {
  const uint64_t busy = waiters_count_.load(std::memory_order_relaxed) + slots_.Count().in_use();
  // Relative to max_size (as resized) so that a big replica and a small one compare fairly.
  const int64_t max = max_size();
  return static_cast<double>(busy) / static_cast<double>(max > 0 ? max : 1);
}

}  // namespace connpool
