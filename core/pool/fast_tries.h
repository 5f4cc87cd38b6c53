// SPDX-License-Identifier: Apache-2.0
// FastTries - the lock-free tries behind connpool_try_acquire_fast, connpool_acquire_claimed
// and connpool_try_release_fast: Acquire's and Release's fast paths cut off before anything
// that could block, for callers that must not block at all (fast_tries.cpp says why and what
// each declines).
//
// What it owns: nothing. It is the pool's fast path seen from outside, so it reads the pool's
// slots, traits and sizing the way Acquire and Release do (Pool befriends it); Pool's public
// TryAcquireFast, AcquireClaimed and TryReleaseFast forward here.
//
// Requirements: no lock held by the caller; TryAcquire and TryRelease take none either.
// FinishClaimed may block as Acquire does (it goes on as Acquire).
#ifndef CONNPOOL_CORE_POOL_FAST_TRIES_H
#define CONNPOOL_CORE_POOL_FAST_TRIES_H

#include <cstdint>

#include "util/status.h"

namespace connpool {

class Pool;

class FastTries {
 public:
  static Status TryAcquire(Pool& p, int priority, uint64_t* lease, void** conn);
  static Status FinishClaimed(Pool& p, uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  static Status TryRelease(Pool& p, uint64_t lease);
};

}  // namespace connpool

#endif
