// SPDX-License-Identifier: Apache-2.0
#include "sizing/adaptive_feed.h"

#include <algorithm>

namespace connpool {

namespace {
uint64_t Since(uint64_t now, uint64_t before) { return now - std::min(now, before); }
}  // namespace

AdaptiveSizer::Decision AdaptiveFeed::Step(int64_t now_ns, const Totals& t, const Now& now) {
  AdaptiveSizer::Sample s;
  s.acquires = Since(t.acquired, prev_.acquired);
  s.wait_us_sum = Since(t.wait_us, prev_.wait_us);
  s.timeouts = Since(t.timeouts, prev_.timeouts);
  s.waiters = now.waiters;
  s.in_use = now.in_use;
  s.completed = Since(t.completed, prev_.completed);
  s.hold_us_sum = Since(t.hold_us, prev_.hold_us);
  s.elapsed_ns = prev_ns_ >= 0 ? now_ns - prev_ns_ : 0;
  s.min_idle = now.min_idle;
  s.max_size = now.max_size;
  prev_ = t;
  prev_ns_ = now_ns;
  AdaptiveSizer::Decision d = sizer_.Step(s);
  last_decision_ = {d, now_ns};
  if (d.from != d.to) last_change_ = {d, now_ns};
  return d;
}

}  // namespace connpool
