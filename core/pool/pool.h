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
//     its own deadline (connector_helpers.cpp): a callback that hangs cannot hold an acquire past
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
#include "pool/async_acquires.h"
#include "pool/cancel_token.h"
#include "pool/connector.h"
#include "pool/factory.h"
#include "pool/fast_tries.h"
#include "pool/maintenance.h"
#include "pool/pool_metrics.h"
#include "pool/pool_traits.h"
#include "pool/shared_leases.h"
#include "pool/slot.h"
#include "pool/sizing.h"
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
  // Hangs (maintenance.cpp, connector_helpers.cpp): beside the abandoned-callback and stall counts
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

class Pool final : private ClockListener {
 public:
  static Status Create(const Config& cfg, std::unique_ptr<Factory> factory,
                       const PoolOptions& opts, Pool** out, std::string* err);

  Status Acquire(int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  // connpool_acquire_cancellable (pool_acquire.cpp): Acquire, and triggering `cancel` (may be
  // null) ends the wait with ECANCELED; a token already triggered refuses at once.
  Status AcquireCancellable(int priority, int64_t timeout_ms, CancelToken* cancel, uint64_t* lease,
                            void** conn);
  // connpool_acquire_async (async_acquires.cpp): never blocks, never runs a factory callback on the
  // calling thread. kOK: a connection was free and *lease/*conn are set (cb is not called).
  // kPENDING: queued; the dispatcher thread calls cb exactly once, with no lock held. Anything
  // else: refused at once, cb never called. kEINVAL for a multiplexed pool (not supported yet).
  Status AcquireAsync(int priority, int64_t timeout_ms, CancelToken* cancel, AsyncAcquireCallback cb,
                      void* ud, uint64_t* lease, void** conn);
  // Called by CancelToken::Trigger (token lock held, never a pool lock): wakes the waiters that
  // wait with `token` so that they see it triggered.
  void WakeCanceled(const CancelToken* token);
  // connpool_pool_explain: one redacted line on why an acquire that ended with `st` was not
  // served, from the current stats (pool_stats.cpp).
  std::string Explain(Status st);
  Status Release(uint64_t lease, bool broken);
  Status WaitReady(int64_t timeout_ms);
  Status Drain(int64_t deadline_ms);
  // connpool_pool_resize (sizing.cpp): new min_idle and max_size, checked like the config
  // keys. Growing takes effect at once; shrinking retires idle connections now and leased ones
  // as they come back, never a lease that is out.
  Status Resize(int64_t min_idle, int64_t max_size, std::string* err);
  int64_t max_size() const { return sizing_.max_size(); }
  int64_t min_idle() const { return sizing_.min_idle(); }
  // connpool_pool_free: may delete `this` now or on the last release.
  void Close();

  Health state() const { return health_.load(std::memory_order_acquire); }
  const Config& config() const { return cfg_; }
  StatsSnapshot Snapshot();
  // Prometheus needs the raw histogram buckets.
  const Histogram& acquire_wait_histogram() const { return metrics_.acquire_wait_us; }
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
  // waiters, divided by max_size. Lock-free, O(pool size), a momentary reading (pool_stats.cpp).
  double Load() const;

  // --- the lock-free tries (fast_tries.h): connpool_try_acquire_fast and
  // connpool_try_release_fast, for callers that must not block at all (a Mono raw internal
  // call, which runs in GC-unsafe mode). Neither takes a lock, waits, allocates, calls the
  // factory or touches a counter; each declines (kETIMEOUT, nothing changed) whenever the
  // ordinary call would need any of that, so that the ordinary call then does and counts
  // everything exactly once.
  // kOK: a lease, as Acquire(priority, ...) would issue it from its fast path. kETIMEOUT:
  // nothing claimed. kPENDING: an idle slot is claimed as *lease (*conn is null), but it needs
  // the checks that may call the factory (lifetime over, validation due, a drain began): hand
  // it to AcquireClaimed, which finishes it or goes on as Acquire.
  Status TryAcquireFast(int priority, uint64_t* lease, void** conn) {
    return FastTries::TryAcquire(*this, priority, lease, conn);
  }
  // Finishes TryAcquireFast's kPENDING claim exactly as Acquire finishes a claim of its own
  // fast path: kOK with a lease (the claim's own, or another one if the claim failed its
  // checks), or what Acquire(priority, timeout_ms) would return. kESTALE: `claim` is no
  // unfinished claim of this pool (finished already, or a lease); nothing changes.
  Status AcquireClaimed(uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease, void** conn) {
    return FastTries::FinishClaimed(*this, claim, priority, timeout_ms, lease, conn);
  }
  // kOK: given back by Release's one CAS. kETIMEOUT: nothing done, the lease is still out:
  // Release it (a reset, a retirement, a hand-off to a waiter, a stale lease or a hold time
  // to record is due; see fast_tries.cpp).
  Status TryReleaseFast(uint64_t lease) { return FastTries::TryRelease(*this, lease); }

 private:
  friend class AsyncAcquires;
  friend class Connector;
  friend class FastTries;
  friend class Maintenance;
  friend class SharedLeases;
  friend class Sizing;
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
  int64_t CoarseNowNs() const { return traits_.steady_clock ? ReadCoarseMonotonicNs() : clock_->CoarseNowNs(); }
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
  // Its stores (holder, lease start, the lease), defined inline in pool_acquire.cpp for it
  // and the fast path.
  inline void IssueLeaseInline(Slot& s, uint32_t idx, uint64_t gen, int priority, int64_t lease_start,
                               uint64_t thread_id, uint64_t* lease_out, void** conn_out);
  // Acquire's rarer ways, out of line so that its fast path saves no registers: a claimed
  // slot for FinishClaim (expired, due for validation, drain begun, a timed lease, a thread's
  // first, no coarse word), and every acquire whose hinted slot could not be claimed.
  // `claim` is the claim as a lease (MakeLease: its index and generation), so that the call
  // takes its arguments in registers and compiles to a jump.
  Status FinishFastClaim(uint64_t claim, int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  Status AcquireUnhinted(int priority, int64_t timeout_ms, uint64_t* lease, void** conn);
  // Release after the lease was checked (slot `s` at the lease's index held it, word `w`):
  // the one-CAS give-back, else ReleaseExclusive. Inline in pool_acquire.cpp.
  inline Status GiveBackInline(Slot& s, SlotWord w, uint64_t lease, bool broken, int64_t now_ns);
  // Release of a lease whose hold time is recorded (lease_timing.h) or read without the
  // coarse word, out of line for the same reason as FinishFastClaim; `seen` is the slot word
  // Release checked, `start` the lease's start.
  Status ReleaseTimed(uint64_t lease, bool broken, uint64_t seen, int64_t start);
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


  // --- health (pool.cpp)
  CreateResult SafeCreate(void** conn, std::string* err);
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
  // The end of every mutex section after which the pool may have to go: takes the log lines
  // made under mu_, unlocks `lk`, delivers them (user code, never under mu_) and, when `del`
  // (SlotEmptiedLocked's or ShouldDeleteLocked's answer, taken under the lock), deletes the
  // pool. After a true `del` the caller must not touch `this` again.
  void UnlockDeliverMaybeDelete(std::unique_lock<std::mutex>& lk, bool del);
  double UnitRandomLocked();

  // --- callbacks, exception-safe
  void SafeDestroy(void* conn);
  bool SafeValidate(void* conn);
  bool SafeReset(void* conn);


  const Config cfg_;
  const std::unique_ptr<Factory> factory_;
  Clock* const clock_;
  // clock_'s coarse time word (Clock::CoarseWord), or a word that stays 0 for a clock without
  // one: the fast paths read the time with one load and take a slower way on a 0.
  const std::atomic<int64_t>* const coarse_word_;
  const PoolTraits traits_;  // fixed at construction (pool_traits.h)

  // Fast-path state: read without mu_.
  std::atomic<bool> accepting_{true};  // false once unavailable, draining or closed
  std::atomic<Health> health_{Health::kStarting};
  // Sizes, shrink and adaptive limit (pool/sizing.h); its over-capacity flag is read by releases.
  Sizing sizing_{*this, cfg_};
  alignas(64) std::atomic<uint64_t> waiters_count_{0};  // written under mu_, read lock-free
  // The slots and their words; its free list is guarded by mu_ (the *Locked members).
  SlotTable slots_;

  // Counts and histograms, lock-free (pool_metrics.h).
  PoolMetrics metrics_;

  mutable std::mutex mu_;
  WaiterQueue queue_;                       // guarded by mu_
  uint64_t next_seq_ = 0;                   // guarded by mu_
  int64_t live_ = 0;                        // guarded by mu_: slots holding a connection
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
  std::condition_variable state_cv_;        // health changes, drain progress


  // Multiplexed leases (pool/shared_leases.h), guarded by mu_.
  SharedLeases shared_{*this};

  // Asynchronous acquires (pool/async_acquires.h), guarded by mu_.
  AsyncAcquires async_{*this};

  // Creates, connector threads and helper threads (pool/connector.h), guarded by mu_.
  Connector connector_{*this};

  // Connectors and maintenance from Create(), the dispatcher appended under mu_.
  std::vector<boost::thread> threads_;
  // The periodic pass and the stall watch (pool/maintenance.h).
  Maintenance maintenance_{*this};
};

}  // namespace connpool

#endif
