// SPDX-License-Identifier: Apache-2.0
// Connector - where a pool's connections come from, and the threads its factory callbacks
// run on when a caller must not wait for them unbounded.
//
// What it owns: the creates in flight (connect_concurrency, backoff and slow start are asked
// of the health machine through the pool), the creates and other callbacks abandoned past
// their timeout, the connector threads' wake-up, and the helper threads with their job queue:
// the validate of a claimed connection, the create of an acquire with timeout 0, a
// connector's create bounded by create_timeout_ms and a release's reset bounded by
// reset_timeout_ms (connector_helpers.cpp, connector_bounded.cpp say why and who owns what).
//
// Requirements: one per Pool, built with it; every *Locked member runs under the pool's mutex
// (Pool::mu_), which guards all of its state. Factory callbacks never run with that mutex
// held. The connector threads themselves are the pool's (started by Pool::Create, joined by
// Close); the helper threads are this class's and JoinHelpers() joins them.
#ifndef CONNPOOL_CORE_POOL_CONNECTOR_H
#define CONNPOOL_CORE_POOL_CONNECTOR_H

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/thread.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pool/factory.h"
#include "util/status.h"

namespace connpool {

class Pool;
struct HelperSeat;  // connector_helpers.cpp: one helper thread's state as Close() sees it

class Connector {
 public:
  struct OffloadJob;  // offload_job.h
  enum class Checked { kValid, kInvalid, kGaveUp, kPoolClosing };
  enum class ResetOutcome { kUsable, kFailed, kGaveUp, kPoolClosing };

  explicit Connector(Pool& pool) : pool_(pool) {}
  ~Connector();  // deletes the slots' reset jobs
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // --- creates (connector.cpp)
  // A connector thread's loop: creates for waiters and for the warm floor while allowed.
  void ConnectorLoop();
  bool CanCreateNowLocked(int64_t now_ns, int64_t* wake_at) const;
  bool ShouldCreateLocked(int64_t now_ns, int64_t* wake_at) const;
  uint32_t BeginCreateLocked();
  // Records a finished create on slot `idx`. On success the slot holds the connection and is
  // still kCreating (the caller decides who gets it); on failure the slot is empty again.
  bool FinishCreateLocked(uint32_t idx, CreateResult r, void* conn, const std::string& err,
                          int64_t t0_ns, int64_t t1_ns);
  // Runs create for slot `idx` (BeginCreateLocked done) with `lk` released, then records it
  // (FinishCreateLocked). True: the slot holds the new connection, still kCreating.
  bool RunCreateLocked(std::unique_lock<std::mutex>& lk, uint32_t idx);
  // A pool thread's new connection that no acquire is waiting on: destroyed if the pool is
  // closing or has shrunk meanwhile, else handed to the best waiter or made idle.
  void KeepCreatedLocked(std::unique_lock<std::mutex>& lk, uint32_t idx);

  // --- state the pool reads (all under mu_)
  int64_t creating_locked() const { return creating_; }
  // Creates abandoned after create_timeout_ms whose callback has not returned.
  int64_t abandoned_creates_locked() const { return abandoned_creates_; }
  int64_t abandoned_calls_locked() const { return abandoned_calls_; }
  // Wakes the connector threads: demand grew, a slot came free, health or sizes changed.
  void WakeLocked() { connector_cv_.notify_all(); }
  // The clock advanced: waits on jobs and the connectors' sleeps look at the time again.
  void OnClockAdvancedLocked() {
    NotifyWaitedLocked();
    WakeLocked();
    done_cv_.notify_all();
  }
  // Close(): helpers waiting for a job wake up and leave once the queue is empty.
  void WakeHelpersLocked() { helper_cv_.notify_all(); }
  // Close(), after AwaitHelpersLocked, without the mutex: joins the helpers not detached.
  void JoinHelpers();
  // A new slot `idx` (ReserveSlotLocked) gets its reset job, made here rather than on the
  // release path so that offloading a reset allocates nothing there.
  void AddResetJobLocked(uint32_t idx);
  // The connectors sleep on this (Pool::WaitLocked needs the variable itself).
  boost::condition_variable_any& connector_cv() { return connector_cv_; }

