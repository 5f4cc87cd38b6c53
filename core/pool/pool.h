// SPDX-License-Identifier: Apache-2.0
// connpool::Pool - the engine behind connpool_pool_t.
//
// Requirements: a Factory whose callbacks may be slow, fail or throw; any number of threads.
// Guarantees:
//   * An uncontended acquire/release takes no mutex and allocates nothing: it claims an idle
//     slot with one CAS and gives it back with two (slot.h). The mutex mu_ is taken only when
//     nothing is idle, when waiters exist, or for creates, retirements and health changes.
//   * Waiters are served by direct hand-off, highest priority first, FIFO within a priority.
//   * Factory callbacks never run with mu_ held. Creates run on the connector threads (at most
//     connect_concurrency at once, with backoff). The callbacks an acquire itself needs (the
//     validate of a connection it claimed; the create of an acquire with timeout 0, so that a
//     failure can be reported as EFACTORY) run on helper threads while the acquire waits with
//     its own deadline (pool_offload.cpp): a callback that hangs cannot hold an acquire past
//     its timeout. Likewise a connector waits create_timeout_ms for a create and a release
//     reset_timeout_ms for a reset, both run on helper threads; a callback that overruns is
//     abandoned to its helper, which destroys what it returns (docs/HEALTH.md, "Failure
//     modes"). Destroy runs wherever a connection retires.
//   * Every connection created is idle, leased, or destroyed: created - destroyed = live_.
// Lifetime: Close() (connpool_pool_free) drains, joins the background threads and, once the
// last lease is back, deletes the pool. A release that ends the last lease of a closed pool
// deletes it; such a release touches no pool memory after its final mutex section (see
// Release and RetireOwned).
#ifndef CONNPOOL_CORE_POOL_H
#define CONNPOOL_CORE_POOL_H

#include <atomic>
#include <boost/thread/condition_variable.hpp>
#include <boost/thread/thread.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/health_machine.h"
#include "pool/cancel_token.h"
#include "pool/factory.h"
#include "pool/slot.h"
#include "pool/slot_table.h"
#include "pool/waiter_queue.h"
#include "sizing/adaptive_feed.h"
#include "stats/counters.h"
#include "stats/histogram.h"
#include "util/clock.h"
#include "util/lifetime.h"
#include "util/ordered_log_queue.h"
#include "util/status.h"
#include "util/thread_stripe.h"

