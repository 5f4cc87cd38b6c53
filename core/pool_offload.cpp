// SPDX-License-Identifier: Apache-2.0
// Factory callbacks that an acquire needs, run on the pool's helper threads so that the
// acquire waits for them with its own deadline: the validate of a connection it claimed, and
// the create of an acquire with timeout 0. A C callback cannot be interrupted, so a hung one
// could otherwise hold its caller forever (HikariCP bounds the same wait with
// validationTimeout and connectionTimeout; bb8 wraps it in a timeout future).
//
// Ownership: the job and the slot it names belong to the acquirer while it waits. An acquirer
// that stops waiting (deadline, validation_timeout_ms, close) marks the job abandoned and
// leaves; from then on the helper owns both: it finishes the callback, puts a good connection
// back (a waiter gets it) or retires it, and deletes the job. Every transfer happens under mu_.
//
// Helper threads start on demand, one per job running at once, so a hung callback never
// delays another acquire's job; each job holds a distinct slot, so there are at most max_size.
// They live until Close(), which joins them like the connectors (waiting for a callback
// already running there to return).
#include <pthread.h>

#include <algorithm>
#include <boost/thread/thread.hpp>

#include "log.h"
#include "pool.h"

namespace connpool {

struct Pool::OffloadJob {
  enum Kind { kValidate, kCreate };
  // Why the acquirer stopped waiting; decides what the helper does with the result.
  enum Abandon { kNo, kCallerDeadline, kValidationTimeout, kPoolClosed };
  OffloadJob(Kind k, uint32_t i) : kind(k), idx(i) {}
  const Kind kind;
  const uint32_t idx;
  int abandoned = kNo;
  bool done = false;
  bool ok = false;              // validate: the connection is good; create: it was created
  std::condition_variable cv;   // the waiting acquirer sleeps here
};

void Pool::NotifyJob(OffloadJob* job) { job->cv.notify_one(); }

bool Pool::SubmitLocked(OffloadJob* job) {
  if (stopping_) return false;
  if (idle_helpers_ <= offload_queue_.size()) {  // every idle helper already has a job coming
    try {
      threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "connpool-call");
        HelperLoop();
      });
      ++helpers_;
    } catch (const std::exception&) {
      if (helpers_ == 0) return false;  // a busy helper takes it when it is free
    }
  }
  offload_queue_.push_back(job);
  helper_cv_.notify_one();
  return true;
}

bool Pool::AwaitLocked(std::unique_lock<std::mutex>& lk, OffloadJob* job, int64_t until_ns, int on_timeout) {
  offload_waited_.push_back(job);
  while (!job->done) {
    if (closing_) {
      job->abandoned = OffloadJob::kPoolClosed;
      break;
    }
    if (clock_->NowNs() >= until_ns) {
      job->abandoned = on_timeout;
      break;
    }
    WaitLocked(job->cv, lk, until_ns);
  }
  offload_waited_.erase(std::find(offload_waited_.begin(), offload_waited_.end(), job));
  return job->done;
}

Pool::Checked Pool::ValidateForAcquire(uint32_t idx, int64_t until_ns, bool validation_bound) {
  std::unique_lock<std::mutex> lk(mu_);
  if (closing_) return Checked::kPoolClosing;
  auto* job = new OffloadJob(OffloadJob::kValidate, idx);
  if (!SubmitLocked(job)) {
    delete job;
    lk.unlock();
    return SafeValidate(SlotAt(idx).conn) ? Checked::kValid : Checked::kInvalid;
  }
  int on_timeout = validation_bound ? OffloadJob::kValidationTimeout : OffloadJob::kCallerDeadline;
  if (AwaitLocked(lk, job, until_ns, on_timeout)) {
    bool ok = job->ok;
    delete job;
    return ok ? Checked::kValid : Checked::kInvalid;
  }
  if (job->abandoned == OffloadJob::kValidationTimeout) {
    validation_failures_.fetch_add(1, std::memory_order_relaxed);
    pending_logs_.emplace_back(CONNPOOL_LOG_WARN,
                               "pool '" + cfg_.name + "': validate did not answer within validation_timeout_ms (" +
                                   std::to_string(cfg_.validation_timeout_ms) +
                                   " ms); the connection is destroyed when it returns");
  }
  ++slow_callers_;  // the pin RetireClaimed would have taken
  PendingLogs logs = TakeLogsLocked();
  lk.unlock();
  EmitLogs(std::move(logs));
  return Checked::kGaveUp;
}

