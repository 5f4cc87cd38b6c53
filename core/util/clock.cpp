// SPDX-License-Identifier: Apache-2.0
#include "util/clock.h"

#include <algorithm>
#include <ctime>

namespace connpool {

namespace {
int64_t ReadNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

int64_t SteadyClock::NowNs() const { return ReadNs(CLOCK_MONOTONIC); }

// CLOCK_MONOTONIC_COARSE is served from the vDSO without reading the TSC: a few ns instead of
// ~26 ns for a precise read on this VM's kvm-clock, at the cost of tick (1-4 ms) resolution;
// the ticker's copy of it costs one load. Both run on the same scale as CLOCK_MONOTONIC,
// lagging it by under one tick (the kernel's) or two plus a wake-up delay (the ticker's).
int64_t SteadyClock::CoarseNowNs() const { return ReadCoarseMonotonicNs(); }

int64_t SteadyClock::CoarseTickNs() const { return CoarseTicker::TickNs(); }

const Clock* SteadyClock::Instance() {
  static const Clock* const instance = new SteadyClock();  // leaked on purpose: see header
  return instance;
}

void FakeClock::AddListener(ClockListener* l) {
  std::lock_guard<std::mutex> lk(mu_);
  listeners_.push_back(l);
}

void FakeClock::RemoveListener(ClockListener* l) {
  std::lock_guard<std::mutex> lk(mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
}

void FakeClock::SetCoarseTickNs(int64_t tick) {
  std::lock_guard<std::mutex> lk(mu_);
  coarse_tick_.store(tick, std::memory_order_relaxed);
  UpdateCoarseLocked();
}

void FakeClock::UpdateCoarseLocked() {
  const int64_t now = NowNs(), tick = coarse_tick_.load(std::memory_order_relaxed);
  coarse_.store(tick > 1 ? now - now % tick : now, std::memory_order_release);
}

void FakeClock::Advance(int64_t ns) {
  // Holding mu_ while notifying keeps a listener from being removed (and its pool freed)
  // in the middle of the call.
  std::lock_guard<std::mutex> lk(mu_);
  now_.fetch_add(ns, std::memory_order_acq_rel);
  UpdateCoarseLocked();
  for (ClockListener* l : listeners_) l->OnClockAdvanced();
}

}  // namespace connpool
