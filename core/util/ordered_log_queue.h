// SPDX-License-Identifier: Apache-2.0
// OrderedLogQueue: log lines made under an owner's lock, delivered to the log sink after the
// owner unlocks, in the order they were made.
//
// Why: the log sink is user code, so it must never run with a pool lock held (a sink that
// calls connpool_pool_stats_json would deadlock, a slow one would stall every acquire). So a
// message made under the lock waits here until the thread that made it has unlocked. But two
// threads that unlock one after the other may reach the sink in either order, and a reader of
// the log must see "ready -> degraded" before "degraded -> unavailable". Each batch taken
// therefore gets a ticket under the owner's lock, and batches reach the sink in ticket order.
//
// Requirements: AddLocked, EmptyLocked, TakeLocked and IssuedLocked are called with the owner's
// mutex held (one mutex for the queue's whole life); Deliver and AwaitDelivered with no owner
// lock held; every batch taken is delivered exactly once (a batch dropped would stop every
// later one forever). Guarantees: the sink is called with no lock of this class held, batches
// in ticket order, never two batches at once; an empty batch (ticket 0) costs nothing.
// Lifetime: the owner may be deleted once AwaitDelivered(IssuedLocked()) has returned and no
// thread can take a batch any more.
#ifndef CONNPOOL_CORE_UTIL_ORDERED_LOG_QUEUE_H
#define CONNPOOL_CORE_UTIL_ORDERED_LOG_QUEUE_H

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace connpool {

class OrderedLogQueue {
 public:
  // Where delivered lines go; the default is the process-wide sink (util/log.h).
  using Sink = void (*)(void* ctx, int level, const std::string& msg);

  struct Batch {
    uint64_t ticket = 0;  // 0: nothing to deliver
    std::vector<std::pair<int, std::string>> items;
  };

  OrderedLogQueue();  // delivers to connpool::Log
  OrderedLogQueue(Sink sink, void* ctx);
  OrderedLogQueue(const OrderedLogQueue&) = delete;
  OrderedLogQueue& operator=(const OrderedLogQueue&) = delete;

  // --- with the owner's mutex held
  void AddLocked(int level, std::string msg);
  bool EmptyLocked() const { return pending_.empty(); }
  // Everything added so far as one batch with the next ticket (ticket 0 when nothing is pending).
  Batch TakeLocked();
  // Tickets handed out so far (for AwaitDelivered before deleting the owner).
  uint64_t IssuedLocked() const { return issued_; }
  // Takes a batch, unlocks `lk`, delivers it and locks again; a no-op when nothing is pending.
  void FlushLocked(std::unique_lock<std::mutex>& lk);

  // --- with no owner lock held
  // Waits until every earlier ticket has been delivered, then calls the sink for each line.
  void Deliver(Batch batch);
  // Returns once every ticket up to `issued` has been delivered.
  void AwaitDelivered(uint64_t issued);

 private:
  const Sink sink_;
  void* const ctx_;
  std::vector<std::pair<int, std::string>> pending_;  // guarded by the owner's mutex
  uint64_t issued_ = 0;                                 // guarded by the owner's mutex
  // Orders delivery. Never held together with the owner's mutex, nor while the sink runs.
  std::mutex order_mu_;
  std::condition_variable order_cv_;  // served_ moved
  uint64_t served_ = 0;               // guarded by order_mu_: batches delivered so far
};

}  // namespace connpool

#endif
