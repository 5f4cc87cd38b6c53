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
// writes twice, so at 2 or more threads the line bounces between cores on each call. Here each
// thread counts in its own stripe (a cache line), so uncontended calls only touch a line their
// core already owns; Close() sums the stripes.
//
// Why owned stripes and an asymmetric fence: even on a line of its own, a locked add costs the
// caller a full barrier (its store buffer drains) twice per call, and the bindings' acquire
// paid that on every call. So the first kOwned threads that use any gate each get a stripe
// nobody else writes (StripeOwner): Enter() and Leave() count with a plain load and store and
// order that store before reading `closed` with only a compiler barrier, while Close(), which
// is rare, pays for both sides: membarrier(2) MEMBARRIER_CMD_PRIVATE_EXPEDITED makes every
// running thread of the process execute a full barrier (a thread that is not running passed
// one when it was switched out). Threads beyond kOwned share kShared stripes with locked adds,
// as before. Where membarrier is missing or refused (not Linux, an old kernel, a seccomp
// filter) every thread counts with seq_cst locked adds, as all did before.
//
// Protocol: Enter() counts +1 in its stripe, then checks `closed`; Leave() counts -1
// (release), then checks `closed`. Close() sets `closed` (seq_cst), runs membarrier, then sums
// the stripes. With locked adds the single seq_cst order gives what follows. With an owned
// stripe, the barrier that membarrier puts on the caller's thread falls either before its
// check, which then sees `closed`, or after it, and then also after its count (program order,
// kept by the compiler barrier), which the sum then sees. So either Close()'s sum sees the
// increment, or the Enter() sees `closed` and backs out: no caller slips in after Close()
// stopped waiting. Likewise a Leave() either sees `closed` and takes the mutex to notify, or
// has its decrement in the sum: the closer cannot miss the wake-up between its check and its
// wait.
//
// Finish(): a close() racing another close() must not return while the first is still tearing
// down (its caller may destroy the object next), so a closer that lost the race waits in
// WaitFinished() until the winner calls Finish().
//
// Requirements: Leave() runs on the thread that entered (Scope does that). A gate is entered
// only by code of one binary (each shared object that includes this header has its own
// StripeOwner, hidden like every inline function of the library, so two binaries entering the
// same gate could give one stripe two owners); the engine and each binding keep their gates to
// themselves.
//
// Header-only and free of library internals: the binding facade (built outside libconnpool,
// which exports only connpool_*) uses it as well as the engine (pool groups' members).
#ifndef CONNPOOL_CORE_UTIL_ENTRY_GATE_H
#define CONNPOOL_CORE_UTIL_ENTRY_GATE_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(SYS_membarrier)
#define CONNPOOL_GATE_MEMBARRIER 1
#endif
#endif
#endif

// Read on every Enter() and Leave(): initial-exec makes it one %fs-relative load even in a
// dlopen'ed library (the bindings), where the default model calls __tls_get_addr; a few bytes
// of glibc's static TLS surplus, as util/thread_stripe.h.
#if defined(__GNUC__)
#define CONNPOOL_GATE_TLS __attribute__((tls_model("initial-exec")))
#else
#define CONNPOOL_GATE_TLS
#endif

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

// The close side of the gate's barrier (see the file comment): membarrier(2), once the process
// registered for it. The caller's side is a compiler barrier (EntryGate::Enter and Leave).
class AsymmetricFence {
 public:
  // Registers the process for expedited membarrier once; true if that worked.
  static bool Available() {
    static const bool ok = Register();
    return ok;
  }
  // Every running thread of the process executes a full barrier before this returns (a thread
  // that is not running passed one when it was switched out). Only after Available().
  static void Heavy() {
#if defined(CONNPOOL_GATE_MEMBARRIER)
    // After a successful registration the expedited command does not fail; the global one
    // (every thread of every process, slower) is the belt to its braces, e.g. in a child of
    // fork() whose kernel did not carry the registration over.
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
      syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
#endif
  }

 private:
  static bool Register() {
#if defined(CONNPOOL_GATE_MEMBARRIER)
    const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 || (cmds & MEMBARRIER_CMD_GLOBAL) == 0)
      return false;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
    return false;
#endif
  }
};

// Which stripe of every gate this thread counts in: one of kOwned that it alone writes while
// it lives (handed back when it exits, for a later thread), or, once those are all taken, one
// of kShared (round-robin) written with locked adds.
class StripeOwner {
 public:
  static constexpr unsigned kOwned = 64;
  static constexpr unsigned kShared = 16;

  static bool Owned(unsigned stripe) { return stripe < kOwned; }

  static unsigned Stripe() {
    const unsigned s = t_stripe;
    return s != kUnassigned ? s : Assign();
  }

