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

int64_t SharedLeases::PickSharedLocked() const {
  int64_t best = -1;
  size_t best_load = 0;
  for (size_t i = 0; i < conns_.size(); ++i) {
    const MuxConn& m = conns_[i];
    if (!m.adopted || m.broken || m.leases.size() >= static_cast<size_t>(pool_.cfg_.max_leases_per_conn)) continue;
    if (pool_.slots_.IsClosing(static_cast<uint32_t>(i))) continue;
    if (best < 0 || m.leases.size() < best_load) {
      best = static_cast<int64_t>(i);
      best_load = m.leases.size();
    }
  }
  return best;
}

void SharedLeases::AdoptLocked(uint32_t idx) {
  if (conns_.size() <= idx) conns_.resize(idx + 1);
  MuxConn& m = conns_[idx];
  m.adopted = true;
  m.broken = false;
  m.leases.clear();
}

uint64_t SharedLeases::IssueMuxLeaseLocked(uint32_t idx, bool first) {
  next_token_ = (next_token_ % kLeaseGenMask) + 1;  // 1 .. 2^33-1, never 0
  // Under mu_ already, so every shared lease is timed with the precise clock.
  conns_[idx].leases.emplace_back(next_token_, pool_.clock_->NowNs());
  ++leases_out_;
  // The first lease on a claimed slot bumped its generation, which `acquired` counts already.
  if (!first) extra_acquires_.fetch_add(1, std::memory_order_relaxed);
  return MakeLease(pool_.traits_.tag, idx, next_token_);
}

void SharedLeases::ReadySharedLocked(Waiter* w, uint32_t idx) {
  w->mux_lease = IssueMuxLeaseLocked(idx, false);
  w->mux_conn = pool_.SlotAt(idx).conn;
  w->status = Status::kOK;
  w->done = true;
  pool_.async_.PushReadyLocked(w);
}

Status SharedLeases::AcquireMuxNowLocked(Waiter* w, uint64_t* lease, void** conn) {
  Status gate = pool_.AdmissionLocked();
  if (gate != Status::kOK) return gate;
  if (w->cancel != nullptr && w->cancel->Triggered()) return Status::kECANCELED;
  uint32_t idx;
  uint64_t gen;
  if (pool_.slots_.ClaimIdle(false, &idx, &gen)) {
    Slot& s = pool_.SlotAt(idx);
    const int64_t now = pool_.clock_->CoarseNowNs();
    // As the non-shared fast path: a connection that needs no factory callback is adopted
    // here; one that needs a check (lifetime, validation, a drain that began) goes to the
    // dispatcher, which checks and adopts it off this caller's stack.
    if ((s.expires_ns == 0 || now < s.expires_ns) && !pool_.NeedsValidation(s, now, false) &&
        !pool_.slots_.IsClosing(idx)) {
      uint64_t slot_lease = 0;
      void* c = nullptr;
      pool_.IssueLease(idx, gen, w->priority, now, 0, &slot_lease, &c);
      AdoptLocked(idx);
      *lease = IssueMuxLeaseLocked(idx, true);
      if (conn) *conn = c;
      ServeMuxWaitersLocked(idx);
      return Status::kOK;
    }
    if (!pool_.async_.StartDispatcherLocked()) {
      pool_.metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);  // the generation bump was no lease
      pool_.PutBackLocked(idx);
      return Status::kENOMEM;
    }
    pool_.async_.ReadyClaimedLocked(w, idx, gen);
    return Status::kPENDING;
  }
  int64_t shared = PickSharedLocked();
  if (shared >= 0) {
    *lease = IssueMuxLeaseLocked(static_cast<uint32_t>(shared), false);
    if (conn) *conn = pool_.SlotAt(static_cast<uint32_t>(shared)).conn;
    return Status::kOK;
  }
  return Status::kETIMEOUT;
}

