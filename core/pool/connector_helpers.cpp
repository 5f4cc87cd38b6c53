// SPDX-License-Identifier: Apache-2.0
// Factory callbacks run on the pool's helper threads so that the thread that needs them waits
// with its own bound: the validate of a connection an acquire claimed, the create of an
// acquire with timeout 0, a connector's create (create_timeout_ms) and a release's reset
// (reset_timeout_ms; the last two in connector_bounded.cpp). A C callback cannot be interrupted, so a
// hung one could otherwise hold its caller forever (HikariCP bounds the same wait with
// validationTimeout and connectionTimeout; bb8 wraps it in a timeout future).
//
// Ownership (offload_job.h): the job and the slot it names belong to the waiter while it
// waits. A waiter that stops waiting (deadline, a timeout, close) marks the job abandoned and
// leaves; from then on the helper owns both: it finishes the callback, puts a good connection
// back (a waiter gets it) or retires it, and deletes the job. Every transfer happens under mu_.
//
// Helper threads start on demand, one per job running at once, so a hung callback never
// delays another job; each job holds a distinct slot, so there are at most max_size. They
// live until Close(), which joins them, or after close_wait_ms detaches one still inside a
// callback (connector_bounded.cpp). A helper that takes the last idle place starts a spare first, so a
// thread that submits a job (a releaser) almost never starts a thread itself: offloading a
// reset allocates nothing on the releasing thread (bench/alloc_test.cpp).
#include <pthread.h>

#include <algorithm>
#include <boost/thread/thread.hpp>

#include "pool/offload_job.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

namespace {

// Runs `call` (a factory callback) with mu_ released, marked in the seat so that Close()
// knows what it would wait for.
template <typename Call>
void CallOffLock(std::unique_lock<std::mutex>& lk, HelperSeat& seat, std::condition_variable& done_cv, Call call) {
  seat.in_call = true;
  lk.unlock();
  call();
  lk.lock();
  seat.in_call = false;
  done_cv.notify_all();  // Close() may be waiting for this callback
}

}  // namespace

void Connector::NotifyJob(OffloadJob* job) { job->cv.notify_one(); }

void Connector::NotifyWaitedLocked() {
  for (OffloadJob* j = waited_head_; j != nullptr; j = j->next_waited) NotifyJob(j);
}

bool Connector::SpawnHelperLocked() {
  try {
    auto seat = std::make_shared<HelperSeat>();
    threads_.emplace_back(boost::thread([this, seat] {
                            pthread_setname_np(pthread_self(), "connpool-call");
                            HelperLoop(seat);
                          }),
                          seat);
  } catch (const std::exception&) {
    return false;
  }
  ++helpers_;
  ++idle_helpers_;  // counted from now: it takes a job as soon as it runs
  return true;
}

bool Connector::SubmitLocked(OffloadJob* job) {
  if (pool_.lifetime_.stopping()) return false;
  // Normally a spare is idle or starting already (HelperLoop keeps one).
  if (idle_helpers_ == 0 && !SpawnHelperLocked() && helpers_ == 0) return false;
  job->next = nullptr;
  if (queue_tail_ != nullptr) {
    queue_tail_->next = job;
  } else {
    queue_head_ = job;
  }
  queue_tail_ = job;
  helper_cv_.notify_one();
  return true;
}

