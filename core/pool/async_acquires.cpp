// SPDX-License-Identifier: Apache-2.0
// Asynchronous acquire (connpool_acquire_async): an acquire with no thread behind it.
//
// Shape: an async acquire that finds an idle connection needing no factory callback returns it
// at once, on the same lock-free path as connpool_acquire. Otherwise it becomes a heap Waiter in
// the same priority FIFO as blocked threads (so FIFO, max_waiters and `waiters` cover both),
// plus a deadline list. Whoever decides its outcome - a release handing it a connection, a
// connector with a new one, a cancel trigger, drain, the unavailable cutoff, its deadline -
// only moves it to the ready list under mu_. One dispatcher thread per pool (started on first
// use) takes ready waiters one at a time, validates a handed connection if the config asks for
// it, and calls the callback with no lock held. Hence a callback never runs on the stack of
// connpool_acquire_async, never with a lock held, and never nested: a release inside a callback
// that serves the next waiter only appends it to the ready list, so 10,000 callbacks that each
// release run one after the other on a flat stack.
//
// Lifetime: the dispatcher is one of threads_, which Close() joins after Drain() has ended
// every queued async acquire with ECLOSED and waited until all were called back, so the pool
// outlives every callback. A waiter registered with a cancel token unregisters before its
// callback (the callback may free the token) and before it is deleted.
#include <pthread.h>

#include <limits>
#include <new>

#include "pool/pool.h"
#include "util/log.h"
#include "util/redact.h"

namespace connpool {

namespace {
// The dispatcher of the pool whose callback is running on this thread: Drain() called from a
// callback (which the contract forbids) must not wait for that very callback to finish.
thread_local const void* t_dispatching = nullptr;
}  // namespace

Status AsyncAcquires::Acquire(int priority, int64_t timeout_ms, CancelToken* cancel, AsyncAcquireCallback cb, void* ud,
                              uint64_t* lease, void** conn) {
  if (cancel != nullptr && cancel->Triggered()) {  // refused even when a connection is idle
    pool_.metrics_.counters.canceled.fetch_add(1, std::memory_order_relaxed);
    return Status::kECANCELED;
  }
  if (timeout_ms < 0) timeout_ms = pool_.cfg_.acquire_timeout_ms;
  uint32_t idx;
  uint64_t gen;
  if (!pool_.traits_.mux && pool_.accepting_.load(std::memory_order_acquire) &&
      pool_.slots_.ClaimIdle(false, &idx, &gen)) {
    Slot& s = pool_.SlotAt(idx);
    const int64_t now = pool_.CoarseNowNs();
    // Lifetime, validation and a drain that began all need a factory callback, which must not
    // run here: those go to the dispatcher like a queued acquire.
    if ((s.expires_ns == 0 || now < s.expires_ns) && !pool_.NeedsValidation(s, now, false) &&
        !pool_.slots_.IsClosing(idx)) {
      pool_.IssueLease(idx, gen, priority, now, 0, lease, conn);
      return Status::kOK;
    }
    Waiter* w = new (std::nothrow) Waiter;
    std::lock_guard<std::mutex> lk(pool_.mu_);
    if (w == nullptr || !StartDispatcherLocked()) {
      delete w;
      pool_.metrics_.failed_claims.fetch_add(1, std::memory_order_relaxed);  // the generation bump was no lease
      pool_.PutBackLocked(idx);
      return Status::kENOMEM;
    }
    w->priority = priority;
    w->seq = pool_.next_seq_++;
    w->cb = cb;
    w->ud = ud;
    w->timeout_ms = timeout_ms;
    w->start_ns = pool_.clock_->NowNs();
    w->deadline_ns = SaturatingDeadline(w->start_ns, timeout_ms);
    ReadyClaimedLocked(w, idx, gen);
    return Status::kPENDING;
  }

  Waiter* w = new (std::nothrow) Waiter;
  if (w == nullptr) return Status::kENOMEM;
  w->priority = priority;
  w->cb = cb;
  w->ud = ud;
  w->cancel = cancel;
  w->timeout_ms = timeout_ms;
  w->start_ns = pool_.clock_->NowNs();
  w->deadline_ns = SaturatingDeadline(w->start_ns, timeout_ms);
  std::unique_lock<std::mutex> lk(pool_.mu_);
  pool_.lifetime_.Pin();  // a trigger may reach this pool as soon as we are registered
  if (cancel != nullptr) {
    lk.unlock();  // the token's lock comes before the pool's (cancel_token.h)
    w->reg.pool = &pool_;
    cancel->Register(&w->reg);
    w->registered = cancel;
    lk.lock();
  }
  w->seq = pool_.next_seq_++;
  Status st = Status::kETIMEOUT;
  if (pool_.traits_.mux) {  // shared connections are served under mu_ (shared_leases.cpp)
    st = pool_.shared_.AcquireMuxNowLocked(w, lease, conn);
    if (st == Status::kOK) {
      pool_.LeaveAcquireLocked(lk, Status::kOK);  // we hold a lease: the pool stays
      if (cancel != nullptr) cancel->Unregister(&w->reg);
      delete w;
      return Status::kOK;
    }
    if (st == Status::kPENDING) {
      pool_.LeaveAcquireLocked(lk, Status::kOK);  // the dispatcher owns w now
      return Status::kPENDING;
    }
  }
  if (st == Status::kETIMEOUT) st = StartDispatcherLocked() ? QueueAsyncLocked(w) : Status::kENOMEM;
  if (st == Status::kOK) {
    pool_.LeaveAcquireLocked(lk, Status::kOK);  // the dispatcher owns w now: do not touch it
    return Status::kPENDING;
  }
  if (cancel != nullptr) {
    lk.unlock();
    cancel->Unregister(&w->reg);
    lk.lock();
  }
  delete w;
  return pool_.LeaveAcquireLocked(lk, st);
}

bool AsyncAcquires::StartDispatcherLocked() {
  if (started_) return true;
  if (pool_.lifetime_.stopping()) return false;
  try {
    pool_.threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "connpool-async");
      DispatcherLoop();
    });
  } catch (const std::exception& e) {
    Log(CONNPOOL_LOG_ERROR, "pool '" + Redact(pool_.cfg_.name) + "': cannot start the async dispatcher: " + e.what());
    return false;
  }
  started_ = true;
  return true;
}

