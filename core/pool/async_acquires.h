// SPDX-License-Identifier: Apache-2.0
// AsyncAcquires - connpool_acquire_async's layer: the acquires with no thread behind them.
//
// What it owns: the deadline list of queued asynchronous waiters, the ready list of waiters
// whose outcome is decided, and the dispatcher thread (started on first use, one per pool) that
// calls their callbacks one at a time with no lock held. The waiters themselves sit in the
// pool's priority queue beside blocked threads (async_acquires.cpp says why).
//
// Requirements: one per Pool, built with it; every *Locked member runs under the pool's mutex
// (Pool::mu_), which guards all of its state. Acquire takes that mutex itself when it must.
#ifndef CONNPOOL_CORE_POOL_ASYNC_ACQUIRES_H
#define CONNPOOL_CORE_POOL_ASYNC_ACQUIRES_H

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "pool/cancel_token.h"
#include "pool/waiter_queue.h"
#include "util/status.h"

namespace connpool {

class Pool;

class AsyncAcquires {
 public:
  explicit AsyncAcquires(Pool& pool) : pool_(pool) {}
  AsyncAcquires(const AsyncAcquires&) = delete;
  AsyncAcquires& operator=(const AsyncAcquires&) = delete;

  // Pool::AcquireAsync (see pool.h for what each status means).
  Status Acquire(int priority, int64_t timeout_ms, CancelToken* cancel, AsyncAcquireCallback cb, void* ud,
                 uint64_t* lease, void** conn);
  // Starts the dispatcher thread on first use. False if it cannot be started.
  bool StartDispatcherLocked();
  // Queues async waiter `w` (seq set), or readies it at once with a connection found idle.
  // kOK: the dispatcher owns `w` now. Else the refusal status; `w` is untouched.
  Status QueueAsyncLocked(Waiter* w);
  // `w` (claimed slot idx/gen, off the queue) gets the connection; the dispatcher checks it.
  void ReadyClaimedLocked(Waiter* w, uint32_t idx, uint64_t gen);
  // `w` (handed a connection and taken off the queue by the pool) leaves the deadline list
  // for the ready list: the dispatcher checks the connection and calls back.
  void ReadyHandedLocked(Waiter* w) {
    deadlines_.Remove(w);
    PushReadyLocked(w);
  }
  // `w` (off the queue) ends with `st`: counted, then called by the dispatcher.
  void CompleteAsyncLocked(Waiter* w, Status st);
  void PushReadyLocked(Waiter* w);
  // Takes `w` off the queue and the deadline list.
  void UnqueueLocked(Waiter* w);
  // The clock advanced or the pool is closing: the dispatcher looks at its deadlines again.
  void WakeDispatcherLocked() { cv_.notify_all(); }
  // Drain and Close: returns once every decided async acquire has been called back.
  void AwaitAsyncDeliveredLocked(std::unique_lock<std::mutex>& lk);

 private:
  void DispatcherLoop();
  // Calls `w`'s callback (or, with a connection, checks it first); unlocks around user code.
  void DeliverLocked(std::unique_lock<std::mutex>& lk, Waiter* w);

  Pool& pool_;
  // The dispatcher sleeps on cv_ until the first deadline or until a waiter is decided (ready);
  // it is the only thread that calls callbacks of queued acquires, one at a time, so they
  // never nest.
  DeadlineQueue deadlines_;
  Waiter* ready_head_ = nullptr;
  Waiter* ready_tail_ = nullptr;
  bool started_ = false;
  bool delivering_ = false;  // the dispatcher is inside DeliverLocked
  std::condition_variable cv_;
};

}  // namespace connpool

#endif
