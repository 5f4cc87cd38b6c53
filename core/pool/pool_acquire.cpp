// SPDX-License-Identifier: Apache-2.0
// The hot path: acquire and release. An uncontended cycle is two CAS on the slot's own cache
// line (claim, give back) plus two loads of the coarse time word (Clock::CoarseWord: the
// process's coarse ticker on the steady clock); no counter is touched (the number of acquires
// is read off the slot generations), no clock is called, and neither fast path makes a call
// or a stack frame: every rarer case leaves through one tail call.
//
// Why a release cannot slip past a newly queued waiter: the waiter increments waiters_count_
// (seq_cst), then visits every slot (seq_cst): it claims an idle one, or marks a leased or
// returning one kWanted. A releaser gives the slot back with one CAS that expects the exact
// word it checked, flags clear. On the slot word, either the releaser's CAS comes first (the
// waiter then finds the slot idle and takes it) or the waiter's mark does (the CAS fails and the
// releaser hands off under mu_). A releaser that sees waiters_count_ > 0 goes to the hand-off
// directly, which also covers slots leased after the waiter's visit.
//
// A cancellable acquire (connpool_acquire_cancellable) that finds an idle connection takes the
// same lock-free path (after one load of the token's flag). Only when it must wait does it
// register with its token, and it does so holding no pool lock (the lock order of
// cancel_token.h), with the pool pinned (lifetime_) so that a trigger never reaches a pool
// that was freed meanwhile. The other entries (async, resize, maintenance) are at the end:
// one-line hand-overs to the components that do them.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <thread>

#include "pool/lease_timing.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

namespace {

// What the acquire fast path reads of this thread, in one thread-local (one TLS address
// lookup): its budget of precisely timed leases per coarse tick (lease_timing.h) and its
// kernel thread id, 0 until its first lease (zero-initialised, so reading it needs no guard).
struct HotThreadState {
  LeaseTimingBudget lease_timing;
  uint64_t thread_id = 0;
};
CONNPOOL_TLS_HOT thread_local HotThreadState t_hot;

// The kernel's thread id, as gdb, top -H and /proc show it, so a leak report can be matched.
uint64_t ThisThreadId() {
  uint64_t id = t_hot.thread_id;
  if (__builtin_expect(id == 0, 0)) t_hot.thread_id = id = static_cast<uint64_t>(syscall(SYS_gettid));
  return id;
}

// Yields before queueing (see AcquireSlow). 16 covers a run queue of a few dozen threads on
// 2 cores in our benchmarks; beyond that queueing is the better use of the CPU.
constexpr int kSpinYields = 16;

}  // namespace

bool Pool::NeedsValidation(const Slot& s, int64_t now, bool fresh) const {
  if (!traits_.has_validate || fresh) return false;
  ValidateMode mode = cfg_.validate_mode();
  // >=, so that validation_idle_ms = 0 trusts nothing: a connection given back in the same
  // coarse tick (4 ms) is validated too.
  return mode == ValidateMode::kAlways ||
         (mode == ValidateMode::kIdle &&
          now - s.last_used_ns.load(std::memory_order_relaxed) >= cfg_.validation_idle_ms * 1'000'000);
}

bool Pool::FinishClaim(uint32_t idx, uint64_t gen, int priority, int64_t* start_ns, int64_t timeout_ms,
                       bool fresh, uint64_t* lease_out, void** conn_out) {
  Slot& s = SlotAt(idx);
  const int64_t now = CoarseNowNs();
  if (s.expires_ns != 0 && now >= s.expires_ns) {
    metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);
    RetireClaimed(idx, Reason::kLifetime);
    return false;
  }
  if (NeedsValidation(s, now, fresh)) {
    // Bounded by the acquire's own deadline and by validation_timeout_ms. Timeout 0 means "do
    // not wait for a connection to come free"; the check of the one claimed is still allowed
    // validation_timeout_ms.
    const int64_t t = clock_->NowNs();
    if (*start_ns == 0) *start_ns = t;  // the fast path's deadline starts here, should it go on
    const int64_t check_until = SaturatingDeadline(t, cfg_.validation_timeout_ms);
    const int64_t caller_until = timeout_ms == 0 ? INT64_MAX : SaturatingDeadline(*start_ns, timeout_ms);
    switch (connector_.ValidateForAcquire(idx, std::min(check_until, caller_until), check_until <= caller_until)) {
      case Connector::Checked::kValid:
        break;
      case Connector::Checked::kInvalid:
        metrics_.counters.validation_failures.fetch_add(1, std::memory_order_relaxed);
        metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);
        RetireClaimed(idx, Reason::kValidation);
        return false;
      case Connector::Checked::kPoolClosing:
        metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);
        RetireClaimed(idx, Reason::kNone);
        return false;
      case Connector::Checked::kGaveUp:  // the helper owns the slot now; the pool is pinned for us
        metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    s.checked_ns = now;
  }
  // Drain may have begun while we held the slot: do not lend from a closing pool.
  if (slots_.IsClosing(idx)) {
    metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);
    RetireClaimed(idx, Reason::kNone);
    return false;
  }
  IssueLease(idx, gen, priority, now, *start_ns, lease_out, conn_out);
  return true;
}