 private:
  static constexpr unsigned kUnassigned = ~0u;

  struct Registry {
    std::mutex mu;
    std::vector<unsigned> free;  // guarded by mu: owned stripes given back, reused LIFO
    unsigned next = 0;           // guarded by mu: the lowest owned stripe never given out
    unsigned next_shared = 0;    // guarded by mu
  };
  // Never destroyed: a thread may exit (and give its stripe back) after static destructors ran.
  static Registry& registry() {
    static Registry* r = new Registry;
    return *r;
  }

  // Gives the owned stripe back when the thread exits; later calls on the thread (another
  // thread_local's destructor) count in a shared stripe.
  struct Lease {
    unsigned stripe = kUnassigned;
    ~Lease() {
      Registry& r = registry();
      std::lock_guard<std::mutex> lk(r.mu);
      r.free.push_back(stripe);
      t_stripe = kOwned + r.next_shared++ % kShared;
    }
  };

  static unsigned Assign() {
    Registry& r = registry();
    unsigned s;
    {
      std::lock_guard<std::mutex> lk(r.mu);
      if (!r.free.empty()) {
        s = r.free.back();
        r.free.pop_back();
      } else if (r.next < kOwned) {
        s = r.next++;
      } else {
        s = kOwned + r.next_shared++ % kShared;
      }
    }
    if (Owned(s)) {
      static thread_local Lease lease;
      lease.stripe = s;
    }
    t_stripe = s;
    return s;
  }

  CONNPOOL_GATE_TLS static inline thread_local unsigned t_stripe = kUnassigned;
};

class EntryGate {
 public:
  static constexpr unsigned kStripes = StripeOwner::kOwned + StripeOwner::kShared;

  EntryGate() = default;
  EntryGate(const EntryGate&) = delete;
  EntryGate& operator=(const EntryGate&) = delete;

  // True: entered; call Leave() once, on the same thread. False: closed, nothing to undo.
  bool Enter() {
    const unsigned s = StripeOwner::Stripe();
    std::atomic<int64_t>& n = stripes_[s].n;
    if (asymmetric_ && StripeOwner::Owned(s)) {
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      std::atomic_signal_fence(std::memory_order_seq_cst);  // Close() fences for us
    } else {
      n.fetch_add(1, std::memory_order_seq_cst);
    }
    if (!closed_.load(std::memory_order_seq_cst)) return true;
    Leave();
    return false;
  }

  void Leave() {
    const unsigned s = StripeOwner::Stripe();
    std::atomic<int64_t>& n = stripes_[s].n;
    if (asymmetric_ && StripeOwner::Owned(s)) {
      n.store(n.load(std::memory_order_relaxed) - 1, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      n.fetch_sub(1, std::memory_order_seq_cst);
    }
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
  // Both count as Enter() and Leave() do (an owned stripe by plain store, else a locked add).
  bool TryEnter() {
    Count(StripeOwner::Stripe(), +1);
    return !closed_.load(std::memory_order_seq_cst);
  }
  bool TryLeave() {
    const unsigned s = StripeOwner::Stripe();
    Count(s, -1);
    if (!closed_.load(std::memory_order_seq_cst)) return true;
    Count(s, +1);
    return false;
  }

  // Stops new entries (kOpen -> kDraining). True for the one call that closed it: it should
  // then WaitEmpty(), tear down, and Finish(). False: another call closed it first.
  bool Close() {
    if (closed_.exchange(true, std::memory_order_seq_cst)) return false;
    if (asymmetric_) AsymmetricFence::Heavy();  // from here on every count is visible to Inside()
    return true;
  }
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

  // Whether this gate pays its barrier in Close() (membarrier) rather than in every call.
  bool asymmetric() const { return asymmetric_; }

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
  // The counting of Enter()/Leave() on stripe `s`, for TryEnter()/TryLeave().
  void Count(unsigned s, int64_t delta) {
    std::atomic<int64_t>& n = stripes_[s].n;
    if (asymmetric_ && StripeOwner::Owned(s)) {
      n.store(n.load(std::memory_order_relaxed) + delta, std::memory_order_release);
      std::atomic_signal_fence(std::memory_order_seq_cst);  // Close() fences for us
    } else {
      n.fetch_add(delta, std::memory_order_seq_cst);
    }
  }

  struct alignas(64) Stripe {
    std::atomic<int64_t> n{0};
  };
  Stripe stripes_[kStripes];
  // Decided before any thread can enter, so every Enter() and Close() pair their fences alike.
  const bool asymmetric_ = AsymmetricFence::Available();
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // a Leave() after Close(), or Finish()
  bool finished_ = false;       // guarded by mu_
};

}  // namespace connpool_util

#endif
