// SPDX-License-Identifier: Apache-2.0
// Adaptive sizing (config adaptive_sizing): moves the pool's warm floor (the idle connections
// the connectors keep ready) between min_idle and max_size from what callers experienced in
// the last maintenance interval. A pure state machine, fed one Sample per maintenance pass,
// so it is tested with scripted loads and no pool at all.
//
// Hysteresis, so a noisy signal does not flap:
//   * a pass is "hot" when acquires waited longer than the target on average, an acquire
//     timed out, or callers are queued; it is "calm" when the mean wait is at most half the
//     target, nothing timed out or waits, and the floor is more than twice what is in use;
//     anything between is a dead band that resets both streaks;
//   * the floor rises after kRaiseAfter hot passes in a row (by half, at least by one, at
//     least to what is in use plus waiting), and falls after kLowerAfter calm passes in a
//     row, by one: up fast, down slowly.
// A hot/calm alternation never completes a streak, so it changes nothing.
#ifndef CONNPOOL_CORE_ADAPTIVE_SIZER_H
#define CONNPOOL_CORE_ADAPTIVE_SIZER_H

#include <cstdint>
#include <string>

namespace connpool {

class AdaptiveSizer {
 public:
  static constexpr int kRaiseAfter = 2;
  static constexpr int kLowerAfter = 10;

  // What happened since the previous pass.
  struct Sample {
    uint64_t acquires = 0;     // leases issued
    uint64_t wait_us_sum = 0;  // total time those acquires waited
    uint64_t timeouts = 0;     // acquires that gave up
    uint64_t waiters = 0;      // queued right now
    uint64_t in_use = 0;       // leased right now
    int64_t min_idle = 0;      // current bounds (connpool_pool_resize may move them)
    int64_t max_size = 1;
  };
  enum class Action { kHold, kRaise, kLower };
  struct Decision {
    Action action = Action::kHold;
    int64_t from = 0, to = 0;  // the floor before and after
    std::string reason;
  };

  AdaptiveSizer(int64_t target_wait_ms, int64_t initial_floor)
      : target_us_(target_wait_ms * 1000), floor_(initial_floor) {}

  Decision Step(const Sample& s);
  int64_t floor() const { return floor_; }
  // Keeps the floor within new bounds (after a resize); returns true if it moved.
  bool Clamp(int64_t min_idle, int64_t max_size);

  static const char* ActionName(Action a);

 private:
  int64_t target_us_;
  int64_t floor_;
  int hot_streak_ = 0;
  int calm_streak_ = 0;
};

}  // namespace connpool

#endif