Status AsyncAcquires::QueueAsyncLocked(Waiter* w) {
  Status gate = pool_.AdmissionLocked();
  if (gate != Status::kOK) return gate;
  if (w->cancel != nullptr && w->cancel->Triggered()) return Status::kECANCELED;
  // timeout 0 means "only what is free now": its deadline is its start.
  if (pool_.clock_->NowNs() >= w->deadline_ns) return Status::kETIMEOUT;
  uint32_t idx;
  uint64_t gen;
  if (pool_.slots_.ClaimIdle(false, &idx, &gen)) {
    ReadyClaimedLocked(w, idx, gen);
    return Status::kOK;
  }
  if (pool_.traits_.mux) {
    int64_t shared = pool_.shared_.PickSharedLocked();
    if (shared >= 0) {
      pool_.shared_.ReadySharedLocked(w, static_cast<uint32_t>(shared));
      return Status::kOK;
    }
  }
  if (pool_.cfg_.max_waiters > 0 && pool_.queue_.Size() >= static_cast<size_t>(pool_.cfg_.max_waiters))
    return Status::kEOVERLOAD;
  pool_.queue_.Push(w);
  pool_.waiters_count_.fetch_add(1, std::memory_order_seq_cst);
  // The lock-free releaser's race, as in AcquireSlow: mark what is leased, take what is idle.
  if (pool_.slots_.ClaimIdle(true, &idx, &gen)) {
    pool_.queue_.Remove(w);
    pool_.waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
    ReadyClaimedLocked(w, idx, gen);
    return Status::kOK;
  }
  deadlines_.Push(w);
  if (deadlines_.Front() == w) cv_.notify_one();  // the dispatcher must wake sooner
  pool_.connector_.WakeLocked();                  // demand grew
  return Status::kOK;
}

