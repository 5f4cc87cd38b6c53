// SPDX-License-Identifier: Apache-2.0
// Adaptive sizing (config adaptive_sizing): moves the pool's adaptive size between min_idle and
// max_size from what callers and the backend did in the last maintenance interval. The size is
// both the warm floor (idle connections the connectors keep ready) and the cap on live
// connections (at least 1): callers beyond it wait, as under a concurrency limit. A pure state
// machine, fed one Sample per maintenance pass, so it is tested with scripted loads and no pool.
//
// Growth must pay (a gradient test, as in Netflix's concurrency-limits): a pool that grows
// because the database got slow makes it slower (HikariCP #320), so waiting alone is no reason.
//   * a pass is "hot" when acquires waited longer than the target on average, an acquire
//     timed out, or callers are queued; it is "calm" when the mean wait is at most half the
//     target, nothing timed out or waits, and the floor is more than twice what is in use;
//     anything between is a dead band that resets both streaks;
//   * after kRaiseAfter hot passes in a row the size is raised by a quarter (at least one): a
//     probe. Throughput (leases completed per second) over the kProbePasses passes after it
//     must beat the throughput of the passes before it by kGainPct; if it does, the raise is
//     kept and the size before it becomes a rung of the ladder (size, throughput, mean hold);
//     if not, the size goes back and is remembered as the knee: no probe above it for
//     kReprobeAfter passes (then one, so a database that got faster is used again). A probe
//     with no lease completed in its window cannot be judged: the raise is kept, unrecorded;
//   * shrink (Vegas-like): when the mean hold time exceeds kHoldRatio times the best one on
//     the ladder while throughput is not kGainPct above the rung below, for kShrinkAfter
//     passes in a row, the size goes back to the smallest rung that delivered this throughput
//     (the knee). While that holds, hot passes raise nothing;
//   * the floor falls after kLowerAfter calm passes in a row, by one: up by proof, down slowly.
// A hot/calm alternation never completes a streak, so it changes nothing.
#ifndef CONNPOOL_CORE_ADAPTIVE_SIZER_H
#define CONNPOOL_CORE_ADAPTIVE_SIZER_H

#include <cstdint>
#include <string>
#include <vector>

namespace connpool {

class AdaptiveSizer {
 public:
  static constexpr int kRaiseAfter = 2;
  static constexpr int kLowerAfter = 10;
  // Passes after a raise whose throughput judges it; the same passes can form the hot streak
  // for the next raise, so a pool whose throughput keeps rising grows every kProbePasses.
  static constexpr int kProbePasses = 2;
  // A raise must lift throughput by 10 %: the smallest step (+1 at size 7) lifts a backend
  // that scales by 14 %, so only a flattening gradient (or noise above 10 %) fails it.
  static constexpr int kGainPct = 10;
  // Vegas-like: a mean hold 1.5 times the best on the ladder is queueing in the backend.
  static constexpr double kHoldRatio = 1.5;
  static constexpr int kShrinkAfter = 3;
  // After a raise above the knee failed: 60 passes (a minute at the default interval) before
  // the next probe, so a slow database pays for one probe a minute (2 of 60 passes).
  static constexpr int kReprobeAfter = 60;

  // What happened since the previous pass.
  struct Sample {
    uint64_t acquires = 0;     // leases issued
    uint64_t wait_us_sum = 0;  // total time those acquires waited
    uint64_t timeouts = 0;     // acquires that gave up
    uint64_t waiters = 0;      // queued right now
    uint64_t in_use = 0;       // leased right now
    uint64_t completed = 0;    // leases given back
    uint64_t hold_us_sum = 0;  // total time those leases were held
    int64_t elapsed_ns = 0;    // length of the interval; <= 0: unknown, taken as one second
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
  // The warm floor; the pool's cap on live connections is limit().
  int64_t floor() const { return floor_; }
  int64_t limit() const { return floor_ > 1 ? floor_ : 1; }
  // The size above which raises did not pay off, or -1 when none is known (or it expired).
  int64_t knee() const { return knee_ >= 0 && pass_ < knee_until_ ? knee_ : -1; }
  // Keeps the floor within new bounds (after a resize); returns true if it moved.
  bool Clamp(int64_t min_idle, int64_t max_size);

  static const char* ActionName(Action a);

 private:
  // Leases completed and held over some passes.
  struct Window {
    uint64_t completed = 0, hold_us_sum = 0;
    int64_t elapsed_ns = 0;
    void Add(const Window& w);
    double PerSecond() const;
    double MeanHoldUs() const;
  };
  struct Rung {
    int64_t size;
    Window w;
  };
  Window Recent() const;
  void SizeChanged();  // forgets measurements taken at the old size
  Decision Finish(Decision d, Action a, std::string reason);

  int64_t target_us_;
  int64_t floor_;
  int hot_streak_ = 0;
  int calm_streak_ = 0;
  int shrink_streak_ = 0;
  int64_t pass_ = 0;
  std::vector<Window> recent_;  // the last kRaiseAfter passes at this size, oldest first
  bool probing_ = false;        // a raise is being judged
  Rung probe_base_{0, {}};      // the size before it and what it delivered
  int probe_passes_ = 0;
  std::vector<Rung> ladder_;    // sizes below floor_ whose raise paid off, ascending
  int64_t knee_ = -1;
  int64_t knee_until_ = 0;      // pass_ at which a probe above knee_ is allowed again
};

}  // namespace connpool

#endif
