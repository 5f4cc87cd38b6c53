// SPDX-License-Identifier: Apache-2.0
// Exponential backoff with jitter for reconnect attempts.
//
// The n-th consecutive failure (n >= 1) waits initial * multiplier^(n-1), capped at max, then
// scaled by a random factor in [1 - jitter, 1 + jitter] so that a fleet of services restarting
// together does not reconnect in lock-step. Pure arithmetic: the caller supplies the random
// number, so tests check exact bounds.
#ifndef CONNPOOL_CORE_BACKOFF_H
#define CONNPOOL_CORE_BACKOFF_H

#include <cstdint>

namespace connpool {

struct BackoffPolicy {
  int64_t initial_ms = 1000;
  int64_t max_ms = 60000;
  double multiplier = 2.0;
  double jitter = 0.2;

  // Delay before the attempt that follows the `failures`-th consecutive failure, before jitter.
  int64_t BaseDelayMs(uint64_t failures) const;
  // The same with jitter applied; `unit_random` is uniform in [0, 1).
  int64_t DelayMs(uint64_t failures, double unit_random) const;
};

}  // namespace connpool

#endif
