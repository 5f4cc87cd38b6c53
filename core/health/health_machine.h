// SPDX-License-Identifier: Apache-2.0
// HealthMachine: the pool's health state machine (DESIGN.md §4, docs/HEALTH.md) with its
// probe schedule and slow start, as plain data driven by events and a clock value:
//
//   starting --first create ok--> ready --create fails--> degraded --failing for
//   unavailable_after_ms (or FATAL)--> unavailable --one create ok--> ready
//   any --drain--> draining --last connection gone--> closed
//
// An outage starts at the first failed create after the last success; while it lasts one
// probe is in flight at a time, each after a delay from the ProbeSchedule (backoff capped by
// probe_interval_ms), so a crowd of callers never hammers a backend that is down; after it,
// SlowStart ramps the creates in flight back up to connect_concurrency. A create that fails
// while the pool's connections keep working is a capacity limit, not an outage: the pool
// stays degraded and serves on what it has, retries growth on the plain backoff, and the
// unavailable_after_ms clock does not run.
//
// Requirements: the caller serialises every call (Pool holds its mu_) and passes times from
// one monotonic clock, never going back. Events that need randomness take a value uniform in
// [0, 1) instead of the machine owning an engine: the pool's one engine also jitters
// connection lifetimes, and a test can name the exact delay an event must produce.
// Guarantees: no threads, locks, callbacks or allocation beyond the last error's text; each
// event reports the state before and after it, so the caller publishes the state (Pool's
// atomic health_), logs the change and wakes waiters. One event moves the state one step at
// most: a failure that turns ready into degraded began the outage just now, so the
// unavailable_after_ms cutoff cannot be due in the same event.
// The machine never sees connections: the caller describes them (ConnectionEvidence).
#ifndef CONNPOOL_CORE_HEALTH_MACHINE_H
#define CONNPOOL_CORE_HEALTH_MACHINE_H

#include <cstdint>
#include <limits>
#include <string>

#include "config/config.h"
#include "health/recovery.h"
#include "util/status.h"

namespace connpool {

// What the pool's slots show about its connections, from one scan by the caller.
struct ConnectionEvidence {
  bool idle = false;           // some connection is idle (or reserved for a check)
  int64_t newest_use_ns = -1;  // latest release (or create) of a live connection; -1: none
};

enum class CreateFailure { kOrdinary, kFatal };  // kFatal: CONNPOOL_FACTORY_FATAL

class HealthMachine {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // What an event did, for the caller to act on.
  struct Outcome {
    Health from = Health::kStarting;
    Health to = Health::kStarting;  // != from: the state changed (at to's state_since_ns)
    bool more_creates = false;      // the slow start allows more creates in flight now
    // Tick: a capacity limit turned into an outage with no create in flight. The growth retry
    // may be far off on the plain backoff; the caller calls ProbeSoon with a random value.
    bool probe_due = false;
    int64_t look_again_ns = kNever;  // Tick: when a time-driven transition may be due
    bool changed() const { return from != to; }
  };
  struct LastError {
    std::string message;  // redacted, at most 1024 bytes of the factory's text
    int code = 0;
    int64_t at_ns = -1;  // -1: no error yet
  };

  // `now_ns`: the pool's creation, where starting (and startup_retry_ms) begins.
  HealthMachine(const Config& cfg, int64_t now_ns);

