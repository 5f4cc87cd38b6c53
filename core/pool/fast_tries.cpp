// SPDX-License-Identifier: Apache-2.0
// FastTries (fast_tries.h): connpool_try_acquire_fast, connpool_acquire_claimed and
// connpool_try_release_fast.
//
// Why: a caller that runs where it must not block (a Mono raw internal call runs in GC-unsafe
// mode: while it runs, no garbage collection can stop the world) can still take the fast path
// of Acquire and Release, if it can tell when that path is not enough and leave the rest to
// the ordinary call made from where blocking is allowed. So TryAcquireFast and TryReleaseFast
// are Acquire's and Release's fast paths cut off at the first thing that could take mu_, wait
// on a helper thread, call the factory, allocate, or bump a counter or a histogram. At that
// point they decline (kETIMEOUT) having changed nothing, and the ordinary call does the whole
// job: a caller that tries first and falls back sees exactly the outcomes, stats and callbacks
// it would have seen without trying.
//
// Only a claim cannot be undone without a lock: once TryAcquireFast has won the kIdle ->
// kLeased CAS, giving the slot back could find a waiter's kWanted mark on it (then it must be
// handed off under mu_). So a claim that needs its checks (lifetime over, validation due,
// drain begun) is handed to the caller as kPENDING with the claim's lease value, and
// AcquireClaimed finishes it on the ordinary path (FinishClaim, then AcquireSlow if the
// connection failed them), exactly as Acquire would have continued after its own claim. Until
// then the slot is kLeased and holder_thread holds kUncheckedClaim: AcquireClaimed takes the
// claim by a CAS on that mark, so a claim is finished at most once and an issued lease is
// never mistaken for one. A claim the caller never finishes is a lease it never released: it
// shows in in_use and, with leak_threshold_ms, in the leaks list; connpool_release_broken
// gives it back (connpool_release would too, but would count it as freshly used, skipping
// the validation that was due).
//
// Release declines also when the lease's hold time would be recorded (a precisely timed
// lease, or one held two coarse ticks or more; lease_timing.h): Release records it before its
// give-back CAS, and if that CAS then failed the fallback would record it twice. In a tight
// loop that is at most kTimedLeasesPerTick releases per thread and coarse tick.
//
// Memory orders are Acquire's and Release's (pool_acquire.cpp): the claim and the give-back
// are the same SlotTable calls, and the waiters' count is read seq_cst before the give-back.
#include "pool/fast_tries.h"

#include <cstdint>

#include "pool/lease_timing.h"
#include "pool/pool.h"

namespace connpool {

namespace {

// holder_thread of a slot claimed by TryAcquireFast and not yet finished. No kernel thread id
// comes near it (they are at most 2^22 on Linux).
constexpr uint64_t kUncheckedClaim = UINT64_MAX;

}  // namespace

Status FastTries::TryAcquire(Pool& p, int priority, uint64_t* lease, void** conn) {
  if (p.traits_.mux || !p.accepting_.load(std::memory_order_acquire)) return Status::kETIMEOUT;
  uint32_t idx;
  uint64_t gen;
  if (!p.slots_.ClaimIdle(false, &idx, &gen)) return Status::kETIMEOUT;
  // Acquire's inline checks, in its order.
  Slot& s = p.SlotAt(idx);
  const int64_t now = p.CoarseNowNs();
  if ((s.expires_ns == 0 || now < s.expires_ns) && !p.NeedsValidation(s, now, false) && !p.slots_.IsClosing(idx)) {
    p.IssueLease(idx, gen, priority, now, 0, lease, conn);
    return Status::kOK;
  }
  // The claim is ours; say so in the slot (leak reports read these at any time).
  s.lease_start_ns.store(UntimedStart(now), std::memory_order_relaxed);
  s.holder_priority.store(priority, std::memory_order_relaxed);
  s.holder_thread.store(kUncheckedClaim, std::memory_order_relaxed);
  *lease = MakeLease(p.traits_.tag, idx, gen);
  if (conn != nullptr) *conn = nullptr;
  return Status::kPENDING;
}

Status FastTries::FinishClaimed(Pool& p, uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease,
                                void** conn) {
  if (timeout_ms < 0) timeout_ms = p.cfg_.acquire_timeout_ms;
  if (p.traits_.mux || LeaseTag(claim) != p.traits_.tag || LeaseIndex(claim) >= p.slots_.Capacity())
    return Status::kESTALE;
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(claim));
  SlotWord w;
  if (!p.slots_.HoldsLease(idx, LeaseGen(claim), &w)) return Status::kESTALE;
  uint64_t mark = kUncheckedClaim;
  if (!p.SlotAt(idx).holder_thread.compare_exchange_strong(mark, 0, std::memory_order_acq_rel)) return Status::kESTALE;
  // From here on as Acquire after its claim: the same checks, then the slow path with the pin
  // a failed claim leaves (RetireClaimed, or a helper that took over a validation).
  int64_t start = 0;
  if (p.FinishClaim(idx, w.gen(), priority, &start, timeout_ms, false, lease, conn)) return Status::kOK;
  return p.AcquireSlow(priority, timeout_ms, start, 1, lease, conn);
}

Status FastTries::TryRelease(Pool& p, uint64_t lease) {
  // A stale lease is declined too: Release counts it in stale_releases.
  if (p.traits_.mux || p.traits_.exclusive_release || LeaseTag(lease) != p.traits_.tag ||
      LeaseIndex(lease) >= p.slots_.Capacity())
    return Status::kETIMEOUT;
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(lease));
  Slot& s = p.SlotAt(idx);
  SlotWord w;
  if (!p.slots_.HoldsLease(idx, LeaseGen(lease), &w) || w.flagged()) return Status::kETIMEOUT;
  const int64_t now = p.CoarseNowNs();
  const int64_t start = s.lease_start_ns.load(std::memory_order_relaxed);
  // Release's condition for recording the hold time (see the file comment).
  if (IsTimedStart(start) || now - start > 1) return Status::kETIMEOUT;
  if ((s.expires_ns != 0 && now >= s.expires_ns) || p.sizing_.over_capacity() ||
      p.waiters_count_.load(std::memory_order_seq_cst) != 0)
    return Status::kETIMEOUT;
  // Release stores it too before its CAS, and again if it has to go on: a failed CAS below
  // leaves the same value Release itself would leave.
  s.last_used_ns.store(now, std::memory_order_relaxed);
  // The last touch of pool memory: after it the slot may be leased again, or the pool freed.
  return p.slots_.TryGiveBack(idx, w) ? Status::kOK : Status::kETIMEOUT;
}

}  // namespace connpool
