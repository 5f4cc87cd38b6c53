// SPDX-License-Identifier: Apache-2.0
// EntryGate: "enter unless closed; closing waits until everyone inside has left", written once,
// and Phase, the lifecycle value every closable object in the library is in.
//
// Phases (forward only, one step at a time): kOpen, then kDraining (closed to new entries,
// those inside finish), then kFreed (the closer's teardown is done). A gate walks exactly these
// three: Close() begins draining, Finish() marks it freed. connpool::Lifetime (lifetime.h), the
// pool's lifecycle, has two more between and after them: kStopping (background threads leave)
// and kDeleting (the last user out deletes the pool).
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
// Finish(): a close() racing another close() must not return while the first is still tearing
// down (its caller may destroy the object next), so a closer that lost the race waits in
// WaitFinished() until the winner calls Finish().
//
// Header-only and free of library internals: the binding facade (built outside libconnpool,
// which exports only connpool_*) uses it as well as the engine (pool groups' members).
#ifndef CONNPOOL_CORE_UTIL_ENTRY_GATE_H
#define CONNPOOL_CORE_UTIL_ENTRY_GATE_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace connpool_util {

enum class Phase : unsigned char { kOpen, kDraining, kStopping, kFreed, kDeleting };

inline const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kOpen: return "open";
    case Phase::kDraining: return "draining";
    case Phase::kStopping: return "stopping";
    case Phase::kFreed: return "freed";
    case Phase::kDeleting: return "deleting";
  }
  return "unknown";
}

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

  // Enter() and Leave() for a caller that must not block at all (the C# binding's Mono raw
  // internal calls run in GC-unsafe mode): neither ever takes the mutex. True: as Enter() or
  // Leave(). False: the gate is closing and the caller is counted inside (still, or again),
  // so the closer waits for it: it must call Leave() later, from where it may block, and after
  // a false TryEnter() it must not use what the gate guards. A TryLeave() that sees `closed`
  // after its decrement counts itself in again instead of waking the closer (which takes the
  // mutex); the closer may have seen the sum at zero in between, which is harmless, as the
  // caller had finished with the guarded object before it decremented.
  bool TryEnter() {
    stripes_[ThisStripe()].n.fetch_add(1, std::memory_order_seq_cst);
    return !closed_.load(std::memory_order_seq_cst);
  }
  bool TryLeave() {
    std::atomic<int64_t>& n = stripes_[ThisStripe()].n;
    n.fetch_sub(1, std::memory_order_seq_cst);
    if (!closed_.load(std::memory_order_seq_cst)) return true;
    n.fetch_add(1, std::memory_order_seq_cst);
    return false;
  }

  // Stops new entries (kOpen -> kDraining). True for the one call that closed it: it should
  // then WaitEmpty(), tear down, and Finish(). False: another call closed it first.
  bool Close() { return !closed_.exchange(true, std::memory_order_seq_cst); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // The closer's teardown is done (kDraining -> kFreed): wakes every WaitFinished().
  void Finish() {
    std::lock_guard<std::mutex> lk(mu_);
    finished_ = true;
    cv_.notify_all();
  }
  // For a closer that lost the race (Close() returned false): returns once the winner has
  // called Finish().
  void WaitFinished() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return finished_; });
  }
  // For an object that failed to open: closed and finished at once, nobody ever inside.
  void CloseFinished() {
    Close();
    Finish();
  }

  Phase phase() {
    if (!closed()) return Phase::kOpen;
    std::lock_guard<std::mutex> lk(mu_);
    return finished_ ? Phase::kFreed : Phase::kDraining;
  }

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
  std::condition_variable cv_;  // a Leave() after Close(), or Finish()
  bool finished_ = false;       // guarded by mu_
};

}  // namespace connpool_util

#endif
