// SPDX-License-Identifier: Apache-2.0
#include "util/coarse_ticker.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace connpool {

namespace {

int64_t ReadPreciseNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

// The ticker's shared state. Every store to the word is made under mu, after checking that
// the storing thread is still the current ticker (epoch), so a ticker being stopped can never
// overwrite the 0 that Release stored or a newer ticker's reading.
class CoarseTickerThread {
 public:
  static CoarseTickerThread& Get() {
    // Never destroyed: a pool freed during static destruction may still release its reference.
    static CoarseTickerThread* const state = new CoarseTickerThread();
    return *state;
  }

  void Retain() {
    std::lock_guard<std::mutex> lk(mu_);
    ++refs_;
    if (thread_ != nullptr) return;  // none yet, or this is the child of a fork
    ++epoch_;
    CoarseTicker::word_.store(ReadKernelCoarseNs(), std::memory_order_relaxed);
    thread_ = new std::thread(&CoarseTickerThread::Run, this, epoch_);
  }

  void Release() {
    std::thread* t = nullptr;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (refs_ == 0 || --refs_ > 0) return;
      ++epoch_;  // the running ticker's epoch is now stale: it exits without storing again
      CoarseTicker::word_.store(0, std::memory_order_relaxed);
      t = thread_;
      thread_ = nullptr;
    }
    if (t == nullptr) return;
    cv_.notify_all();
    t->join();
    delete t;
  }

 private:
  CoarseTickerThread() {
    // fork() copies only the calling thread: in the child the ticker is gone, so the word is
    // cleared (readers fall back to the kernel) and the next Retain there starts a new one.
    // mu_ is held across the fork so that the child's copy of it is not locked by a thread
    // that no longer exists.
    pthread_atfork([] { Get().mu_.lock(); }, [] { Get().mu_.unlock(); },
                   [] {
                     CoarseTickerThread& s = Get();
                     ++s.epoch_;
                     CoarseTicker::word_.store(0, std::memory_order_relaxed);
                     s.thread_ = nullptr;  // leaked: the object names a thread of the parent
                     s.mu_.unlock();
                   });
  }

  void Run(uint64_t epoch) {
    pthread_setname_np(pthread_self(), "connpool-tick");
    const int64_t tick = CoarseTicker::TickNs();
    std::unique_lock<std::mutex> lk(mu_);
    while (epoch_ == epoch) {
      const int64_t coarse = ReadKernelCoarseNs();
      CoarseTicker::word_.store(coarse, std::memory_order_relaxed);
      // The kernel's coarse time moves once a tick, to about the time of that tick; waking
      // half a tick after the next one sees it moved exactly once, so the word steps by one
      // tick like the kernel's (lease_timing.h relies on two ticks meaning a real hold) unless
      // this thread is delayed by more than half a tick. A coarse clock that did not move
      // (tickless idle) or a late wake-up must not make the target a past time: no busy loop.
      const int64_t now = ReadPreciseNs();
      int64_t target = coarse + tick + tick / 2;
      if (target <= now) target = now + tick;
      cv_.wait_until(lk, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(target)),
                     [&] { return epoch_ != epoch; });
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t refs_ = 0;               // guarded by mu_
  uint64_t epoch_ = 0;              // guarded by mu_: which ticker may store
  std::thread* thread_ = nullptr;   // guarded by mu_: the current ticker, if any
};

void CoarseTicker::Retain() { CoarseTickerThread::Get().Retain(); }
void CoarseTicker::Release() { CoarseTickerThread::Get().Release(); }

int64_t CoarseTicker::TickNs() {
  // 1-10 ms: a finer resolution would wake this thread more than 1000 times a second; a
  // coarser one is not a coarse clock any pool setting was tuned for.
  static const int64_t tick = [] {
    struct timespec res;
    int64_t ns = 4'000'000;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
      ns = static_cast<int64_t>(res.tv_sec) * 1'000'000'000 + res.tv_nsec;
    return std::clamp<int64_t>(ns, 1'000'000, 10'000'000);
  }();
  return tick;
}

}  // namespace connpool
