// SPDX-License-Identifier: Apache-2.0
// Callbacks that do not return (docs/HEALTH.md, "Failure modes"): a backend that accepts and
// then goes silent, or a process that is frozen, leaves a create, reset or validate blocked in
// the user's code, which the pool cannot interrupt. It abandons the call instead: the thread
// that waited for it moves on when create_timeout_ms / reset_timeout_ms /
// validation_timeout_ms is over, the call stops counting where it would block the pool
// (creating_ for connect_concurrency and the outage probe), and its helper thread destroys what
// it returns (HikariCP #2062: one adder thread hung 15 minutes on a half-open socket).
//   * creates_abandoned / resets_abandoned / validations_abandoned count the calls given up on,
//     abandoned_calls_ those still running; each holds its slot, so they never exceed max_size.
//   * Close() waits close_wait_ms for such calls, then detaches their helpers and returns. Each
//     finishes its job as usual when the call returns (destroying the connection), and the last
//     one deletes the pool: the factory, and with it the user's ctx, lives until then. A call
//     that never returns keeps the pool's memory forever; that is the price of not hanging.
#include <algorithm>

#include "pool/offload_job.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

bool Connector::CreateBoundedLocked(std::unique_lock<std::mutex>& lk, uint32_t idx) {
  auto* job = new OffloadJob(OffloadJob::kCreate, idx);
  if (!SubmitLocked(job)) {  // no helper can run it: create here, unbounded, as before
    delete job;
    return RunCreateLocked(lk, idx);
  }
  if (AwaitLocked(lk, job, SaturatingDeadline(pool_.clock_->NowNs(), pool_.cfg_.create_timeout_ms),
                  OffloadJob::kCreateTimeout)) {
    const bool ok = FinishCreateLocked(idx, job->result, job->conn, job->err, job->t0_ns, job->t1_ns);
    delete job;
    return ok;
  }
  // Closing: the helper finishes the create and KeepCreatedLocked destroys the connection.
  if (job->abandoned == OffloadJob::kCreateTimeout) AbandonCreateLocked(pool_.clock_->NowNs());
  return false;
}

void Connector::AbandonCreateLocked(int64_t now_ns) {
  --creating_;
  ++abandoned_creates_;
  ++abandoned_calls_;
  pool_.metrics_.counters.creates_abandoned.fetch_add(1, std::memory_order_relaxed);
  pool_.metrics_.counters.create_failures.fetch_add(1, std::memory_order_relaxed);
  // A silent backend is an outage like a refused connection: backoff, degraded, and after
  // unavailable_after_ms unavailable, so acquires fail fast instead of waiting out their timeout.
  // Treated as started now, so it schedules the next probe itself (it never counts as one of
  // the burst of creates that were in flight when the outage began).
  pool_.OnCreateFailureLocked(now_ns, CreateResult::kRetry,
                              "create did not return within create_timeout_ms (" +
                                  std::to_string(pool_.cfg_.create_timeout_ms) +
                                  " ms); abandoned, what it returns is destroyed",
                              now_ns);
  if (pool_.lifetime_.draining() && pool_.live_ + creating_ == 0) pool_.state_cv_.notify_all();
}

void Connector::FinishAbandonedCreateLocked(std::unique_lock<std::mutex>& lk, uint32_t idx, CreateResult r,
                                            void* conn) {
  --abandoned_creates_;
  --abandoned_calls_;
  Slot& s = pool_.SlotAt(idx);
  if (r == CreateResult::kOk && conn != nullptr) {
    // Counted as made and destroyed, so created - destroyed stays the live count.
    pool_.metrics_.counters.created.fetch_add(1, std::memory_order_relaxed);
    ++pool_.live_;
    s.conn = conn;
    lk.unlock();
    pool_.SafeDestroy(conn);
    lk.lock();
    pool_.SlotEmptiedLocked(idx, Pool::Reason::kNone);  // only a helper gets here: Close() joins it first
    return;
  }
  pool_.slots_.FreeLocked(idx);
  connector_cv_.notify_all();  // the slot no longer counts against max_size
}