  // --- callbacks run on helper threads (connector_helpers.cpp, connector_bounded.cpp)
  // Validates claimed slot `idx` on a helper thread, waiting until `until_ns` at most.
  // kValid/kInvalid: done, the caller still owns the slot. kPoolClosing: not run because the pool
  // is closing, the caller owns the slot. kGaveUp: the helper owns the slot now (it puts the
  // connection back or retires it when the callback returns) and the pool is pinned for the
  // caller as by RetireClaimed. `validation_bound`: until_ns is the validation_timeout_ms
  // bound (giving up then counts as a failed validation), not the caller's deadline.
  Checked ValidateForAcquire(uint32_t idx, int64_t until_ns, bool validation_bound);
  // Queues `job` for a helper thread, starting one if none is free. False if none can run it
  // (the pool is stopping or no thread could be started): the caller runs the callback itself.
  bool SubmitLocked(OffloadJob* job);
  // Waits for `job` until `until_ns` or the pool closes. True: done, the caller deletes it.
  // False: abandoned (job->abandoned says why); the helper finishes and deletes it.
  // `abandon_on_close` false: keep waiting through a drain (a release's reset: the releaser
  // then decides, as when the reset ran on its own thread).
  bool AwaitLocked(std::unique_lock<std::mutex>& lk, OffloadJob* job, int64_t until_ns, int on_timeout,
                   bool abandon_on_close = true);
  // The create of slot `idx` (BeginCreateLocked done) for an acquire with timeout 0, waited
  // for until `until_ns`. True: created, the slot holds the connection (still kCreating).
  // False: *st is EFACTORY (create failed), ETIMEOUT or ECLOSED (the helper finishes it).
  bool CreateOffThreadLocked(std::unique_lock<std::mutex>& lk, uint32_t idx, int64_t until_ns, Status* st);
  // The create of a connector (slot `idx`, BeginCreateLocked done) on a helper thread, waited
  // for create_timeout_ms. True: the slot holds the new connection (still kCreating). False:
  // failed, or abandoned (counted as a failed create; the helper destroys what it returns).
  bool CreateBoundedLocked(std::unique_lock<std::mutex>& lk, uint32_t idx);
  // A create given up on after create_timeout_ms: it stops counting in creating_ (so
  // connect_concurrency and the outage probe move on) and counts as a failed create.
  void AbandonCreateLocked(int64_t now_ns);
  // The end of a create abandoned by AbandonCreateLocked: what it made is destroyed, the slot
  // freed; counted as created and destroyed, never as a success for health.
  void FinishAbandonedCreateLocked(std::unique_lock<std::mutex>& lk, uint32_t idx, CreateResult r, void* conn);
  // The reset of slot `idx` (owned by the releaser) bounded by reset_timeout_ms. kGaveUp: the
  // helper owns the slot now and destroys its connection when reset returns. kPoolClosing: the
  // pool is draining; the caller still owns the slot and retires it.
  ResetOutcome ResetForRelease(uint32_t idx);
  void HelperLoop(const std::shared_ptr<HelperSeat>& seat);
  static void NotifyJob(OffloadJob* job);  // wakes the acquirer waiting on it
  void RunJobLocked(std::unique_lock<std::mutex>& lk, HelperSeat& seat, OffloadJob* job);
  // Close(): waits up to close_wait_ms for callbacks still running on helpers, then detaches
  // the helpers still inside a job (they finish it and may delete the pool, see HelperSeat).
  void AwaitHelpersLocked(std::unique_lock<std::mutex>& lk);
  // Starts a helper thread, counted idle at once. False if no thread could be started.
  bool SpawnHelperLocked();
  // Wakes every thread waiting on a job (clock advanced, drain began).
  void NotifyWaitedLocked();

 private:
  Pool& pool_;
  int64_t creating_ = 0;  // creates in flight
  // Creates abandoned after create_timeout_ms whose callback has not returned: each holds a
  // kCreating slot and counts against max_size, but not in creating_.
  int64_t abandoned_creates_ = 0;
  int64_t abandoned_calls_ = 0;  // callbacks abandoned, still running
  boost::condition_variable_any connector_cv_;
  // Intrusive lists (OffloadJob::next, ::prev_waited/next_waited), so that offloading a reset
  // allocates nothing on the releasing thread.
  OffloadJob* queue_head_ = nullptr;  // jobs no helper has taken yet
  OffloadJob* queue_tail_ = nullptr;
  OffloadJob* waited_head_ = nullptr;  // jobs a thread waits on
  // Each slot's reset job, made with the slot when resets are offloaded; a slot has at most
  // one reset in flight. Indices are handed out in order, so reset_jobs_[i] is slot i's.
  std::vector<OffloadJob*> reset_jobs_;
  // Helpers idle or starting; SpawnHelperLocked counts a new one at once, and a helper that
  // takes the last idle place starts a spare, so submitting rarely has to start a thread.
  size_t idle_helpers_ = 0;
  size_t helpers_ = 0;  // helper threads started
  boost::condition_variable_any helper_cv_;
  // Helper threads with their seats, appended until the pool is stopping; Close() joins them
  // (or cuts loose one stuck in a callback past close_wait_ms).
  std::vector<std::pair<boost::thread, std::shared_ptr<HelperSeat>>> threads_;
  std::condition_variable done_cv_;  // a helper left a callback (Close waits on it)
};

}  // namespace connpool

#endif
