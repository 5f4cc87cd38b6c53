// SPDX-License-Identifier: Apache-2.0
#include "recovery.h"

#include <algorithm>
#include <cmath>

namespace connpool {

int64_t ProbeSchedule::OutageDelayMs(uint64_t failures, double unit_random) const {
  if (probe_interval_ms <= 0) return backoff.DelayMs(failures, unit_random);
  const int64_t cap = probe_interval_ms;
  if (failures <= 1) {
    // Full jitter over the first interval: pools that failed together pick independent phases.
    // retry_jitter does not apply here; this spread is wider than any jitter fraction.
    const int64_t first = std::min(backoff.initial_ms, cap);
    return std::max<int64_t>(1, std::llround(unit_random * static_cast<double>(first)));
  }
  // Once the backoff reaches the cap, probes are exactly one interval apart: no jitter, so the
  // phase the first probe picked is kept and the rate is exactly one probe per interval.
  if (backoff.BaseDelayMs(failures) >= cap) return cap;
  return std::min(cap, backoff.DelayMs(failures, unit_random));
}

}  // namespace connpool