  // --- events
  Outcome OnCreateSucceeded(int64_t now_ns);
  // `started_ns`: when the failed create began; one that began before the outage did (a burst
  // in flight when the backend went) does not move the first probe the outage scheduled.
  Outcome OnCreateFailed(int64_t now_ns, CreateFailure kind, const std::string& message, int64_t started_ns,
                         const ConnectionEvidence& seen, double unit_random);
  // A connection was destroyed as broken (released broken, failed validation): the others stop
  // counting as working until one proves itself again.
  void OnConnectionBroken(int64_t now_ns);
  // Time-driven transitions (startup_retry_ms, unavailable_after_ms) and the capacity check.
  // `seen` is read only when WatchesConnections(); `creating`: a create is in flight.
  Outcome Tick(int64_t now_ns, const ConnectionEvidence& seen, bool creating);
  // After Tick's probe_due: the next attempt comes within one probe interval, at a random
  // point of it, as a first outage probe.
  void ProbeSoon(int64_t now_ns, double unit_random);
  // A stall (maintenance.cpp) turns ready into degraded; its end turns degraded back into ready
  // unless creates are failing (that degradation ends with a successful create).
  Outcome OnStalled(int64_t now_ns);
  Outcome OnStallOver(int64_t now_ns);
  Outcome OnDraining(int64_t now_ns);
  Outcome OnClosed(int64_t now_ns);  // only from draining

  // --- queries
  Health state() const { return state_; }
  int64_t state_since_ns() const { return state_since_ns_; }
  uint64_t consecutive_failures() const { return consecutive_failures_; }
  // "outage", "capacity", "fatal", or nullptr when creates are not failing (or draining).
  const char* reason() const;
  bool capacity_limited() const { return capacity_limited_; }
  // Creates allowed in flight now: connect_concurrency, or fewer while ramping up.
  int64_t create_limit() const { return slow_start_.Limit(); }
  // May one more create start now, with `creating` in flight? Lowers *wake_at to the next
  // attempt when only the backoff stands in the way.
  bool MayCreate(int64_t now_ns, int64_t creating, int64_t* wake_at) const;
  // A create is wanted even with no demand: the outage is probed, and the backend is proven at
  // start even with min_idle = 0.
  bool WantsProbe() const { return consecutive_failures_ > 0 || !ever_connected_; }
  // Whether Tick and CutoffInMs read the ConnectionEvidence (so the caller scans only then).
  bool WatchesConnections() const;
  int64_t NextAttemptInMs(int64_t now_ns) const;  // -1: none scheduled
  int64_t OutageMs(int64_t now_ns) const;         // 0: no outage
  // Until a degraded pool turns unavailable; -1 when no cutoff runs (not degraded, fatal, a
  // capacity limit, or unavailable_after_ms = 0).
  int64_t CutoffInMs(int64_t now_ns, const ConnectionEvidence& seen) const;
  const LastError& last_error() const { return last_error_; }

 private:
  bool Closing() const { return state_ == Health::kDraining || state_ == Health::kClosed; }
  // True while the connections keep working: some are idle, or one came back unbroken since
  // the outage began, and none broke since the last such proof.
  bool ConnectionsWorking(const ConnectionEvidence& seen) const;
  // When the cutoff is due: from the outage's start, or from when the connections last worked.
  int64_t CutoffAtNs() const;
  void Enter(Health h, int64_t now_ns, Outcome* o);
  // Tick's transitions, also the tail of a failure (which has just decided capacity_limited_
  // from `working`, so it never finds probe_due).
  void Advance(int64_t now_ns, bool working, bool creating, Outcome* o);

  const ProbeSchedule schedule_;       // delays after failures (recovery.h)
  const int64_t startup_retry_ms_;     // -1: forever
  const int64_t unavailable_after_ms_;  // 0: never
  const int64_t started_ns_;           // the pool's creation

  Health state_ = Health::kStarting;
  int64_t state_since_ns_;
  uint64_t consecutive_failures_ = 0;
  int64_t outage_start_ns_ = -1;  // -1: no outage
  int64_t next_attempt_ns_ = 0;   // 0: none scheduled
  bool ever_connected_ = false;
  SlowStart slow_start_;  // creates in flight after an outage
  bool last_failure_fatal_ = false;
  // The last create failure (or Tick) found the connections working, so the failures are a
  // capacity limit and the unavailable_after_ms clock is stopped.
  bool capacity_limited_ = false;
  int64_t working_until_ns_ = -1;  // last time they were seen working
  int64_t last_broken_ns_ = -1;    // last connection destroyed as broken
  LastError last_error_;
};

}  // namespace connpool

#endif