bool Pool::CreateOffThreadLocked(std::unique_lock<std::mutex>& lk, uint32_t idx, int64_t until_ns, Status* st) {
  auto* job = new OffloadJob(OffloadJob::kCreate, idx);
  bool ok;
  if (!SubmitLocked(job)) {  // no helper can run it: create here, as before helpers existed
    delete job;
    ok = RunCreateLocked(lk, idx);
  } else if (AwaitLocked(lk, job, until_ns, OffloadJob::kCallerDeadline)) {
    ok = job->ok;
    delete job;
  } else {
    *st = job->abandoned == OffloadJob::kPoolClosed ? Status::kECLOSED : Status::kETIMEOUT;
    return false;
  }
  if (!ok) *st = Status::kEFACTORY;
  return ok;
}

void Pool::HelperLoop() {
  try {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      // Jobs queued before Close() are still finished: their slots must be emptied.
      while (offload_queue_.empty()) {
        if (stopping_) return;
        ++idle_helpers_;
        try {
          helper_cv_.wait(lk);  // an interruption point
        } catch (...) {
          --idle_helpers_;
          throw;
        }
        --idle_helpers_;
      }
      OffloadJob* job = offload_queue_.front();
      offload_queue_.pop_front();
      RunJobLocked(lk, job);
    }
  } catch (const boost::thread_interrupted&) {
    // Close() interrupted the wait of an idle helper: nothing is half-done.
  }
}

void Pool::RunJobLocked(std::unique_lock<std::mutex>& lk, OffloadJob* job) {
  const uint32_t idx = job->idx;
  Slot& s = SlotAt(idx);
  if (job->kind == OffloadJob::kCreate) {
    bool ok = RunCreateLocked(lk, idx);
    if (job->abandoned == OffloadJob::kNo) {
      job->ok = ok;
      job->done = true;
      job->cv.notify_one();
      return;
    }
    delete job;
    if (ok) KeepCreatedLocked(lk, idx);  // as for a connector's create: the pool keeps it
    return;
  }

  // Validate. Not worth a round trip when the answer can no longer be used.
  const bool wanted = job->abandoned == OffloadJob::kNo || job->abandoned == OffloadJob::kCallerDeadline;
  bool valid = false;
  if (wanted && !closing_) {
    lk.unlock();
    valid = SafeValidate(s.conn);
    lk.lock();
  }
  if (job->abandoned == OffloadJob::kNo) {
    job->ok = valid;
    job->done = true;
    job->cv.notify_one();
    return;
  }
  const int why = job->abandoned;
  delete job;
  if (valid && why == OffloadJob::kCallerDeadline && !closing_) {
    s.checked_ns = clock_->CoarseNowNs();
    PutBackLocked(idx);  // validated for nobody: the next waiter or the idle list gets it
    return;
  }
  // A failed validate nobody saw yet is counted here (a timed-out one was, by the acquirer).
  const bool failed = why == OffloadJob::kCallerDeadline && !closing_;
  if (failed) validation_failures_.fetch_add(1, std::memory_order_relaxed);
  lk.unlock();
  SafeDestroy(s.conn);
  lk.lock();
  SlotEmptiedLocked(idx, failed || why == OffloadJob::kValidationTimeout ? Reason::kValidation : Reason::kNone);
}

}  // namespace connpool
