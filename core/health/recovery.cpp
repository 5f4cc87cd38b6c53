// SPDX-License-Identifier: Apache-2.0
#include "health/recovery.h"

#include <algorithm>
#include <cmath>

namespace connpool {

int64_t ProbeSchedule::OutageDelayMs(uint64_t failures, double unit_random) const {
  if (probe_interval_ms <= 0) return backoff.DelayMs(failures, unit_random);
  const int64_t cap = probe_interval_ms;
  // Below the cap: the backoff as configured (jitter included), never more than the cap.
  if (backoff.BaseDelayMs(failures) < cap) return std::min(cap, backoff.DelayMs(failures, unit_random));
  // The first step that reaches the cap (the very first retry with the defaults, where
  // retry_initial_ms = probe_interval_ms): full jitter over one interval, so pools that failed
  // together pick independent, uniformly spread phases; retry_jitter's +-20 % would leave
  // them within a few hundred ms of each other.
  if (failures <= 1 || backoff.BaseDelayMs(failures - 1) < cap)
    return std::max<int64_t>(1, std::llround(unit_random * static_cast<double>(cap)));
  // Then exactly one interval apart: no jitter, so each pool keeps its phase and the rate is
  // exactly one probe per interval.
  return cap;
}

}  // namespace connpool
