// SPDX-License-Identifier: Apache-2.0
// Monotonic time for the pool, injectable so tests drive time instead of sleeping.
//
// Every deadline, backoff, lifetime and idle decision reads a Clock. The real one is
// SteadyClock. FakeClock only moves when a test calls Advance(); it then calls each listener
// so that threads sleeping on a deadline wake up and compare it with the new time.
#ifndef CONNPOOL_CORE_CLOCK_H
#define CONNPOOL_CORE_CLOCK_H

#include <atomic>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <vector>

namespace connpool {

// Told when a fake clock moves. Called with no pool lock held by the clock.
class ClockListener {
 public:
  virtual void OnClockAdvanced() = 0;

 protected:
  ~ClockListener() = default;
};

// now + timeout, clamped so that huge timeouts (INT64_MAX ms) mean "practically forever"
// instead of overflowing.
inline int64_t SaturatingDeadline(int64_t now_ns, int64_t timeout_ms) {
  const int64_t max = INT64_MAX;
  if (timeout_ms >= (max - now_ns) / 1'000'000) return max - 1;
  return now_ns + timeout_ms * 1'000'000;
}

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds on a monotonic scale; precise.
  virtual int64_t NowNs() const = 0;
  // Cheap reading for bookkeeping on the hot path (a few ms of resolution is enough for
  // lifetimes, idle times and leak ages).
  virtual int64_t CoarseNowNs() const { return NowNs(); }
  // How far apart CoarseNowNs() readings step (1 when it is as precise as NowNs()).
  virtual int64_t CoarseTickNs() const { return 1; }
  // True when the clock only moves through Advance(): sleepers then wait for a listener call
  // instead of a real timeout.
  virtual bool IsFake() const { return false; }
  virtual void AddListener(ClockListener*) {}
  virtual void RemoveListener(ClockListener*) {}
};

// CLOCK_MONOTONIC_COARSE in ns: what SteadyClock::CoarseNowNs returns, inline, so that a pool
// on the SteadyClock reads it on its hot path without a virtual call and two call levels
// (together a third of the cost of the read itself).
inline int64_t ReadCoarseMonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class SteadyClock final : public Clock {
 public:
  int64_t NowNs() const override;
  int64_t CoarseNowNs() const override;
  int64_t CoarseTickNs() const override;
  // The process-wide instance; never destroyed, so pools may outlive static destructors.
  static const Clock* Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  int64_t NowNs() const override { return now_.load(std::memory_order_acquire); }
  // With a tick set, CoarseNowNs() steps like a kernel's coarse clock (tests of what the hot
  // path can and cannot see); by default it equals NowNs().
  int64_t CoarseNowNs() const override {
    const int64_t now = NowNs(), tick = coarse_tick_.load(std::memory_order_relaxed);
    return tick > 1 ? now - now % tick : now;
  }
  int64_t CoarseTickNs() const override {
    const int64_t tick = coarse_tick_.load(std::memory_order_relaxed);
    return tick > 1 ? tick : 1;
  }
  void SetCoarseTickNs(int64_t tick) { coarse_tick_.store(tick, std::memory_order_relaxed); }
  bool IsFake() const override { return true; }
  void AddListener(ClockListener* l) override;
  void RemoveListener(ClockListener* l) override;

  void Advance(int64_t ns);
  void AdvanceMs(int64_t ms) { Advance(ms * 1'000'000); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> coarse_tick_{0};
  std::mutex mu_;                          // guards listeners_; held while notifying them
  std::vector<ClockListener*> listeners_;  // guarded by mu_
};

}  // namespace connpool

#endif
