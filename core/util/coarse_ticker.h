// SPDX-License-Identifier: Apache-2.0
// CoarseTicker - the process's coarse monotonic time kept in one shared word, so that the hot
// path reads the time with one relaxed load instead of a clock call.
//
// Why: an uncontended acquire+release read CLOCK_MONOTONIC_COARSE twice; each read is a call
// through the PLT into glibc and the vDSO (a seqlock read of the kernel's time page), together
// about a quarter of the cycle's time (perf, bench/profile_hot_path.sh) and 40 of its
// instructions (callgrind). The word gives the same readings for one load.
//
// What: while anyone holds a reference (Retain/Release; SteadyClock takes one per listener,
// i.e. per pool on the steady clock), one thread stores CLOCK_MONOTONIC_COARSE into the word
// every coarse tick (clock_getres, 4 ms on a HZ=250 kernel, clamped to 1-10 ms). Readers get
// the newest stored reading: the kernel's coarse time, lagging it by under one more tick plus
// the ticker's scheduling delay. Every user already tolerates a coarse clock's lag (lifetimes,
// idle times, leak ages, which leases get timed); none needs it to be tight.
//
// Guarantees:
//   * Load() is 0 when no ticker runs (no reference, or in the child of a fork, where the
//     ticker thread does not exist); ReadCoarseMonotonicNs (clock.h) then reads the kernel
//     itself. While a reference is held in the process that took it, Load() is never 0:
//     Retain stores a first reading before it returns.
//   * Same scale as CLOCK_MONOTONIC_COARSE and CLOCK_MONOTONIC, never ahead of either: every
//     stored value is a kernel coarse reading taken before the store.
//   * The stores come in order and are kernel coarse readings, so one reader's loads never go
//     backwards (coherence of one atomic), and neither does its fallback to the kernel when
//     the ticker stops (the kernel's coarse time is at least any earlier reading of it).
//   * Relaxed: the word orders nothing; it is a value like a clock reading.
// Lifetime: Release of the last reference stops the thread and joins it (woken at once, not
// at its next tick), so the library can be unloaded once its pools are gone.
#ifndef CONNPOOL_CORE_UTIL_COARSE_TICKER_H
#define CONNPOOL_CORE_UTIL_COARSE_TICKER_H

#include <atomic>
#include <cstdint>
#include <ctime>

namespace connpool {

// CLOCK_MONOTONIC_COARSE in ns, from the kernel (vDSO).
inline int64_t ReadKernelCoarseNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class CoarseTicker {
 public:
  // The newest coarse reading the ticker stored; 0 when no ticker runs.
  static int64_t Load() { return word_.load(std::memory_order_relaxed); }
  // The word itself (Clock::CoarseWord).
  static const std::atomic<int64_t>* Word() { return &word_; }
  // Starts the ticker on the first reference (and stores a first reading before returning).
  static void Retain();
  // Stops and joins the ticker when the last reference goes.
  static void Release();
  // How far apart the ticker's readings step (the kernel coarse clock's resolution).
  static int64_t TickNs();

 private:
  static inline std::atomic<int64_t> word_{0};
  friend class CoarseTickerThread;
};

}  // namespace connpool

#endif