// The stores that make the lease, shared by IssueLease and Acquire's fast path (which has its
// lease start and thread id at hand without a call).
__attribute__((always_inline)) inline void Pool::IssueLeaseInline(Slot& s, uint32_t idx, uint64_t gen, int priority,
                                                                  int64_t lease_start, uint64_t thread_id,
                                                                  uint64_t* lease_out, void** conn_out) {
  s.lease_start_ns.store(lease_start, std::memory_order_relaxed);
  s.holder_thread.store(thread_id, std::memory_order_relaxed);
  s.holder_priority.store(priority, std::memory_order_relaxed);
  *lease_out = MakeLease(traits_.tag, idx, gen);
  if (conn_out) *conn_out = s.conn;
}

void Pool::IssueLease(uint32_t idx, uint64_t gen, int priority, int64_t now, int64_t start_ns,
                      uint64_t* lease_out, void** conn_out) {
  const int64_t lease_start =
      TakeLeaseTiming(t_hot.lease_timing, now) ? TimedStart(clock_->NowNs()) : UntimedStart(now);
  const uint64_t thread_id = ThisThreadId();
  if (start_ns != 0) {  // zero-wait acquires are derived in Snapshot(), not counted here
    int64_t waited = clock_->NowNs() - start_ns;
    metrics_.acquire_wait_us.Record(waited > 0 ? static_cast<uint64_t>(waited / 1000) : 0);
  }
  IssueLeaseInline(SlotAt(idx), idx, gen, priority, lease_start, thread_id, lease_out, conn_out);
}

void Pool::RetireClaimed(uint32_t idx, Reason reason) {
  SafeDestroy(SlotAt(idx).conn);
  std::unique_lock<std::mutex> lk(mu_);
  // Pin first: if Close() ran while we validated, emptying the pool's last slot must not
  // delete it under this acquire, which goes on into AcquireSlow (where the pin is undone).
  lifetime_.Pin();
  SlotEmptiedLocked(idx, reason);  // cannot ask for deletion while pinned
  UnlockDeliverMaybeDelete(lk, false);
}

// The fast path: the hinted slot claimed, the coarse time in its word, not expired, no
// validation due, no drain begun, and the thread's timing budget spent (a tight loop: the
// lease is untimed). Every other case leaves through one call whose result is returned as is
// and whose arguments fit in registers (a jump), so that this function needs no stack frame
// and saves no register. FinishClaim makes the same checks in the same order for the rest.
Status Pool::Acquire(int priority, int64_t timeout_ms, uint64_t* lease, void** conn) {
  if (traits_.mux) return shared_.AcquireMux(priority, timeout_ms < 0 ? cfg_.acquire_timeout_ms : timeout_ms, lease, conn);
  uint32_t idx;
  uint64_t gen;
  Slot* s;
  if (__builtin_expect(!accepting_.load(std::memory_order_acquire) || !slots_.ClaimHinted(&idx, &gen, &s), 0))
    return AcquireUnhinted(priority, timeout_ms, lease, conn);
  const int64_t now = coarse_word_->load(std::memory_order_relaxed);
  const HotThreadState& t = t_hot;
  if (__builtin_expect(now == 0 || (s->expires_ns != 0 && now >= s->expires_ns) || NeedsValidation(*s, now, false) ||
                           SlotTable::IsClosing(*s) || !LeaseTimingSpent(t.lease_timing, now) || t.thread_id == 0,
                       0))
    return FinishFastClaim(MakeLease(traits_.tag, idx, gen), priority, timeout_ms, lease, conn);
  IssueLeaseInline(*s, idx, gen, priority, UntimedStart(now), t.thread_id, lease, conn);  // no wait to record
  return Status::kOK;
}

