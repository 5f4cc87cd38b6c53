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

#include "util/coarse_ticker.h"

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
  // A word that holds CoarseNowNs(), for a reader that cannot afford a virtual call (the
  // pool's fast path): one relaxed load. A 0 in it means "call CoarseNowNs()"; nullptr means
  // the clock keeps no such word. Valid for the clock's life.
  virtual const std::atomic<int64_t>* CoarseWord() const { return nullptr; }
};

// The process's coarse monotonic time, inline, so that a pool on the SteadyClock reads it on
// its hot path without a virtual call: the ticker's word (coarse_ticker.h; one relaxed load)
// while a ticker runs, which it does while any pool uses the SteadyClock, else the kernel's
// CLOCK_MONOTONIC_COARSE. What SteadyClock::CoarseNowNs returns.
inline int64_t ReadCoarseMonotonicNs() {
  const int64_t t = CoarseTicker::Load();
  return __builtin_expect(t != 0, 1) ? t : ReadKernelCoarseNs();
}

class SteadyClock final : public Clock {
 public:
  int64_t NowNs() const override;
  int64_t CoarseNowNs() const override;
  int64_t CoarseTickNs() const override;
  // Its listeners are never called (it moves by itself); each holds a reference on the
  // coarse ticker instead, so that one runs while any pool uses this clock.
  void AddListener(ClockListener*) override { CoarseTicker::Retain(); }
  void RemoveListener(ClockListener*) override { CoarseTicker::Release(); }
  const std::atomic<int64_t>* CoarseWord() const override { return CoarseTicker::Word(); }
  // The process-wide instance; never destroyed, so pools may outlive static destructors.
  static const Clock* Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ns = 1'000'000'000) : now_(start_ns), coarse_(start_ns) {}
  int64_t NowNs() const override { return now_.load(std::memory_order_acquire); }
  // With a tick set, CoarseNowNs() steps like a kernel's coarse clock (tests of what the hot
  // path can and cannot see); by default it equals NowNs(). Kept in a word (CoarseWord) that
  // every change of the time or the tick updates, so that pools read it like the steady one.
  int64_t CoarseNowNs() const override { return coarse_.load(std::memory_order_acquire); }
  int64_t CoarseTickNs() const override {
    const int64_t tick = coarse_tick_.load(std::memory_order_relaxed);
    return tick > 1 ? tick : 1;
  }
  void SetCoarseTickNs(int64_t tick);
  bool IsFake() const override { return true; }
  void AddListener(ClockListener* l) override;
  void RemoveListener(ClockListener* l) override;
  const std::atomic<int64_t>* CoarseWord() const override { return &coarse_; }

  void Advance(int64_t ns);
  void AdvanceMs(int64_t ms) { Advance(ms * 1'000'000); }

 private:
  void UpdateCoarseLocked();

  std::atomic<int64_t> now_;
  std::atomic<int64_t> coarse_;  // now_ rounded down to the tick; written under mu_
  std::atomic<int64_t> coarse_tick_{0};
  std::mutex mu_;                          // guards listeners_ and the writes of coarse_; held while notifying
  std::vector<ClockListener*> listeners_;  // guarded by mu_
};

}  // namespace connpool

#endif