Connector::ResetOutcome Connector::ResetForRelease(uint32_t idx) {
  Slot& s = pool_.SlotAt(idx);
  if (pool_.cfg_.reset_timeout_ms == 0) return pool_.SafeReset(s.conn) ? ResetOutcome::kUsable : ResetOutcome::kFailed;
  std::unique_lock<std::mutex> lk(pool_.mu_);
  if (pool_.lifetime_.draining()) return ResetOutcome::kPoolClosing;
  // The slot's own job: no allocation here. It is free, since we own the slot: a helper that
  // owned it for an abandoned reset has emptied the slot since.
  OffloadJob* job = reset_jobs_[idx];
  job->abandoned = OffloadJob::kNo;
  job->done = false;
  job->ok = false;
  if (!SubmitLocked(job)) {
    lk.unlock();
    return pool_.SafeReset(s.conn) ? ResetOutcome::kUsable : ResetOutcome::kFailed;
  }
  // Through a drain as well: the release then decides as if reset had run on this thread.
  if (AwaitLocked(lk, job, SaturatingDeadline(pool_.clock_->NowNs(), pool_.cfg_.reset_timeout_ms),
                  OffloadJob::kResetTimeout,
                  /*abandon_on_close=*/false))
    return job->ok ? ResetOutcome::kUsable : ResetOutcome::kFailed;
  pool_.metrics_.counters.resets_abandoned.fetch_add(1, std::memory_order_relaxed);
  ++abandoned_calls_;
  pool_.logs_.AddLocked(CONNPOOL_LOG_WARN, "pool '" + pool_.cfg_.name +
                                               "': reset did not return within reset_timeout_ms (" +
                                               std::to_string(pool_.cfg_.reset_timeout_ms) +
                                               " ms); the release returns, the connection is destroyed when "
                                               "reset returns");
  // The helper owns the slot now; it stays counted in live_ until the helper empties it, so
  // the pool outlives this call.
  pool_.UnlockDeliverMaybeDelete(lk, false);
  return ResetOutcome::kGaveUp;
}

void Connector::AwaitHelpersLocked(std::unique_lock<std::mutex>& lk) {
  const int64_t until = SaturatingDeadline(pool_.clock_->NowNs(), pool_.cfg_.close_wait_ms);
  for (;;) {
    bool busy = false;
    for (auto& helper : threads_) {
      const HelperSeat& seat = *helper.second;
      // A reset its releaser still waits for is the releaser's business, as it was when reset
      // ran on the releasing thread: free never waited for it.
      if (seat.in_call && !(seat.job->kind == OffloadJob::kReset && seat.job->abandoned == OffloadJob::kNo))
        busy = true;
    }
    if (!busy || pool_.clock_->NowNs() >= until) break;
    pool_.WaitLocked(done_cv_, lk, until);
  }
  // Only a helper inside a callback is detached. One past its callback (destroying, doing the
  // books) is joined: it is done soon, and Close() then frees the pool itself, as before. One
  // without a job is joined too: it may be about to wake and must not outlive the pool. While
  // mu_ is held no helper is between taking a job and entering its callback (both happen
  // under one hold of mu_), so none of the joined ones is about to start a callback for a job
  // it has.
  int detached = 0;
  for (auto& helper : threads_) {
    HelperSeat& seat = *helper.second;
    if (!seat.in_call) continue;
    seat.detached = true;
    helper.first.detach();
    ++detached;
  }
  if (detached > 0)
    pool_.logs_.AddLocked(CONNPOOL_LOG_WARN, "pool '" + pool_.cfg_.name + "': " + std::to_string(detached) +
                                                 " factory callback(s) still running at free (close_wait_ms=" +
                                                 std::to_string(pool_.cfg_.close_wait_ms) +
                                                 "); the pool is released when the last of them returns");
}

}  // namespace connpool