bool Connector::AwaitLocked(std::unique_lock<std::mutex>& lk, OffloadJob* job, int64_t until_ns, int on_timeout,
                            bool abandon_on_close) {
  job->prev_waited = nullptr;
  job->next_waited = waited_head_;
  if (waited_head_ != nullptr) waited_head_->prev_waited = job;
  waited_head_ = job;
  while (!job->done) {
    if (pool_.lifetime_.draining() && abandon_on_close) {
      job->abandoned = OffloadJob::kPoolClosed;
      done_cv_.notify_all();  // Close() waits for the helper, no longer for this waiter
      break;
    }
    if (pool_.clock_->NowNs() >= until_ns) {
      job->abandoned = on_timeout;
      break;
    }
    pool_.WaitLocked(job->cv, lk, until_ns);
  }
  if (job->prev_waited != nullptr) {
    job->prev_waited->next_waited = job->next_waited;
  } else {
    waited_head_ = job->next_waited;
  }
  if (job->next_waited != nullptr) job->next_waited->prev_waited = job->prev_waited;
  return job->done;
}
Connector::Checked Connector::ValidateForAcquire(uint32_t idx, int64_t until_ns, bool validation_bound) {
  std::unique_lock<std::mutex> lk(pool_.mu_);
  if (pool_.lifetime_.draining()) return Checked::kPoolClosing;
  auto* job = new OffloadJob(OffloadJob::kValidate, idx);
  if (!SubmitLocked(job)) {
    delete job;
    lk.unlock();
    return pool_.SafeValidate(pool_.SlotAt(idx).conn) ? Checked::kValid : Checked::kInvalid;
  }
  int on_timeout = validation_bound ? OffloadJob::kValidationTimeout : OffloadJob::kCallerDeadline;
  if (AwaitLocked(lk, job, until_ns, on_timeout)) {
    bool ok = job->ok;
    delete job;
    return ok ? Checked::kValid : Checked::kInvalid;
  }
  if (job->abandoned == OffloadJob::kValidationTimeout) {
    pool_.metrics_.counters.validation_failures.fetch_add(1, std::memory_order_relaxed);
    pool_.metrics_.counters.validations_abandoned.fetch_add(1, std::memory_order_relaxed);
    ++abandoned_calls_;
    pool_.logs_.AddLocked(CONNPOOL_LOG_WARN, "pool '" + pool_.cfg_.name +
                                                 "': validate did not answer within validation_timeout_ms (" +
                                                 std::to_string(pool_.cfg_.validation_timeout_ms) +
                                                 " ms); the connection is destroyed when it returns");
  }
  pool_.lifetime_.Pin();  // the pin RetireClaimed would have taken
  pool_.UnlockDeliverMaybeDelete(lk, false);
  return Checked::kGaveUp;
}

bool Connector::CreateOffThreadLocked(std::unique_lock<std::mutex>& lk, uint32_t idx, int64_t until_ns, Status* st) {
  auto* job = new OffloadJob(OffloadJob::kCreate, idx);
  // Bounded by the caller's wait and by create_timeout_ms, whichever ends first.
  const int64_t create_until = SaturatingDeadline(pool_.clock_->NowNs(), pool_.cfg_.create_timeout_ms);
  const int on_timeout = create_until <= until_ns ? OffloadJob::kCreateTimeout : OffloadJob::kCallerDeadline;
  bool ok;
  if (!SubmitLocked(job)) {  // no helper can run it: create here, as before helpers existed
    delete job;
    ok = RunCreateLocked(lk, idx);
  } else if (AwaitLocked(lk, job, std::min(until_ns, create_until), on_timeout)) {
    ok = FinishCreateLocked(idx, job->result, job->conn, job->err, job->t0_ns, job->t1_ns);
    delete job;
  } else {
    if (job->abandoned == OffloadJob::kCreateTimeout) AbandonCreateLocked(pool_.clock_->NowNs());
    *st = job->abandoned == OffloadJob::kPoolClosed ? Status::kECLOSED : Status::kETIMEOUT;
    return false;
  }
  if (!ok) *st = Status::kEFACTORY;
  return ok;
}

void Connector::HelperLoop(const std::shared_ptr<HelperSeat>& seat) {
  std::unique_lock<std::mutex> lk(pool_.mu_);
  bool counted = true;  // SpawnHelperLocked counted this thread idle
  // Nothing interrupts a helper: Close() wakes the idle ones and lets every helper finish the
  // jobs still queued (their slots must be emptied), so a helper only leaves here.
  for (;;) {
    while (queue_head_ == nullptr) {
      if (pool_.lifetime_.stopping()) {
        if (counted) --idle_helpers_;
        return;
      }
      if (!counted) {
        ++idle_helpers_;
        counted = true;
      }
      helper_cv_.wait(lk);
    }
    OffloadJob* job = queue_head_;
    queue_head_ = job->next;
    if (queue_head_ == nullptr) queue_tail_ = nullptr;
    if (counted) {
      --idle_helpers_;
      counted = false;
    }
    // Keep a spare, so that no job waits behind a callback that hangs and no submitter has
    // to start a thread. Failing to start one is not fatal: a helper will be free later.
    if (idle_helpers_ == 0 && !pool_.lifetime_.stopping()) SpawnHelperLocked();
    seat->job = job;
    const bool was_deleting = pool_.lifetime_.deleting();
    RunJobLocked(lk, *seat, job);
    seat->job = nullptr;
    // A helper Close() detached may have held the pool's last connection: it deletes the
    // pool then (nobody else can while its job held a slot). Joined helpers never see it freed.
    if ((!was_deleting && pool_.lifetime_.deleting()) || pool_.ShouldDeleteLocked()) {
      lk.unlock();
      pool_.DeleteSelf();
      return;
    }
    if (seat->detached) return;  // unlocking is the last touch of the pool
  }
}