__attribute__((noinline)) Status Pool::FinishFastClaim(uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease, void** conn) {
  if (timeout_ms < 0) timeout_ms = cfg_.acquire_timeout_ms;
  int64_t start = 0;  // read from the clock only if the claim needs a validation
  if (FinishClaim(static_cast<uint32_t>(LeaseIndex(claim)), LeaseGen(claim), priority, &start, timeout_ms, false,
                  lease, conn))
    return Status::kOK;
  return AcquireSlow(priority, timeout_ms, start, 1, lease, conn);
}

__attribute__((noinline)) Status Pool::AcquireUnhinted(int priority, int64_t timeout_ms, uint64_t* lease, void** conn) {
  if (timeout_ms < 0) timeout_ms = cfg_.acquire_timeout_ms;
  int pins = 0;
  int64_t start = 0;  // read from the clock only if the claim needs a validation
  if (accepting_.load(std::memory_order_acquire)) {
    uint32_t idx;
    uint64_t gen;
    if (slots_.ClaimIdle(false, &idx, &gen)) {
      if (FinishClaim(idx, gen, priority, &start, timeout_ms, false, lease, conn)) return Status::kOK;
      pins = 1;
    }
  }
  return AcquireSlow(priority, timeout_ms, start, pins, lease, conn);
}

Status Pool::AdmissionLocked() const {
  if (lifetime_.draining()) return Status::kECLOSED;
  if (health_.load(std::memory_order_relaxed) == Health::kUnavailable) return Status::kEUNAVAILABLE;
  return Status::kOK;
}

// Ends a slow acquire (AcquireSlow, AcquireMux): counts its failure status, drops its
// lifetime_ pin and, if that was the last thing keeping a closed pool alive, deletes it.
// Unlocks `lk`; the caller must not touch the pool afterwards.
void Pool::CountFailure(Status st) {
  switch (st) {
    case Status::kETIMEOUT: metrics_.counters.timeouts.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kEUNAVAILABLE: metrics_.counters.unavailable.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kEOVERLOAD: metrics_.counters.overload.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kECLOSED: metrics_.counters.closed_rejected.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kECANCELED: metrics_.counters.canceled.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
  }
}

Status Pool::LeaveAcquireLocked(std::unique_lock<std::mutex>& lk, Status st) {
  CountFailure(st);
  lifetime_.Unpin();
  const bool del = ShouldDeleteLocked();
  UnlockDeliverMaybeDelete(lk, del);
  return st;
}

Status Pool::AwaitHandOffLocked(std::unique_lock<std::mutex>& lk, Waiter* w, const CancelToken* cancel,
                                int64_t deadline_ns) {
  while (!w->done) {
    // Checked under mu_, which a trigger takes to wake us after setting its flag: a trigger
    // cannot slip between this check and the sleep. A hand-off that came first (w->done) wins.
    if (cancel != nullptr && cancel->Triggered()) {
      async_.UnqueueLocked(w);
      return Status::kECANCELED;
    }
    if (clock_->NowNs() >= deadline_ns) {
      async_.UnqueueLocked(w);
      return Status::kETIMEOUT;
    }
    WaitLocked(w->cv, lk, deadline_ns);
  }
  return Status::kOK;
}

