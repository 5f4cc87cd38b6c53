// SPDX-License-Identifier: Apache-2.0
// EntryGate: "enter unless closed; closing waits until everyone inside has left", written once.
//
// Why striped: a single in-flight counter is one cache line that every call on every thread
// writes twice, so at 2 or more threads the line bounces between cores on each call (the
// bindings' acquire paid for that at every thread count above 1). Here each thread counts in
// its own stripe (one of 16 cache lines, assigned round-robin on the thread's first use), so
// uncontended calls only touch a line their core already owns; Close() sums the stripes.
//
// Protocol (all seq_cst): Enter() increments its stripe, then re-checks `closed`; Close() sets
// `closed`, then waits for the sum to reach zero. In the single total order either Close()'s
// sum sees the increment, or the Enter() sees `closed` and backs out: no caller slips in after
// Close() stopped waiting. Every Leave() that sees `closed` takes the mutex to notify, so the
// closer cannot miss the wake-up between its check and its wait.
//
// Header-only and free of library internals: the binding facade (built outside libconnpool,
// which exports only connpool_*) uses it as well as the engine.
#ifndef CONNPOOL_CORE_UTIL_ENTRY_GATE_H
#define CONNPOOL_CORE_UTIL_ENTRY_GATE_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace connpool_util {

class EntryGate {
 public:
  static constexpr unsigned kStripes = 16;

  EntryGate() = default;
  EntryGate(const EntryGate&) = delete;
  EntryGate& operator=(const EntryGate&) = delete;

  // True: entered; call Leave() once, on the same thread. False: closed, nothing to undo.
  bool Enter() {
    std::atomic<int64_t>& n = stripes_[ThisStripe()].n;
    n.fetch_add(1, std::memory_order_seq_cst);
    if (!closed_.load(std::memory_order_seq_cst)) return true;
    Leave();
    return false;
  }

  void Leave() {
    std::atomic<int64_t>& n = stripes_[ThisStripe()].n;
    n.fetch_sub(1, std::memory_order_seq_cst);
    if (closed_.load(std::memory_order_seq_cst)) {  // only while closing: the closer re-sums
      std::lock_guard<std::mutex> lk(mu_);
      cv_.notify_all();
    }
  }

  // Stops new entries. True for the one call that closed it (it should then WaitEmpty()).
  bool Close() { return !closed_.exchange(true, std::memory_order_seq_cst); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // After Close(): returns once every caller that entered has left.
  void WaitEmpty() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return Inside() == 0; });
  }

  // Callers inside now (a sum across stripes, exact only once closed).
  int64_t Inside() const {
    int64_t sum = 0;
    for (const Stripe& s : stripes_) sum += s.n.load(std::memory_order_seq_cst);
    return sum;
  }

  // Scoped entry: `if (!scope.entered()) return closed-status;`
  class Scope {
   public:
    explicit Scope(EntryGate& g) : g_(g), entered_(g.Enter()) {}
    ~Scope() {
      if (entered_) g_.Leave();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    bool entered() const { return entered_; }

   private:
    EntryGate& g_;
    const bool entered_;
  };

 private:
  // A stripe may be shared by threads (17 threads, 16 stripes): counts are per stripe, not per
  // thread, so sharing costs speed, never correctness. Likewise a Leave() on another thread
  // than its Enter() leaves one stripe negative and another positive; the sum stays right.
  static unsigned ThisStripe() {
    static std::atomic<unsigned> next{0};
    thread_local const unsigned stripe = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return stripe;
  }

  struct alignas(64) Stripe {
    std::atomic<int64_t> n{0};
  };
  Stripe stripes_[kStripes];
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace connpool_util

#endif
