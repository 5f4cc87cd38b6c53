// SPDX-License-Identifier: Apache-2.0
// Multiplexed leases (max_leases_per_conn > 1, e.g. HTTP/2 streams): one connection carries
// up to N leases at once. A separate path under mu_, so the N == 1 hot path (one CAS each way)
// is untouched apart from one branch on a constant.
//
// A shared connection's slot stays kLeased, owned by this layer ("adopted"), while any of its
// leases is out; MuxConn lists them. Each lease is (tag, slot, token) with a token from a
// pool-wide 33-bit sequence, so a released, doubled or forged lease is not in the list and is
// refused with ESTALE. The connection is validated when it is claimed (FinishClaim, as for
// N == 1) and reset, retired (broken, max_uses, lifetime, shrink, drain) or handed on only
// when its last lease is back.
//
// Acquire order: an idle connection (load 0), else the least-loaded shared one with room,
// else wait; connectors create only for waiters beyond what creates in flight will cover
// (ShouldCreateLocked counts max_leases_per_conn per create). A connection that gets room
// (a lease back, or newly adopted) serves queued waiters first, by priority.
#include <algorithm>

#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

int64_t Pool::PickSharedLocked() const {
  int64_t best = -1;
  size_t best_load = 0;
  for (size_t i = 0; i < shared_.conns.size(); ++i) {
    const MuxConn& m = shared_.conns[i];
    if (!m.adopted || m.broken || m.leases.size() >= static_cast<size_t>(cfg_.max_leases_per_conn)) continue;
    if (slots_.IsClosing(static_cast<uint32_t>(i))) continue;
    if (best < 0 || m.leases.size() < best_load) {
      best = static_cast<int64_t>(i);
      best_load = m.leases.size();
    }
  }
  return best;
}

void Pool::AdoptLocked(uint32_t idx) {
  if (shared_.conns.size() <= idx) shared_.conns.resize(idx + 1);
  MuxConn& m = shared_.conns[idx];
  m.adopted = true;
  m.broken = false;
  m.leases.clear();
}

uint64_t Pool::IssueMuxLeaseLocked(uint32_t idx, bool first) {
  shared_.next_token = (shared_.next_token % kLeaseGenMask) + 1;  // 1 .. 2^33-1, never 0
  // Under mu_ already, so every shared lease is timed with the precise clock.
  shared_.conns[idx].leases.emplace_back(shared_.next_token, clock_->NowNs());
  ++shared_.leases_out;
  // The first lease on a claimed slot bumped its generation, which `acquired` counts already.
  if (!first) shared_.extra_acquires.fetch_add(1, std::memory_order_relaxed);
  return MakeLease(tag_, idx, shared_.next_token);
}

void Pool::ReadySharedLocked(Waiter* w, uint32_t idx) {
  w->mux_lease = IssueMuxLeaseLocked(idx, false);
  w->mux_conn = SlotAt(idx).conn;
  w->status = Status::kOK;
  w->done = true;
  PushReadyLocked(w);
}

Status Pool::AcquireMuxNowLocked(Waiter* w, uint64_t* lease, void** conn) {
  Status gate = AdmissionLocked();
  if (gate != Status::kOK) return gate;
  if (w->cancel != nullptr && w->cancel->Triggered()) return Status::kECANCELED;
  uint32_t idx;
  uint64_t gen;
  if (slots_.ClaimIdle(false, &idx, &gen)) {
    Slot& s = SlotAt(idx);
    const int64_t now = clock_->CoarseNowNs();
    // As the non-shared fast path: a connection that needs no factory callback is adopted
    // here; one that needs a check (lifetime, validation, a drain that began) goes to the
    // dispatcher, which checks and adopts it off this caller's stack.
    if ((s.expires_ns == 0 || now < s.expires_ns) && !NeedsValidation(s, now, false) &&
        !slots_.IsClosing(idx)) {
      uint64_t slot_lease = 0;
      void* c = nullptr;
      IssueLease(idx, gen, w->priority, now, 0, &slot_lease, &c);
      AdoptLocked(idx);
      *lease = IssueMuxLeaseLocked(idx, true);
      if (conn) *conn = c;
      ServeMuxWaitersLocked(idx);
      return Status::kOK;
    }
    if (!StartDispatcherLocked()) {
      failed_claims_.fetch_add(1, std::memory_order_relaxed);  // the generation bump was no lease
      PutBackLocked(idx);
      return Status::kENOMEM;
    }
    ReadyClaimedLocked(w, idx, gen);
    return Status::kPENDING;
  }
  int64_t shared = PickSharedLocked();
  if (shared >= 0) {
    *lease = IssueMuxLeaseLocked(static_cast<uint32_t>(shared), false);
    if (conn) *conn = SlotAt(static_cast<uint32_t>(shared)).conn;
    return Status::kOK;
  }
  return Status::kETIMEOUT;
}