Status Pool::AcquireSlow(int priority, int64_t timeout_ms, int64_t start_ns, int pins, uint64_t* lease,
                         void** conn, const CancelToken* cancel) {
  int64_t start = start_ns != 0 ? start_ns : clock_->NowNs();
  const int64_t deadline = SaturatingDeadline(start, timeout_ms);
  // With more threads than cores, the holder of a connection is usually just preempted:
  // yielding a few times lets it run and give the connection back, far cheaper than queueing
  // (mutex, futex sleep, wake-up). Queued waiters lose nothing: while any exist, releases hand
  // off to them directly and no slot turns idle for a spinner to take.
  if (timeout_ms > 0) {
    for (int i = 0; i < kSpinYields && accepting_.load(std::memory_order_relaxed) &&
                    (cancel == nullptr || !cancel->Triggered());
         ++i) {
      std::this_thread::yield();
      uint32_t idx;
      uint64_t gen;
      if (!slots_.ClaimIdle(false, &idx, &gen)) continue;
      if (FinishClaim(idx, gen, priority, &start, timeout_ms, false, lease, conn)) {
        if (pins > 0) {  // we hold a lease, so the pool cannot be due for deletion
          std::lock_guard<std::mutex> lk(mu_);
          lifetime_.Unpin(pins);
        }
        return Status::kOK;
      }
      ++pins;
    }
  }
  std::unique_lock<std::mutex> lk(mu_);
  // This call holds one pin until leave(): its own, into which the pins of its failed claims
  // (each left the pool pinned) are folded.
  lifetime_.Pin();
  lifetime_.Unpin(pins);
  auto leave = [&](Status st) { return LeaveAcquireLocked(lk, st); };
  for (;;) {
    Status gate = AdmissionLocked();
    if (gate != Status::kOK) return leave(gate);
    if (cancel != nullptr && cancel->Triggered()) return leave(Status::kECANCELED);
    uint32_t idx;
    uint64_t gen;
    if (slots_.ClaimIdle(false, &idx, &gen)) {
      lk.unlock();
      if (FinishClaim(idx, gen, priority, &start, timeout_ms, false, lease, conn)) {
        lk.lock();
        return leave(Status::kOK);
      }
      lk.lock();
      lifetime_.Unpin();  // the failed claim's pin; this call is still counted once
      continue;
    }
    if (timeout_ms == 0) return leave(CreateForCaller(lk, priority, start, lease, conn));
    if (cfg_.max_waiters > 0 && queue_.Size() >= static_cast<size_t>(cfg_.max_waiters))
      return leave(Status::kEOVERLOAD);

    Waiter w;
    w.priority = priority;
    w.seq = next_seq_++;
    w.thread_id = ThisThreadId();
    w.cancel = cancel;
    queue_.Push(&w);
    waiters_count_.fetch_add(1, std::memory_order_seq_cst);
    if (slots_.ClaimIdle(true, &idx, &gen)) {
      queue_.Remove(&w);
      waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
      lk.unlock();
      bool ok = FinishClaim(idx, gen, priority, &start, timeout_ms, false, lease, conn);
      lk.lock();
      if (ok) return leave(Status::kOK);
      lifetime_.Unpin();  // the failed claim's pin
      continue;
    }
    connector_.WakeLocked();  // demand grew
    const Status waited = AwaitHandOffLocked(lk, &w, cancel, deadline);
    if (waited != Status::kOK) return leave(waited);
    if (w.status != Status::kOK) return leave(w.status);
    lk.unlock();
    bool ok = FinishClaim(w.slot, LeaseGen(w.lease), priority, &start, timeout_ms, w.fresh, lease, conn);
    if (ok) slots_.SetHint(w.slot);  // as a claim of our own would: our next acquire starts there
    lk.lock();
    if (ok) return leave(Status::kOK);
    lifetime_.Unpin();  // the failed claim's pin
    // The handed connection failed its checks: wait again within the same deadline.
  }
}

Status Pool::CreateForCaller(std::unique_lock<std::mutex>& lk, int priority, int64_t start_ns,
                             uint64_t* lease, void** conn) {
  int64_t wake_at;
  if (!connector_.CanCreateNowLocked(clock_->NowNs(), &wake_at)) return Status::kETIMEOUT;
  Status st = Status::kOK;
  uint32_t idx = connector_.BeginCreateLocked();
  // The create runs on a helper thread; this acquire waits for it at most acquire_timeout_ms
  // (its own timeout is 0: it does not wait for others, but its create may take a while).
  // Given up on, the create still finishes and the pool keeps the connection.
  if (!connector_.CreateOffThreadLocked(lk, idx, SaturatingDeadline(clock_->NowNs(), cfg_.acquire_timeout_ms), &st))
    return st;
  Slot& s = SlotAt(idx);
  if (lifetime_.draining()) {
    lk.unlock();
    SafeDestroy(s.conn);
    lk.lock();
    SlotEmptiedLocked(idx, Reason::kNone);
    return Status::kECLOSED;
  }
  const uint64_t gen = slots_.LeaseOwnedLocked(idx);
  lk.unlock();
  bool ok = FinishClaim(idx, gen, priority, &start_ns, 0, true, lease, conn);
  lk.lock();
  if (!ok) lifetime_.Unpin();  // the failed claim's pin (the caller is counted by AcquireSlow)
  return ok ? Status::kOK : Status::kEFACTORY;
}

