// SPDX-License-Identifier: Apache-2.0
#include "health/backoff.h"

#include <algorithm>
#include <cmath>

namespace connpool {

int64_t BackoffPolicy::BaseDelayMs(uint64_t failures) const {
  if (failures == 0) return 0;
  double d = static_cast<double>(initial_ms);
  // Stop multiplying once past the cap: keeps the loop short and the double finite.
  for (uint64_t i = 1; i < failures && d < static_cast<double>(max_ms); ++i) d *= multiplier;
  return static_cast<int64_t>(std::min(d, static_cast<double>(max_ms)));
}

int64_t BackoffPolicy::DelayMs(uint64_t failures, double unit_random) const {
  double base = static_cast<double>(BaseDelayMs(failures));
  double factor = 1.0 + jitter * (2.0 * unit_random - 1.0);
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(base * factor)));
}

}  // namespace connpool