void AsyncAcquires::ReadyClaimedLocked(Waiter* w, uint32_t idx, uint64_t gen) {
  w->slot = idx;
  w->lease = MakeLease(pool_.traits_.tag, idx, gen);
  w->status = Status::kOK;
  w->fresh = false;
  w->done = true;
  PushReadyLocked(w);
}

void AsyncAcquires::CompleteAsyncLocked(Waiter* w, Status st) {
  pool_.CountFailure(st);
  w->status = st;
  w->done = true;
  PushReadyLocked(w);
}

void AsyncAcquires::PushReadyLocked(Waiter* w) {
  w->next_ready = nullptr;
  if (ready_tail_ != nullptr)
    ready_tail_->next_ready = w;
  else
    ready_head_ = w;
  ready_tail_ = w;
  cv_.notify_one();
}

void AsyncAcquires::UnqueueLocked(Waiter* w) {
  pool_.queue_.Remove(w);
  pool_.waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
  if (w->cb != nullptr) deadlines_.Remove(w);
}

void AsyncAcquires::DispatcherLoop() {
  t_dispatching = this;
  std::unique_lock<std::mutex> lk(pool_.mu_);
  for (;;) {
    const int64_t now = pool_.clock_->NowNs();
    while (Waiter* w = deadlines_.Front()) {
      if (w->deadline_ns > now) break;
      UnqueueLocked(w);
      CompleteAsyncLocked(w, Status::kETIMEOUT);
    }
    if (Waiter* w = ready_head_) {
      ready_head_ = w->next_ready;
      if (ready_head_ == nullptr) ready_tail_ = nullptr;
      delivering_ = true;
      DeliverLocked(lk, w);
      delivering_ = false;
      if (ready_head_ == nullptr) pool_.state_cv_.notify_all();  // AwaitAsyncDeliveredLocked
      continue;
    }
    if (pool_.lifetime_.stopping()) return;  // Drain() has ended every queued acquire: none is left
    Waiter* first = deadlines_.Front();
    pool_.WaitLocked(cv_, lk, first != nullptr ? first->deadline_ns : std::numeric_limits<int64_t>::max());
  }
}

void AsyncAcquires::DeliverLocked(std::unique_lock<std::mutex>& lk, Waiter* w) {
  uint64_t lease = 0;
  void* conn = nullptr;
  Status st = w->status;
  if (st == Status::kOK && w->mux_lease != 0) {  // a share of a connection already out
    lease = w->mux_lease;
    conn = w->mux_conn;
    const int64_t waited = pool_.clock_->NowNs() - w->start_ns;
    if (waited > 0) pool_.metrics_.acquire_wait_us.Record(static_cast<uint64_t>(waited / 1000));
    lk.unlock();
  } else {
    lk.unlock();
    if (st == Status::kOK && !pool_.FinishClaim(w->slot, LeaseGen(w->lease), w->priority, &w->start_ns, w->timeout_ms,
                                                w->fresh, &lease, &conn)) {
      // The handed connection failed its checks (and was retired, pinning the pool): the
      // acquire goes back to its place in the queue, or ends if it cannot wait any more.
      lk.lock();
      pool_.lifetime_.Unpin();
      Status again = QueueAsyncLocked(w);
      if (again != Status::kOK) CompleteAsyncLocked(w, again);
      return;
    }
    if (st == Status::kOK && pool_.traits_.mux) {  // the checked connection becomes a shared one
      lk.lock();
      pool_.shared_.AdoptLocked(w->slot);
      lease = pool_.shared_.IssueMuxLeaseLocked(w->slot, true);
      pool_.shared_.ServeMuxWaitersLocked(w->slot);
      lk.unlock();
    }
  }
  if (w->registered != nullptr) w->registered->Unregister(&w->reg);  // the callback may free it
  w->cb(w->ud, ToInt(st), lease, conn);
  delete w;
  lk.lock();
}

void AsyncAcquires::AwaitAsyncDeliveredLocked(std::unique_lock<std::mutex>& lk) {
  if (!started_ || t_dispatching == this) return;
  while (ready_head_ != nullptr || delivering_) pool_.state_cv_.wait(lk);
}

}  // namespace connpool