__attribute__((always_inline)) inline Status Pool::GiveBackInline(Slot& s, SlotWord w, uint64_t lease, bool broken,
                                                                  int64_t now) {
  if (!broken && !traits_.exclusive_release && !w.flagged() && (s.expires_ns == 0 || now < s.expires_ns) &&
      !sizing_.over_capacity() && waiters_count_.load(std::memory_order_seq_cst) == 0) {
    s.last_used_ns.store(now, std::memory_order_relaxed);
    // The last touch of pool memory: after it the slot may be leased again, or the pool freed.
    if (SlotTable::TryGiveBack(s, w)) return Status::kOK;
    // A waiter or drain marked the slot, or a racing release of the same lease won.
  }
  return ReleaseExclusive(lease, broken, now);
}

// Like Acquire, the fast path leaves through single calls only. Only timed leases
// (lease_timing.h: at most 16 per thread per coarse tick) and untimed ones held two ticks or
// more touch the shared histogram (ReleaseTimed); Snapshot() counts the rest as 0.
Status Pool::Release(uint64_t lease, bool broken) {
  if (traits_.mux) return shared_.ReleaseMux(lease, broken);  // shared_leases.cpp
  auto stale = [this] {
    metrics_.counters.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  };
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(lease));
  if (__builtin_expect(LeaseTag(lease) != traits_.tag || idx >= slots_.Capacity(), 0)) return stale();
  Slot& s = SlotAt(idx);
  SlotWord w;
  if (__builtin_expect(!SlotTable::HoldsLease(s, LeaseGen(lease), &w), 0)) return stale();
  const int64_t now = coarse_word_->load(std::memory_order_relaxed);
  const int64_t start = s.lease_start_ns.load(std::memory_order_relaxed);
  // An untimed start is the coarse reading with bit 0 cleared, so within one tick now - start
  // is 0 or 1; HeldUs records nothing for that (under two ticks) and is skipped.
  if (__builtin_expect(now == 0 || IsTimedStart(start) || now - start > 1, 0))
    return ReleaseTimed(lease, broken, w.w, start);
  return GiveBackInline(s, w, lease, broken, now);
}

__attribute__((noinline)) Status Pool::ReleaseTimed(uint64_t lease, bool broken, uint64_t seen, int64_t start) {
  const int64_t now = CoarseNowNs();
  const int64_t held_us = HeldUs(start, now, clock_->CoarseTickNs(), [this] { return clock_->NowNs(); });
  if (held_us >= 0) metrics_.lease_hold_us.Record(static_cast<uint64_t>(held_us));
  return GiveBackInline(SlotAt(static_cast<uint32_t>(LeaseIndex(lease))), SlotWord{seen}, lease, broken, now);
}

Status Pool::ReleaseExclusive(uint64_t lease, bool broken, int64_t now) {
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(lease));
  Slot& s = SlotAt(idx);
  SlotWord w;
  if (!slots_.TakeBack(idx, LeaseGen(lease), &w)) {
    metrics_.counters.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  }
  // The slot is ours now.
  Reason retire = broken ? Reason::kBroken : Reason::kNone;
  if (retire == Reason::kNone && cfg_.max_uses > 0 && ++s.uses >= cfg_.max_uses) retire = Reason::kMaxUses;
  if (retire == Reason::kNone && s.expires_ns != 0 && now >= s.expires_ns) retire = Reason::kLifetime;
  bool closing = w.closing();
  if (retire == Reason::kNone && !closing && sizing_.over_capacity(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lk(mu_);  // the pool shrank: this connection may be one too many
    if (sizing_.TakeShrinkLocked()) retire = Reason::kShrink;
  }
  if (retire == Reason::kNone && !closing && traits_.reset_on_release) {
    switch (connector_.ResetForRelease(idx)) {  // bounded by reset_timeout_ms (connector_bounded.cpp)
      case Connector::ResetOutcome::kUsable: break;
      case Connector::ResetOutcome::kFailed:
        metrics_.counters.reset_failures.fetch_add(1, std::memory_order_relaxed);
        retire = Reason::kBroken;
        break;
      case Connector::ResetOutcome::kPoolClosing: closing = true; break;
      case Connector::ResetOutcome::kGaveUp: return Status::kOK;  // the helper owns the slot now
    }
  }
  if (retire != Reason::kNone || closing) {
    RetireOwned(idx, retire);  // may delete the pool: nothing after this touches it
    return Status::kOK;
  }
  s.last_used_ns.store(now, std::memory_order_relaxed);
  // Fails if a waiter set kWanted or drain set kClosing meanwhile: then go the slow way.
  if (waiters_count_.load(std::memory_order_seq_cst) == 0 && slots_.TryIdleFromReturning(idx, w.gen()))
    return Status::kOK;
  ReturnSlow(idx);
  return Status::kOK;
}