void SharedLeases::ServeMuxWaitersLocked(uint32_t idx) {
  const MuxConn& m = conns_[idx];
  Slot& s = pool_.SlotAt(idx);
  while (Waiter* w = pool_.queue_.Front()) {
    if (m.broken || m.leases.size() >= static_cast<size_t>(pool_.cfg_.max_leases_per_conn) ||
        pool_.lifetime_.draining())
      return;
    if (w->cb != nullptr) {  // an asynchronous acquire: the dispatcher calls it back
      pool_.async_.UnqueueLocked(w);
      ReadySharedLocked(w, idx);
      continue;
    }
    pool_.queue_.Remove(w);
    pool_.waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
    w->mux_lease = IssueMuxLeaseLocked(idx, false);
    w->mux_conn = s.conn;
    w->status = Status::kOK;
    w->done = true;
    w->cv.notify_one();
  }
}

Status SharedLeases::AcquireMux(int priority, int64_t timeout_ms, uint64_t* lease, void** conn,
                                const CancelToken* cancel) {
  int64_t start = pool_.clock_->NowNs();  // FinishClaim may read it (the deadline of a validation)
  const int64_t deadline = SaturatingDeadline(start, timeout_ms);
  std::unique_lock<std::mutex> lk(pool_.mu_);
  pool_.lifetime_.Pin();  // as in AcquireSlow: keeps a closed pool alive until we leave
  auto leave = [&](Status st) { return pool_.LeaveAcquireLocked(lk, st); };
  auto record_wait = [&] {
    int64_t waited = pool_.clock_->NowNs() - start;
    if (waited > 0) pool_.metrics_.acquire_wait_us.Record(static_cast<uint64_t>(waited / 1000));
  };
  // A slot this call owns (claimed idle, handed over, or created) becomes a shared connection.
  // Returns false when its checks failed (it was retired; the claim's pin is undone here).
  auto adopt = [&](uint32_t idx, uint64_t gen, bool fresh) {
    uint64_t slot_lease = 0;
    void* c = nullptr;
    lk.unlock();
    bool ok = pool_.FinishClaim(idx, gen, priority, &start, timeout_ms, fresh, &slot_lease, &c);
    lk.lock();
    if (!ok) {
      pool_.lifetime_.Unpin();  // the failed claim's pin
      return false;
    }
    AdoptLocked(idx);
    *lease = IssueMuxLeaseLocked(idx, true);
    if (conn) *conn = c;
    ServeMuxWaitersLocked(idx);
    return true;
  };
  for (;;) {
    Status gate = pool_.AdmissionLocked();
    if (gate != Status::kOK) return leave(gate);
    if (cancel != nullptr && cancel->Triggered()) return leave(Status::kECANCELED);
    uint32_t idx;
    uint64_t gen;
    if (pool_.slots_.ClaimIdle(false, &idx, &gen)) {
      if (adopt(idx, gen, false)) return leave(Status::kOK);
      continue;
    }
    int64_t shared = PickSharedLocked();
    if (shared >= 0) {
      *lease = IssueMuxLeaseLocked(static_cast<uint32_t>(shared), false);
      if (conn) *conn = pool_.SlotAt(static_cast<uint32_t>(shared)).conn;
      record_wait();
      return leave(Status::kOK);
    }
    if (timeout_ms == 0) {
      uint64_t slot_lease = 0;
      void* c = nullptr;
      Status st = pool_.CreateForCaller(lk, priority, start, &slot_lease, &c);
      if (st != Status::kOK) return leave(st);
      uint32_t created = static_cast<uint32_t>(LeaseIndex(slot_lease));
      AdoptLocked(created);
      *lease = IssueMuxLeaseLocked(created, true);
      if (conn) *conn = c;
      ServeMuxWaitersLocked(created);
      return leave(Status::kOK);
    }
    if (pool_.cfg_.max_waiters > 0 && pool_.queue_.Size() >= static_cast<size_t>(pool_.cfg_.max_waiters))
      return leave(Status::kEOVERLOAD);
    Waiter w;
    w.priority = priority;
    w.seq = pool_.next_seq_++;
    w.cancel = cancel;
    pool_.queue_.Push(&w);
    pool_.waiters_count_.fetch_add(1, std::memory_order_seq_cst);
    pool_.connector_.WakeLocked();  // demand grew
    const Status waited = pool_.AwaitHandOffLocked(lk, &w, cancel, deadline);
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

Status SharedLeases::ReleaseMux(uint64_t lease, bool broken) {
  if (LeaseTag(lease) != pool_.traits_.tag || LeaseIndex(lease) >= pool_.slots_.Capacity()) {
    pool_.metrics_.counters.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  }
  const uint32_t idx = static_cast<uint32_t>(LeaseIndex(lease));
  const uint64_t token = LeaseGen(lease);
  std::unique_lock<std::mutex> lk(pool_.mu_);
  auto stale = [&] {
    pool_.metrics_.counters.stale_releases.fetch_add(1, std::memory_order_relaxed);
    return Status::kESTALE;
  };
  if (idx >= conns_.size() || !conns_[idx].adopted) return stale();
  MuxConn& m = conns_[idx];
  auto it = std::find_if(m.leases.begin(), m.leases.end(), [&](const auto& l) { return l.first == token; });
  if (it == m.leases.end()) return stale();
  const int64_t held = pool_.clock_->NowNs() - it->second;
  pool_.metrics_.lease_hold_us.Record(held > 0 ? static_cast<uint64_t>(held / 1000) : 0);
  const int64_t now = pool_.clock_->CoarseNowNs();
  m.leases.erase(it);
  --leases_out_;
  Slot& s = pool_.SlotAt(idx);
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
  Pool::Reason retire = was_broken ? Pool::Reason::kBroken : Pool::Reason::kNone;
  if (retire == Pool::Reason::kNone && pool_.cfg_.max_uses > 0 && s.uses >= static_cast<uint64_t>(pool_.cfg_.max_uses))
    retire = Pool::Reason::kMaxUses;
  if (retire == Pool::Reason::kNone && s.expires_ns != 0 && now >= s.expires_ns) retire = Pool::Reason::kLifetime;
  if (retire == Pool::Reason::kNone && !pool_.lifetime_.draining() && pool_.sizing_.TakeShrinkLocked())
    retire = Pool::Reason::kShrink;
  if (retire != Pool::Reason::kNone || pool_.lifetime_.draining()) {
    lk.unlock();
    pool_.RetireOwned(idx, retire);  // may delete the pool: nothing after this touches it
    return Status::kOK;
  }
  if (pool_.traits_.reset_on_release) {
    lk.unlock();  // the slot is kLeased and no longer adopted: nobody else touches it
    switch (pool_.connector_.ResetForRelease(idx)) {  // bounded by reset_timeout_ms (connector_bounded.cpp)
      case Connector::ResetOutcome::kUsable: break;
      case Connector::ResetOutcome::kFailed:
        pool_.metrics_.counters.reset_failures.fetch_add(1, std::memory_order_relaxed);
        pool_.RetireOwned(idx, Pool::Reason::kBroken);
        return Status::kOK;
      case Connector::ResetOutcome::kPoolClosing: pool_.RetireOwned(idx, Pool::Reason::kNone); return Status::kOK;
      case Connector::ResetOutcome::kGaveUp: return Status::kOK;  // the helper owns the slot now
    }
    lk.lock();
    if (pool_.lifetime_.draining()) {
      lk.unlock();
      pool_.RetireOwned(idx, Pool::Reason::kNone);
      return Status::kOK;
    }
  }
  s.last_used_ns.store(now, std::memory_order_relaxed);
  pool_.PutBackLocked(idx);  // to the best waiter (who adopts it) or idle
  return Status::kOK;
}

}  // namespace connpool