namespace connpool {

struct PoolOptions {
  Clock* clock = nullptr;          // nullptr: the process's SteadyClock
  bool maintenance_thread = true;  // false: tests call RunMaintenance() themselves
  uint64_t seed = 0;               // jitter randomness; 0: seeded from std::random_device
};

struct LeakInfo {
  uint64_t lease = 0;
  int64_t held_ms = 0;
  uint64_t thread = 0;
  int priority = 0;
};

struct StatsSnapshot {
  std::string name;
  Health state = Health::kStarting;
  int64_t uptime_ms = 0;
  int64_t state_since_ms = 0;
  uint64_t total = 0, idle = 0, in_use = 0, creating = 0;
  // Connections with at least one lease out; equals in_use unless max_leases_per_conn > 1,
  // where in_use counts leases (then total = idle + busy + creating).
  uint64_t busy = 0;
  int64_t max_leases_per_conn = 1;
  int64_t max_size = 0, min_idle = 0;
  uint64_t waiters = 0;
  // The monotonic counts, one field per row of stats/counters.h (acquired, timeouts, ...,
  // creates_abandoned, stalls).
#define CONNPOOL_SNAPSHOT_COUNTER(field, name, label, help) uint64_t field = 0;
  CONNPOOL_POOL_COUNTERS(CONNPOOL_SNAPSHOT_COUNTER)
#undef CONNPOOL_SNAPSHOT_COUNTER
  // Hangs (pool_stall.cpp, pool_offload.cpp): beside the abandoned-callback and stall counts
  // above, the stalled report (every connection out, waiters, no lease back for stall_after_ms).
  uint64_t abandoned_calls = 0;  // gauge: abandoned callbacks that have not returned yet
  bool stalled = false;
  int64_t stalled_ms = 0;  // how long the current stall has lasted (0: not stalled)
  int64_t stall_after_ms = 0;
  HistogramSummary acquire_wait_us, lease_hold_us, create_us;
  // The readings the summaries above come from, for the Prometheus histograms (zeros folded in).
  Histogram::Counts lease_hold_counts, create_counts;
  bool otel_metrics = false;  // config otel_metrics: also render db_client_connection_*
  uint64_t consecutive_failures = 0;
  int64_t next_attempt_in_ms = -1;  // -1: none scheduled
  int64_t outage_ms = 0;
  // Why the pool is not plainly healthy (docs/HEALTH.md): nullptr when creates are not failing,
  // else "outage", "capacity" (creates refused while the connections keep working) or "fatal".
  const char* health_reason = nullptr;
  int64_t create_limit = 0;  // creates allowed in flight now (slow start after an outage)
  // Until a degraded pool turns unavailable (unavailable_after_ms, counted from the outage's
  // start or from when its connections last worked): -1 when no cutoff is running (not
  // degraded, a capacity limit, or the cutoff off). Not in the JSON; tests and the fuzzer.
  int64_t cutoff_in_ms = -1;
  bool has_last_error = false;
  std::string last_error_message;
  int last_error_code = 0;
  int64_t last_error_age_ms = 0;
  int64_t leak_threshold_ms = 0;
  std::vector<LeakInfo> leaks;
  // Adaptive sizing (docs/SIZING.md).
  struct AdaptiveDecisionInfo {
    bool valid = false;
    std::string action, reason;
    int64_t from = 0, to = 0, age_ms = 0;
  };
  bool adaptive_enabled = false;
  int64_t adaptive_target_wait_ms = 0;
  int64_t adaptive_floor = 0;  // the warm floor in force (min_idle when adaptive sizing is off)
  AdaptiveDecisionInfo adaptive_last_decision, adaptive_last_change;
};

struct HelperSeat;  // pool_offload.cpp: one helper thread's state as Close() sees it

class Pool final : private ClockListener {
 public:
  static Status Create(const Config& cfg, std::unique_ptr<Factory> factory,
                       const PoolOptions& opts, Pool** out, std::string* err);