void Pool::ReturnSlow(uint32_t idx) {
  std::unique_lock<std::mutex> lk(mu_);
  if (lifetime_.draining()) {
    lk.unlock();
    RetireOwned(idx, Reason::kNone);
    return;
  }
  PutBackLocked(idx);
}

Status Pool::AcquireAsync(int priority, int64_t timeout_ms, CancelToken* cancel, AsyncAcquireCallback cb,
                          void* ud, uint64_t* lease, void** conn) {
  return async_.Acquire(priority, timeout_ms, cancel, cb, ud, lease, conn);  // async_acquires.cpp
}

Status Pool::Resize(int64_t min_idle, int64_t max_size, std::string* err) {
  return sizing_.Resize(min_idle, max_size, err);  // sizing.cpp
}

void Pool::RunMaintenance() { maintenance_.RunMaintenance(); }  // maintenance.cpp

Status Pool::AcquireCancellable(int priority, int64_t timeout_ms, CancelToken* cancel, uint64_t* lease,
                                void** conn) {
  if (cancel == nullptr) return Acquire(priority, timeout_ms, lease, conn);
  if (cancel->Triggered()) {  // already triggered: refused even when a connection is idle
    metrics_.counters.canceled.fetch_add(1, std::memory_order_relaxed);
    return Status::kECANCELED;
  }
  if (timeout_ms < 0) timeout_ms = cfg_.acquire_timeout_ms;
  int pins = 0;
  int64_t start = 0;
  if (!traits_.mux && accepting_.load(std::memory_order_acquire)) {
    uint32_t idx;
    uint64_t gen;
    if (slots_.ClaimIdle(false, &idx, &gen)) {
      if (FinishClaim(idx, gen, priority, &start, timeout_ms, false, lease, conn)) return Status::kOK;
      pins = 1;  // as in Acquire: the failed claim left the pool pinned for AcquireSlow
    }
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    lifetime_.Pin();  // our own pin: held until we have left the token's list
  }
  CancelToken::Registration reg;
  reg.pool = this;
  cancel->Register(&reg);
  Status st = traits_.mux ? shared_.AcquireMux(priority, timeout_ms, lease, conn, cancel)
                   : AcquireSlow(priority, timeout_ms, start, pins, lease, conn, cancel);
  cancel->Unregister(&reg);
  std::unique_lock<std::mutex> lk(mu_);
  lifetime_.Unpin();
  const bool del = ShouldDeleteLocked();
  UnlockDeliverMaybeDelete(lk, del);
  return st;
}

void Pool::WakeCanceled(const CancelToken* token) {
  std::lock_guard<std::mutex> lk(mu_);
  // A blocked thread leaves the queue itself (so a hand-off that came first still wins); an
  // async acquire has no thread, so it is taken off here and called back by the dispatcher.
  std::vector<Waiter*> async;
  queue_.ForEach([token, &async](Waiter* w) {
    if (w->cancel != token) return;
    if (w->cb != nullptr)
      async.push_back(w);
    else
      w->cv.notify_one();
  });
  for (Waiter* w : async) {
    async_.UnqueueLocked(w);
    async_.CompleteAsyncLocked(w, Status::kECANCELED);
  }
}

}  // namespace connpool
