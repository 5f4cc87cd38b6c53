// SPDX-License-Identifier: Apache-2.0
// Lifetime: the phase of an object that drains, closes and deletes itself when the last user
// is gone (connpool::Pool), with the count of threads pinning it alive meanwhile.
//
// Why one value: as separate flags, any combination could be written (freed but not
// draining), and every reader had to know which implied which. Here the phase only moves
// forward, one step at a time, and each step has one verb:
//
//   kOpen --BeginDrain--> kDraining --BeginStop--> kStopping --MarkFreed--> kFreed
//                                                                           |
//                                                      TryBeginDelete (no pins, owner idle)
//                                                                           v
//                                                                       kDeleting
//
//   kOpen      serving.
//   kDraining  Drain() began: new acquires are refused (ECLOSED), waiters woken, idle
//              connections destroyed. A pool may stay here (connpool_pool_drain without free).
//   kStopping  Close() began: background threads must leave their loops.
//   kFreed     Close() is done with the pool; whoever drops the last pin or connection deletes it.
//   kDeleting  one thread won the deletion; nobody else may touch the object.
//
// Pins: a thread that works on the object outside its lock while it may be freed (an acquire
// in its slow path, a drain destroying idle connections unlocked, an acquire registered with a
// cancel token) holds a pin; the object is not deleted while any pin is held. Unlike
// EntryGate (util/entry_gate.h: "enter unless closed, the closer waits for zero"), nobody
// waits for the pins here: the last one out deletes, so Close() never blocks on a caller that
// is waiting for its own acquire timeout.
//
// Thread safety: none of its own. Every call is made with the owner's mutex held (Pool::mu_),
// which orders all reads and writes: no atomics, no memory-ordering subtleties.
#ifndef CONNPOOL_CORE_UTIL_LIFETIME_H
#define CONNPOOL_CORE_UTIL_LIFETIME_H

#include <cstdint>
#include <mutex>
#include <utility>

#include "util/entry_gate.h"

namespace connpool {

// The one phase enum, shared with EntryGate (which walks kOpen, kDraining, kFreed).
using connpool_util::Phase;
using connpool_util::PhaseName;

class Lifetime {
 public:
  Lifetime() = default;
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  Phase phase() const { return phase_; }
  // Drain has begun (also true in every later phase): refuse new entries.
  bool draining() const { return phase_ >= Phase::kDraining; }
  // Close has begun: background threads must exit.
  bool stopping() const { return phase_ >= Phase::kStopping; }
  // Close is done with the object: the last pin or resource to go deletes it.
  bool freed() const { return phase_ >= Phase::kFreed; }
  // A thread has won the deletion (TryBeginDelete returned true to it).
  bool deleting() const { return phase_ == Phase::kDeleting; }

  // kOpen -> kDraining. True for the one call that began the drain (it does the drain's
  // one-time work); false when a drain had begun already.
  bool BeginDrain();
  // kDraining -> kStopping. Requires a drain begun first (Close drains before it stops).
  void BeginStop();
  // kStopping -> kFreed.
  void MarkFreed();
  // kFreed -> kDeleting when no pin is held and `owner_busy` is false (the owner still has
  // resources out that will come back: live connections, creates in flight). True exactly
  // once, for the caller that must delete the object after unlocking.
  bool TryBeginDelete(bool owner_busy);

  void Pin(int64_t n = 1) { pins_ += n; }
  void Unpin(int64_t n = 1);
  int64_t pins() const { return pins_; }

  // Runs `f` with `lk` (the owner's mutex) released and the object pinned, then locks again
  // and unpins: for work that must not run under the lock (a factory callback) and must not
  // find the object deleted when it locks again. The caller checks TryBeginDelete afterwards
  // if the pin may have been the last thing keeping the object alive.
  template <typename F>
  void RunUnlockedPinned(std::unique_lock<std::mutex>& lk, F&& f) {
    Pin();
    lk.unlock();
    std::forward<F>(f)();
    lk.lock();
    Unpin();
  }

 private:
  // Moves from `from` to the next phase; a step from elsewhere is a bug (checked in debug).
  void Step(Phase from, Phase to);

  Phase phase_ = Phase::kOpen;  // guarded by the owner's mutex
  int64_t pins_ = 0;            // guarded by the owner's mutex; never negative
};

}  // namespace connpool

#endif