  Status Acquire(int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  // connpool_acquire_cancellable (pool_cancel.cpp): Acquire, and triggering `cancel` (may be
  // null) ends the wait with ECANCELED; a token already triggered refuses at once.
  Status AcquireCancellable(int priority, int64_t timeout_ms, CancelToken* cancel, uint64_t* lease,
                            void** conn);
  // connpool_acquire_async (pool_async.cpp): never blocks, never runs a factory callback on the
  // calling thread. kOK: a connection was free and *lease/*conn are set (cb is not called).
  // kPENDING: queued; the dispatcher thread calls cb exactly once, with no lock held. Anything
  // else: refused at once, cb never called. kEINVAL for a multiplexed pool (not supported yet).
  Status AcquireAsync(int priority, int64_t timeout_ms, CancelToken* cancel, AsyncAcquireCallback cb,
                      void* ud, uint64_t* lease, void** conn);
  // Called by CancelToken::Trigger (token lock held, never a pool lock): wakes the waiters that
  // wait with `token` so that they see it triggered.
  void WakeCanceled(const CancelToken* token);
  // connpool_pool_explain: one redacted line on why an acquire that ended with `st` was not
  // served, from the current stats (pool_cancel.cpp).
  std::string Explain(Status st);
  Status Release(uint64_t lease, bool broken);
  Status WaitReady(int64_t timeout_ms);
  Status Drain(int64_t deadline_ms);
  // connpool_pool_resize (pool_resize.cpp): new min_idle and max_size, checked like the config
  // keys. Growing takes effect at once; shrinking retires idle connections now and leased ones
  // as they come back, never a lease that is out.
  Status Resize(int64_t min_idle, int64_t max_size, std::string* err);
  int64_t max_size() const { return max_size_.load(std::memory_order_relaxed); }
  int64_t min_idle() const { return min_idle_.load(std::memory_order_relaxed); }
  // connpool_pool_free: may delete `this` now or on the last release.
  void Close();

  Health state() const { return health_.load(std::memory_order_acquire); }
  const Config& config() const { return cfg_; }
  StatsSnapshot Snapshot();
  // Prometheus needs the raw histogram buckets.
  const Histogram& acquire_wait_histogram() const { return acquire_wait_us_; }
  // Acquires that returned a lease without waiting (not recorded in the histogram itself).
  uint64_t zero_wait_acquires() const;
  // Leases ever issued: the sum of every slot's generation (each lease bumps one), less the
  // claims that were refused after the bump. Costs the hot path nothing.
  uint64_t AcquiredTotal() const;
  uint64_t MonotonicAcquired(uint64_t generations, uint64_t failed_claims) const;

  // One maintenance pass on the calling thread (what the maintenance thread runs each
  // maintenance_interval_ms): idle timeout, lifetime, keepalive, leaks, health cutoffs.
  void RunMaintenance();

  // How busy the pool is, for routing among pools (groups): leased connections plus queued
  // waiters, divided by max_size. Lock-free, O(pool size), a momentary reading (pool_load.cpp).
  double Load() const;

  // --- the lock-free tries (pool_try_fast.cpp): connpool_try_acquire_fast and
  // connpool_try_release_fast, for callers that must not block at all (a Mono raw internal
  // call, which runs in GC-unsafe mode). Neither takes a lock, waits, allocates, calls the
  // factory or touches a counter; each declines (kETIMEOUT, nothing changed) whenever the
  // ordinary call would need any of that, so that the ordinary call then does and counts
  // everything exactly once.
  // kOK: a lease, as Acquire(priority, ...) would issue it from its fast path. kETIMEOUT:
  // nothing claimed. kPENDING: an idle slot is claimed as *lease (*conn is null), but it needs
  // the checks that may call the factory (lifetime over, validation due, a drain began): hand
  // it to AcquireClaimed, which finishes it or goes on as Acquire.
  Status TryAcquireFast(int priority, uint64_t* lease, void** conn);
  // Finishes TryAcquireFast's kPENDING claim exactly as Acquire finishes a claim of its own
  // fast path: kOK with a lease (the claim's own, or another one if the claim failed its
  // checks), or what Acquire(priority, timeout_ms) would return. kESTALE: `claim` is no
  // unfinished claim of this pool (finished already, or a lease); nothing changes.
  Status AcquireClaimed(uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  // kOK: given back by Release's one CAS. kETIMEOUT: nothing done, the lease is still out:
  // Release it (a reset, a retirement, a hand-off to a waiter, a stale lease or a hold time
  // to record is due; see pool_try_fast.cpp).
  Status TryReleaseFast(uint64_t lease);

 private:
  friend struct HelperSeat;  // names the job a helper runs
  Pool(const Config& cfg, std::unique_ptr<Factory> factory, const PoolOptions& opts);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  enum class Reason { kNone, kBroken, kIdle, kLifetime, kMaxUses, kValidation, kShrink };

  // --- slots (pool.cpp); the words themselves are SlotTable's (slot_table.h)
  Slot& SlotAt(uint32_t idx) const { return slots_.At(idx); }
  // An empty slot for a create (from SlotTable), with its reset job when resets are offloaded.
  bool ReserveSlotLocked(uint32_t* idx);
  // Slot `idx` (owned by the caller, connection destroyed) becomes empty. Returns true when
  // the caller must delete the pool after unlocking.
  bool SlotEmptiedLocked(uint32_t idx, Reason reason);
  bool ShouldDeleteLocked();
  // Destroys the connection of an owned slot, then empties it; may delete the pool, so the
  // caller must not touch `this` afterwards when `may_delete`.
  void RetireOwned(uint32_t idx, Reason reason);
  // Gives an owned slot holding a good connection to the best waiter, or makes it idle.
  void PutBackLocked(uint32_t idx, bool fresh = false);
  void HandToWaiterLocked(uint32_t idx, Waiter* w, bool fresh);
  void WakeAllWaitersLocked(Status st);
  template <typename Cv>
  void WaitLocked(Cv& cv, std::unique_lock<std::mutex>& lk, int64_t deadline_ns);
  void OnClockAdvanced() override;

  // --- hot path (pool_acquire.cpp)
  int64_t CoarseNowNs() const { return steady_clock_ ? ReadCoarseMonotonicNs() : clock_->CoarseNowNs(); }
  // Checks a just-claimed connection (lifetime, validation). True: the lease is issued.
  // `fresh`: created for this very claim, so validation is skipped.
  // `*start_ns` and `timeout_ms` give the acquire's deadline, which bounds a validation; a
  // zero *start_ns (fast path) is set to the time the validation began, if one is needed.
  bool FinishClaim(uint32_t idx, uint64_t gen, int priority, int64_t* start_ns, int64_t timeout_ms,
                   bool fresh, uint64_t* lease, void** conn);
  // The checks of FinishClaim that may need a factory callback: is the claimed connection past
  // its lifetime, or due for validation? `fresh`: created for this claim (never validated).
  bool NeedsValidation(const Slot& s, int64_t now_ns, bool fresh) const;
  // The end of every successful claim: records the holder and the wait, makes the lease.
  void IssueLease(uint32_t idx, uint64_t gen, int priority, int64_t now_ns, int64_t start_ns,
                  uint64_t* lease_out, void** conn_out);
  // The same, defined inline in pool_acquire.cpp for its fast path only.
  inline void IssueLeaseInline(uint32_t idx, uint64_t gen, int priority, int64_t now_ns, int64_t start_ns,
                               uint64_t* lease_out, void** conn_out);
  // Counts an acquire that ended with `st` (timeouts, unavailable, overload, closed, canceled).
  void CountFailure(Status st);
  // `pins`: failed claims this call already made (each left the pool pinned once more, lifetime_).
  // Ends a slow acquire with `st`: counts a failure, unpins, may delete the pool; unlocks lk.
  Status LeaveAcquireLocked(std::unique_lock<std::mutex>& lk, Status st);
  // `start_ns`: when the acquire's deadline began (0: now).
  // `cancel`: the caller's token (registered with it by AcquireCancellable), or null.
  // Sleeps until a queued blocking waiter is handed a connection (or a status: w->done) and
  // returns kOK then; dequeues it and returns ECANCELED or ETIMEOUT when its token triggers or
  // its deadline passes first. The exclusive and the shared acquire both wait here.
  Status AwaitHandOffLocked(std::unique_lock<std::mutex>& lk, Waiter* w, const CancelToken* cancel, int64_t deadline_ns);
  Status AcquireSlow(int priority, int64_t timeout_ms, int64_t start_ns, int pins, uint64_t* lease,
                     void** conn, const CancelToken* cancel = nullptr);
  // Retires a slot whose claim failed its checks and pins the pool (lifetime_.Pin()) so the
  // acquire can go on safely even if Close() ran meanwhile; the caller undoes the pin.
  void RetireClaimed(uint32_t idx, Reason reason);
  // Release when the one-CAS path does not apply: claims the slot (kReturning) first, so that
  // reset, max_uses and retirement run with exclusive ownership.
  Status ReleaseExclusive(uint64_t lease, bool broken, int64_t now_ns);
  Status AdmissionLocked() const;
  Status CreateForCaller(std::unique_lock<std::mutex>& lk, int priority, int64_t start_ns,
                         uint64_t* lease, void** conn);
  void ReturnSlow(uint32_t idx);

  // --- callbacks run for an acquire on helper threads (pool_offload.cpp)
  struct OffloadJob;
  enum class Checked { kValid, kInvalid, kGaveUp, kPoolClosing };
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
  enum class ResetOutcome { kUsable, kFailed, kGaveUp, kPoolClosing };
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

  // --- stalled backend (pool_stall.cpp)
  // Maintenance: decides whether the pool is stalled now (in `now_ns`), and moves health
  // between ready and degraded accordingly.
  void CheckStallLocked(int64_t now_ns);

  // --- creation and health (pool_health.cpp)
  bool CanCreateNowLocked(int64_t now_ns, int64_t* wake_at) const;
  bool ShouldCreateLocked(int64_t now_ns, int64_t* wake_at) const;
  uint32_t BeginCreateLocked();
  CreateResult SafeCreate(void** conn, std::string* err);
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
  // One scan of the slots for the health machine: is a connection idle, and when was one last
  // released (or created)? O(pool size).
  ConnectionEvidence SeeConnectionsLocked() const;
  // health_machine_.reason(), or "stalled"; nullptr once draining.
  const char* HealthReasonLocked() const;
  // Feeds a failed create to health_machine_ (with what the slots show and a random value).
  // `started_ns`: when the failed create began (see HealthMachine::OnCreateFailed).
  void OnCreateFailureLocked(int64_t now_ns, CreateResult r, const std::string& msg, int64_t started_ns);
  // Time-driven transitions (startup limit, unavailable cutoff); returns when to look again.
  int64_t UpdateHealthLocked(int64_t now_ns);
  // Acts on what a health event did: publishes a new state into health_ and accepting_, wakes
  // the waiters it concerns, queues the log line; wakes the connectors when creates may start.
  void ApplyHealthLocked(const HealthMachine::Outcome& o);
  // Deletes the pool once every log batch already taken has been delivered (logs_).
  void DeleteSelf();
  double UnitRandomLocked();

  // --- callbacks, exception-safe
  void SafeDestroy(void* conn);
  bool SafeValidate(void* conn);
  bool SafeReset(void* conn);

  // --- resize (pool_resize.cpp)
  // over_capacity_ = live connections not already being retired exceed max_size_.
  void UpdateOverCapacityLocked();
  // True when the pool is over max_size_: the caller, which owns a slot with a connection,
  // must retire it with Reason::kShrink (counted in shrink_pending_ until it is emptied).
  bool TakeShrinkLocked();
  // Retires idle connections while the pool is over max_size_ (unlocks around destroys).
  void TrimIdleLocked(std::unique_lock<std::mutex>& lk);
  // The number of idle connections the background threads keep warm.
  int64_t WarmFloorLocked() const;
  // The cap on live connections: max_size_, or with adaptive sizing its limit (at most max_size_).
  int64_t LiveCapLocked() const;
  // One adaptive sizing step from what happened since the last one (maintenance pass).
  void AdaptLocked(int64_t now_ns, uint64_t in_use);

  // --- multiplexed leases, max_leases_per_conn > 1 (pool_mux.cpp): a separate path under mu_
  struct MuxConn {
    bool adopted = false;  // the slot is leased by the mux layer and carries `leases`
    bool broken = false;   // a lease was released broken: retire once the last is back
    std::vector<std::pair<uint64_t, int64_t>> leases;  // (token, lease start) of each lease out
  };
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

  // --- asynchronous acquires (pool_async.cpp); all guarded by mu_
  // Starts the dispatcher thread on first use. False if it cannot be started.
  bool StartDispatcherLocked();
  // Queues async waiter `w` (seq set), or readies it at once with a connection found idle.
  // kOK: the dispatcher owns `w` now. Else the refusal status; `w` is untouched.
  Status QueueAsyncLocked(Waiter* w);
  // `w` (claimed slot idx/gen, off the queue) gets the connection; the dispatcher checks it.
  void ReadyClaimedLocked(Waiter* w, uint32_t idx, uint64_t gen);
  // `w` (off the queue) ends with `st`: counted, then called by the dispatcher.
  void CompleteAsyncLocked(Waiter* w, Status st);
  void PushReadyLocked(Waiter* w);
  // Takes `w` off the queue and the deadline list.
  void UnqueueLocked(Waiter* w);
  void DispatcherLoop();
  // Calls `w`'s callback (or, with a connection, checks it first); unlocks around user code.
  void DeliverLocked(std::unique_lock<std::mutex>& lk, Waiter* w);
  // Drain and Close: returns once every decided async acquire has been called back.
  void AwaitAsyncDeliveredLocked(std::unique_lock<std::mutex>& lk);

  // --- background (pool_background.cpp)
  void ConnectorLoop();
  void MaintenanceLoop();
  void LogLeaks(int64_t now_ns);

  const Config cfg_;
  const std::unique_ptr<Factory> factory_;
  Clock* const clock_;
  const bool steady_clock_;  // clock_ is the SteadyClock: CoarseNowNs() reads it inline
  const uint64_t tag_;
  const int64_t created_ns_;
  const bool has_validate_;
  const bool reset_on_release_;
  // Release must own the slot before deciding (reset callback or max_uses in play).
  const bool exclusive_release_;
  const bool mux_;  // max_leases_per_conn > 1

  // Fast-path state: read without mu_.
  std::atomic<bool> accepting_{true};  // false once unavailable, draining or closed
  std::atomic<Health> health_{Health::kStarting};
  // Set while more connections are live than max_size_ (after a shrink): releases then leave
  // the one-CAS path so that the connection can be retired. Written under mu_.
  std::atomic<bool> over_capacity_{false};
  // Sizes that connpool_pool_resize changes (cfg_ keeps the values the pool was made with).
  // Written under mu_, read anywhere.
  std::atomic<int64_t> max_size_;
  std::atomic<int64_t> min_idle_;
  alignas(64) std::atomic<uint64_t> waiters_count_{0};  // written under mu_, read lock-free
  // The slots and their words; its free list is guarded by mu_ (the *Locked members).
  SlotTable slots_;

  std::atomic<uint64_t> failed_claims_{0};  // generation bumps that did not become a lease
  mutable std::atomic<uint64_t> acquired_reported_{0};  // keeps `acquired` monotonic
  mutable std::atomic<uint64_t> zero_wait_reported_{0};  // keeps zero_wait_acquires() monotonic
  // The monotonic counts bumped off the fast path, one per row of stats/counters.h.
  PoolCounters counters_;
  Histogram acquire_wait_us_;
  Histogram lease_hold_us_;
  Histogram create_us_;

  mutable std::mutex mu_;
  WaiterQueue queue_;                       // guarded by mu_
  uint64_t next_seq_ = 0;                   // guarded by mu_
  int64_t live_ = 0;                        // guarded by mu_: slots holding a connection
  int64_t creating_ = 0;                    // guarded by mu_: creates in flight
  int64_t shrink_pending_ = 0;              // guarded by mu_: kShrink retirements under way
  // Creates abandoned after create_timeout_ms whose callback has not returned: each holds a
  // kCreating slot and counts against max_size, but not in creating_.
  int64_t abandoned_creates_ = 0;           // guarded by mu_
  int64_t abandoned_calls_ = 0;             // guarded by mu_: callbacks abandoned, still running
  // Stall detection (pool_stall.cpp), guarded by mu_.
  struct StallWatch {
    bool stalled = false;
    int64_t since_ns = 0;          // when the current stall was declared
    int64_t last_change_ns = -1;   // newest lease start or return seen; -1: none seen yet
    uint64_t timeouts_mark = 0;    // counters_.timeouts when last_change_ns last moved
  };
  StallWatch stall_;
  // Health state, backoff, slow start, last error (health/health_machine.h); health_ above
  // is its state published for the fast path.
  HealthMachine health_machine_;            // guarded by mu_
  // Guarded by mu_: open -> draining (Drain) -> closing (Close: background threads exit) ->
  // freed (Close done) -> deleting, and the pins of threads that work on the pool unlocked
  // while it may be freed (slow acquires, cancel registrations, unlocked destroys).
  Lifetime lifetime_;
  // Log lines made under mu_, delivered in order after unlocking: the sink is user code and
  // never runs under mu_. Its *Locked calls need mu_ (ordered_log_queue.h).
  OrderedLogQueue logs_;
  std::mt19937_64 rng_;                     // guarded by mu_
  boost::condition_variable_any connector_cv_;
  boost::condition_variable_any maintenance_cv_;
  std::condition_variable state_cv_;        // health changes, drain progress

  // Adaptive sizing (sizing/adaptive_feed.h), guarded by mu_; null when adaptive_sizing is off.
  std::unique_ptr<AdaptiveFeed> adaptive_;

  // Multiplexed leases, guarded by mu_.
  struct SharedLeases {
    std::vector<MuxConn> conns;  // by slot index
    uint64_t next_token = 0;
    int64_t leases_out = 0;
    // Leases that did not bump a slot generation; atomic, as stats read it without mu_.
    std::atomic<uint64_t> extra_acquires{0};
  };
  SharedLeases shared_;

  // Asynchronous acquires, guarded by mu_: the dispatcher thread sleeps on cv until the first
  // deadline or until a waiter is decided (ready); it is the only thread that calls callbacks
  // of queued acquires, one at a time, so they never nest.
  struct AsyncAcquires {
    DeadlineQueue deadlines;
    Waiter* ready_head = nullptr;
    Waiter* ready_tail = nullptr;
    bool started = false;
    bool delivering = false;  // the dispatcher is inside DeliverLocked
    std::condition_variable cv;
  };
  AsyncAcquires async_;

  // The helper threads that run callbacks for acquires, connectors and releases
  // (pool_offload.cpp), and their jobs; all guarded by mu_.
  struct Offload {
    // Intrusive lists (OffloadJob::next, ::prev_waited/next_waited), so that offloading a reset
    // allocates nothing on the releasing thread.
    OffloadJob* queue_head = nullptr;  // jobs no helper has taken yet
    OffloadJob* queue_tail = nullptr;
    OffloadJob* waited_head = nullptr;  // jobs a thread waits on
    // Each slot's reset job, made with the slot (ReserveSlotLocked) when resets are offloaded;
    // a slot has at most one reset in flight. Deleted by ~Pool.
    std::vector<OffloadJob*> reset_jobs;
    // Helpers idle or starting; SpawnHelperLocked counts a new one at once, and a helper that
    // takes the last idle place starts a spare, so submitting rarely has to start a thread.
    size_t idle_helpers = 0;
    size_t helpers = 0;  // helper threads started
    boost::condition_variable_any cv;
    // Helper threads with their seats, appended until lifetime_.stopping(); Close() joins them
    // (or cuts loose one stuck in a callback past close_wait_ms).
    std::vector<std::pair<boost::thread, std::shared_ptr<HelperSeat>>> threads;
    std::condition_variable done_cv;  // a helper left a callback (Close waits on it)
  };
  Offload offload_;

  // Connectors and maintenance from Create(), the dispatcher appended under mu_.
  std::vector<boost::thread> threads_;
  std::vector<uint64_t> leak_logged_;       // maintenance only: lease already reported per slot
};

}  // namespace connpool

#endif