void Pool::ServeMuxWaitersLocked(uint32_t idx) {
  const MuxConn& m = shared_.conns[idx];
  Slot& s = SlotAt(idx);
  while (Waiter* w = queue_.Front()) {
    if (m.broken || m.leases.size() >= static_cast<size_t>(cfg_.max_leases_per_conn) || lifetime_.draining()) return;
    if (w->cb != nullptr) {  // an asynchronous acquire: the dispatcher calls it back
      UnqueueLocked(w);
      ReadySharedLocked(w, idx);
      continue;
    }
    queue_.Remove(w);
    waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
    w->mux_lease = IssueMuxLeaseLocked(idx, false);
    w->mux_conn = s.conn;
    w->status = Status::kOK;
    w->done = true;
    w->cv.notify_one();
  }
}

Status Pool::AcquireMux(int priority, int64_t timeout_ms, uint64_t* lease, void** conn,
                        const CancelToken* cancel) {
  int64_t start = clock_->NowNs();  // FinishClaim may read it (the deadline of a validation)
  const int64_t deadline = SaturatingDeadline(start, timeout_ms);
  std::unique_lock<std::mutex> lk(mu_);
  lifetime_.Pin();  // as in AcquireSlow: keeps a closed pool alive until we leave
  auto leave = [&](Status st) { return LeaveAcquireLocked(lk, st); };
  auto record_wait = [&] {
    int64_t waited = clock_->NowNs() - start;
    if (waited > 0) acquire_wait_us_.Record(static_cast<uint64_t>(waited / 1000));
  };
  // A slot this call owns (claimed idle, handed over, or created) becomes a shared connection.
  // Returns false when its checks failed (it was retired; the claim's pin is undone here).
  auto adopt = [&](uint32_t idx, uint64_t gen, bool fresh) {
    uint64_t slot_lease = 0;
    void* c = nullptr;
    lk.unlock();
    bool ok = FinishClaim(idx, gen, priority, &start, timeout_ms, fresh, &slot_lease, &c);
    lk.lock();
    if (!ok) {
      lifetime_.Unpin();  // the failed claim's pin
      return false;
    }
    AdoptLocked(idx);
    *lease = IssueMuxLeaseLocked(idx, true);
    if (conn) *conn = c;
    ServeMuxWaitersLocked(idx);
    return true;
  };
  for (;;) {
    Status gate = AdmissionLocked();
    if (gate != Status::kOK) return leave(gate);
    if (cancel != nullptr && cancel->Triggered()) return leave(Status::kECANCELED);
    uint32_t idx;
    uint64_t gen;
    if (slots_.ClaimIdle(false, &idx, &gen)) {
      if (adopt(idx, gen, false)) return leave(Status::kOK);
      continue;
    }
    int64_t shared = PickSharedLocked();
    if (shared >= 0) {
      *lease = IssueMuxLeaseLocked(static_cast<uint32_t>(shared), false);
      if (conn) *conn = SlotAt(static_cast<uint32_t>(shared)).conn;
      record_wait();
      return leave(Status::kOK);
    }
    if (timeout_ms == 0) {
      uint64_t slot_lease = 0;
      void* c = nullptr;
      Status st = CreateForCaller(lk, priority, start, &slot_lease, &c);
      if (st != Status::kOK) return leave(st);
      uint32_t created = static_cast<uint32_t>(LeaseIndex(slot_lease));
      AdoptLocked(created);
      *lease = IssueMuxLeaseLocked(created, true);
      if (conn) *conn = c;
      ServeMuxWaitersLocked(created);
      return leave(Status::kOK);
    }
    if (cfg_.max_waiters > 0 && queue_.Size() >= static_cast<size_t>(cfg_.max_waiters))
      return leave(Status::kEOVERLOAD);
    Waiter w;
    w.priority = priority;
    w.seq = next_seq_++;
    w.cancel = cancel;
    queue_.Push(&w);
    waiters_count_.fetch_add(1, std::memory_order_seq_cst);
    connector_cv_.notify_all();  // demand grew
    const Status waited = AwaitHandOffLocked(lk, &w, cancel, deadline);
    if (waited != Status::kOK) return leave(waited);
    if (w.status != Status::kOK) return leave(w.status);
    if (w.mux_lease != 0) {  // a share of a connection already out
      *lease = w.mux_lease;
      if (conn) *conn = w.mux_conn;
      record_wait();
      return leave(Status::kOK);
    }
    if (adopt(w.slot, LeaseGen(w.lease), w.fresh)) return leave(Status::kOK);
    // The handed connection failed its checks: wait again within the same deadline.
  }
}

