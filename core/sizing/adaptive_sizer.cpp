// SPDX-License-Identifier: Apache-2.0
#include "sizing/adaptive_sizer.h"

#include <algorithm>

namespace connpool {

const char* AdaptiveSizer::ActionName(Action a) {
  switch (a) {
    case Action::kRaise: return "raise";
    case Action::kLower: return "lower";
    case Action::kHold: break;
  }
  return "hold";
}

bool AdaptiveSizer::Clamp(int64_t min_idle, int64_t max_size) {
  int64_t f = std::clamp(floor_, min_idle, std::max(min_idle, max_size));
  bool moved = f != floor_;
  floor_ = f;
  return moved;
}

AdaptiveSizer::Decision AdaptiveSizer::Step(const Sample& s) {
  Clamp(s.min_idle, s.max_size);
  Decision d;
  d.from = d.to = floor_;
  const uint64_t mean_us = s.acquires > 0 ? s.wait_us_sum / s.acquires : 0;
  const std::string wait_text = "mean wait " + std::to_string(mean_us / 1000) + "." +
                                std::to_string(mean_us % 1000 / 100) + " ms (target " +
                                std::to_string(target_us_ / 1000) + " ms)";
  const bool hot = mean_us > static_cast<uint64_t>(target_us_) || s.timeouts > 0 || s.waiters > 0;
  const bool calm = !hot && mean_us * 2 <= static_cast<uint64_t>(target_us_) &&
                    static_cast<int64_t>(s.in_use) * 2 < floor_;
  std::string why;
  if (hot) {
    why = wait_text + ", " + std::to_string(s.timeouts) + " timeouts, " + std::to_string(s.waiters) + " waiting";
    calm_streak_ = 0;
    ++hot_streak_;
  } else if (calm) {
    why = wait_text + ", " + std::to_string(s.in_use) + " in use";
    hot_streak_ = 0;
    ++calm_streak_;
  } else {
    why = wait_text + ", " + std::to_string(s.in_use) + " in use: within the band";
    hot_streak_ = calm_streak_ = 0;
  }

  if (hot && hot_streak_ >= kRaiseAfter && floor_ < s.max_size) {
    int64_t want = std::max(floor_ + std::max<int64_t>(1, floor_ / 2), static_cast<int64_t>(s.in_use + s.waiters));
    floor_ = std::min(want, s.max_size);
    hot_streak_ = 0;
    d.action = Action::kRaise;
    d.reason = why + " for " + std::to_string(kRaiseAfter) + " passes";
  } else if (calm && calm_streak_ >= kLowerAfter && floor_ > s.min_idle) {
    floor_ -= 1;
    calm_streak_ = 0;
    d.action = Action::kLower;
    d.reason = why + " for " + std::to_string(kLowerAfter) + " passes";
  } else {
    d.reason = why;
    if (hot) d.reason += floor_ >= s.max_size ? " (floor at max_size)" : " (hot " + std::to_string(hot_streak_) + "/" + std::to_string(kRaiseAfter) + ")";
    if (calm) d.reason += floor_ <= s.min_idle ? " (floor at min_idle)" : " (calm " + std::to_string(calm_streak_) + "/" + std::to_string(kLowerAfter) + ")";
  }
  d.to = floor_;
  return d;
}

}  // namespace connpool
