// SPDX-License-Identifier: Apache-2.0
// Cancellable acquire and the explanation of a failed acquire (connpool_acquire_cancellable,
// connpool_pool_explain).
//
// A cancellable acquire that finds an idle connection takes the same lock-free path as
// connpool_acquire (after one load of the token's flag). Only when it must wait does it
// register with its token, and it does so holding no pool lock (the lock order of
// cancel_token.h), with the pool pinned (lifetime_) so that a trigger never reaches a pool
// that was freed meanwhile.
#include <cinttypes>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "pool/pool.h"
#include "util/redact.h"

namespace connpool {

Status Pool::AcquireCancellable(int priority, int64_t timeout_ms, CancelToken* cancel, uint64_t* lease,
                                void** conn) {
  if (cancel == nullptr) return Acquire(priority, timeout_ms, lease, conn);
  if (cancel->Triggered()) {  // already triggered: refused even when a connection is idle
    counters_.canceled.fetch_add(1, std::memory_order_relaxed);
    return Status::kECANCELED;
  }
  if (timeout_ms < 0) timeout_ms = cfg_.acquire_timeout_ms;
  int pins = 0;
  int64_t start = 0;
  if (!mux_ && accepting_.load(std::memory_order_acquire)) {
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
  Status st = mux_ ? shared_.AcquireMux(priority, timeout_ms, lease, conn, cancel)
                   : AcquireSlow(priority, timeout_ms, start, pins, lease, conn, cancel);
  cancel->Unregister(&reg);
  bool del;
  OrderedLogQueue::Batch logs;
  {
    std::lock_guard<std::mutex> lk(mu_);
    lifetime_.Unpin();
    del = ShouldDeleteLocked();
    logs = logs_.TakeLocked();
  }
  logs_.Deliver(std::move(logs));
  if (del) DeleteSelf();
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

std::string Pool::Explain(Status st) {
  StatsSnapshot s = Snapshot();
  char line[768];
  int n = std::snprintf(line, sizeof line,
                        "pool '%s' (%s): %s: total %" PRIu64 " (idle %" PRIu64 ", in use %" PRIu64
                        ", creating %" PRIu64 "), max %" PRId64 ", waiters %" PRIu64,
                        s.name.c_str(), HealthName(s.state), StatusName(st), s.total, s.idle,
                        s.in_use, s.creating, s.max_size, s.waiters);
  std::string out(line, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof line - 1) : 0);
  if (s.has_last_error)
    out += "; last create error " + std::to_string(s.last_error_age_ms) + " ms ago: " + s.last_error_message;
  else
    out += "; no create error";
  if (s.health_reason != nullptr) out += std::string("; creates failing: ") + s.health_reason;
  if (s.next_attempt_in_ms >= 0) out += "; next retry in " + std::to_string(s.next_attempt_in_ms) + " ms";
  return Redact(out);  // the pool name and the error text may carry secrets
}

}  // namespace connpool