Status Pool::ReleaseMux(uint64_t lease, bool broken) {
  if (LeaseTag(lease) != tag_ || LeaseIndex(lease) >= slots_.Capacity()) {
    counters_.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  }
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(lease));
  const uint64_t token = LeaseGen(lease);
  std::unique_lock<std::mutex> lk(mu_);
  auto stale = [&] {
    counters_.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  };
  if (idx >= shared_.conns.size() || !shared_.conns[idx].adopted) return stale();
  MuxConn& m = shared_.conns[idx];
  auto it = std::find_if(m.leases.begin(), m.leases.end(), [&](const auto& l) { return l.first == token; });
  if (it == m.leases.end()) return stale();
  const int64_t held = clock_->NowNs() - it->second;
  lease_hold_us_.Record(held > 0 ? static_cast<uint64_t>(held / 1000) : 0);
  const int64_t now = clock_->CoarseNowNs();
  m.leases.erase(it);
  --shared_.leases_out;
  Slot& s = SlotAt(idx);
  ++s.uses;  // the slot is ours (kLeased, adopted) while mu_ is held
  if (broken) m.broken = true;
  if (!m.leases.empty()) {
    // A share back unbroken proves the connection works (the health logic tells a capacity
    // limit from an outage by such proofs; a shared connection may never turn idle).
    if (!m.broken) s.last_used_ns.store(now, std::memory_order_relaxed);
    ServeMuxWaitersLocked(idx);
    return Status::kOK;
  }
  // The last lease is back: now the connection may be checked, reset, retired or handed on.
  const bool was_broken = m.broken;
  m = MuxConn{};
  Reason retire = was_broken ? Reason::kBroken : Reason::kNone;
  if (retire == Reason::kNone && cfg_.max_uses > 0 && s.uses >= static_cast<uint64_t>(cfg_.max_uses))
    retire = Reason::kMaxUses;
  if (retire == Reason::kNone && s.expires_ns != 0 && now >= s.expires_ns) retire = Reason::kLifetime;
  if (retire == Reason::kNone && !lifetime_.draining() && TakeShrinkLocked()) retire = Reason::kShrink;
  if (retire != Reason::kNone || lifetime_.draining()) {
    lk.unlock();
    RetireOwned(idx, retire);  // may delete the pool: nothing after this touches it
    return Status::kOK;
  }
  if (reset_on_release_) {
    lk.unlock();  // the slot is kLeased and no longer adopted: nobody else touches it
    switch (ResetForRelease(idx)) {  // bounded by reset_timeout_ms (pool_hang.cpp)
      case ResetOutcome::kUsable: break;
      case ResetOutcome::kFailed:
        counters_.reset_failures.fetch_add(1, std::memory_order_relaxed);
        RetireOwned(idx, Reason::kBroken);
        return Status::kOK;
      case ResetOutcome::kPoolClosing: RetireOwned(idx, Reason::kNone); return Status::kOK;
      case ResetOutcome::kGaveUp: return Status::kOK;  // the helper owns the slot now
    }
    lk.lock();
    if (lifetime_.draining()) {
      lk.unlock();
      RetireOwned(idx, Reason::kNone);
      return Status::kOK;
    }
  }
  s.last_used_ns.store(now, std::memory_order_relaxed);
  PutBackLocked(idx);  // to the best waiter (who adopts it) or idle
  return Status::kOK;
}

}  // namespace connpool