void Connector::RunJobLocked(std::unique_lock<std::mutex>& lk, HelperSeat& seat, OffloadJob* job) {
  const uint32_t idx = job->idx;
  Slot& s = pool_.SlotAt(idx);
  if (job->kind == OffloadJob::kCreate) {
    if (pool_.lifetime_.draining() && job->abandoned == OffloadJob::kPoolClosed) {  // nobody wants it any more
      delete job;
      --creating_;
      pool_.slots_.FreeLocked(idx);
      if (pool_.live_ + creating_ == 0) pool_.state_cv_.notify_all();
      return;
    }
    void* conn = nullptr;
    std::string err;
    CreateResult r = CreateResult::kRetry;
    const int64_t t0 = pool_.clock_->NowNs();
    if (job->abandoned != OffloadJob::kCreateTimeout)  // given up on before it began: skip it
      CallOffLock(lk, seat, done_cv_, [&] { r = pool_.SafeCreate(&conn, &err); });
    const int64_t t1 = pool_.clock_->NowNs();
    if (job->abandoned == OffloadJob::kCreateTimeout) {
      delete job;
      FinishAbandonedCreateLocked(lk, idx, r, conn);
      return;
    }
    if (job->abandoned == OffloadJob::kNo) {
      job->result = r;
      job->conn = conn;
      job->err = std::move(err);
      job->t0_ns = t0;
      job->t1_ns = t1;
      job->done = true;
      job->cv.notify_one();
      return;
    }
    bool ok = FinishCreateLocked(idx, r, conn, err, t0, t1);
    delete job;
    if (ok) KeepCreatedLocked(lk, idx);  // as for a connector's create: the pool keeps it
    return;
  }

  if (job->kind == OffloadJob::kReset) {  // the slot's own job (offload_.reset_jobs): never deleted
    // An abandoned reset's connection is destroyed anyway: no round trip for it.
    bool usable = false;
    if (job->abandoned == OffloadJob::kNo) CallOffLock(lk, seat, done_cv_, [&] { usable = pool_.SafeReset(s.conn); });
    if (job->abandoned == OffloadJob::kNo) {
      job->ok = usable;
      job->done = true;
      job->cv.notify_one();
      return;
    }
    const bool overran = job->abandoned == OffloadJob::kResetTimeout;
    if (overran) --abandoned_calls_;
    lk.unlock();
    pool_.SafeDestroy(s.conn);
    lk.lock();
    pool_.SlotEmptiedLocked(idx, overran ? Pool::Reason::kBroken : Pool::Reason::kNone);  // HelperLoop deletes if due
    return;
  }

  // Validate. Not worth a round trip when the answer can no longer be used.
  const bool wanted = job->abandoned == OffloadJob::kNo || job->abandoned == OffloadJob::kCallerDeadline;
  bool valid = false;
  if (wanted && !pool_.lifetime_.draining())
    CallOffLock(lk, seat, done_cv_, [&] { valid = pool_.SafeValidate(s.conn); });
  if (job->abandoned == OffloadJob::kNo) {
    job->ok = valid;
    job->done = true;
    job->cv.notify_one();
    return;
  }
  const int why = job->abandoned;
  if (why == OffloadJob::kValidationTimeout) --abandoned_calls_;
  delete job;
  if (valid && why == OffloadJob::kCallerDeadline && !pool_.lifetime_.draining()) {
    s.checked_ns = pool_.clock_->CoarseNowNs();
    pool_.PutBackLocked(idx);  // validated for nobody: the next waiter or the idle list gets it
    return;
  }
  // A failed validate nobody saw yet is counted here (a timed-out one was, by the acquirer).
  const bool failed = why == OffloadJob::kCallerDeadline && !pool_.lifetime_.draining();
  if (failed) pool_.metrics_.counters.validation_failures.fetch_add(1, std::memory_order_relaxed);
  lk.unlock();
  pool_.SafeDestroy(s.conn);
  lk.lock();
  pool_.SlotEmptiedLocked(
      idx, failed || why == OffloadJob::kValidationTimeout ? Pool::Reason::kValidation : Pool::Reason::kNone);
}

Connector::~Connector() {
  for (OffloadJob* j : reset_jobs_) delete j;
}

void Connector::AddResetJobLocked(uint32_t idx) { reset_jobs_.push_back(new OffloadJob(OffloadJob::kReset, idx)); }

void Connector::JoinHelpers() {
  for (auto& helper : threads_) {
    if (helper.first.joinable()) helper.first.join();
  }
}

}  // namespace connpool
