// SPDX-License-Identifier: Apache-2.0
// SharedLeases - multiplexed leases (max_leases_per_conn > 1): the layer that lets one
// connection carry several leases at once, beside the one-lease-per-slot hot path.
//
// What it owns: the table of adopted (shared) connections by slot index with the leases each
// carries, the lease-token sequence, the number of shared leases out, and the count of leases
// that did not bump a slot generation (so `acquired` stays exact). How a shared acquire finds a
// connection and when a shared connection is reset, retired or handed on: shared_leases.cpp.
//
// Requirements: one per Pool, built with it; every *Locked member and everything but
// extra_acquires() runs under the pool's mutex (Pool::mu_), which guards all of its state.
// Acquire and Release take that mutex themselves. It reaches the pool's slots, queue and
// callbacks through the pool (a friend of Pool), never through the slot words directly.
#ifndef CONNPOOL_CORE_POOL_SHARED_LEASES_H
#define CONNPOOL_CORE_POOL_SHARED_LEASES_H

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "pool/cancel_token.h"
#include "pool/waiter_queue.h"
#include "util/status.h"

namespace connpool {

class Pool;

class SharedLeases {
 public:
  explicit SharedLeases(Pool& pool) : pool_(pool) {}
  SharedLeases(const SharedLeases&) = delete;
  SharedLeases& operator=(const SharedLeases&) = delete;

  Status AcquireMux(int priority, int64_t timeout_ms, uint64_t* lease, void** conn,
                    const CancelToken* cancel = nullptr);
  Status ReleaseMux(uint64_t lease, bool broken);
  // Least-loaded adopted connection that can take one more lease; -1 if none.
  int64_t PickSharedLocked() const;
  // Makes the slot (owned by the caller, checked) a shared connection with no lease yet.
  void AdoptLocked(uint32_t idx);
  uint64_t IssueMuxLeaseLocked(uint32_t idx, bool first);
  // Gives waiters shares of connection `idx` while it has room.
  void ServeMuxWaitersLocked(uint32_t idx);
  // Async waiter `w` (off the queue) gets a share of adopted connection `idx`.
  void ReadySharedLocked(Waiter* w, uint32_t idx);
  // connpool_acquire_async before it queues: kOK served now (lease, conn set; `w` unused),
  // kPENDING readied for the dispatcher with an idle connection to check (`w` owned by it),
  // kETIMEOUT nothing to take now, else the refusal.
  Status AcquireMuxNowLocked(Waiter* w, uint64_t* lease, void** conn);

  // Shared leases out now (the pool's in_use when leases are shared).
  int64_t leases_out_locked() const { return leases_out_; }
  // Leases that did not bump a slot generation; read without the mutex by stats.
  uint64_t extra_acquires() const { return extra_acquires_.load(std::memory_order_acquire); }

 private:
  struct MuxConn {
    bool adopted = false;  // the slot is leased by this layer and carries `leases`
    bool broken = false;   // a lease was released broken: retire once the last is back
    std::vector<std::pair<uint64_t, int64_t>> leases;  // (token, lease start) of each lease out
  };

  Pool& pool_;
  std::vector<MuxConn> conns_;  // by slot index
  uint64_t next_token_ = 0;
  int64_t leases_out_ = 0;
  std::atomic<uint64_t> extra_acquires_{0};
};

}  // namespace connpool

#endif
