// SPDX-License-Identifier: Apache-2.0
#include "health/health_machine.h"

#include <algorithm>

#include "util/redact.h"

namespace connpool {

namespace {
// Bounds the stored error so that a factory writing a huge message cannot bloat stats.
constexpr size_t kMaxErrorBytes = 1024;
}  // namespace

HealthMachine::HealthMachine(const Config& cfg, int64_t now_ns)
    : schedule_{BackoffPolicy{cfg.retry_initial_ms, cfg.retry_max_ms, cfg.retry_multiplier, cfg.retry_jitter},
                cfg.probe_interval_ms},
      startup_retry_ms_(cfg.startup_retry_ms),
      unavailable_after_ms_(cfg.unavailable_after_ms),
      started_ns_(now_ns),
      state_since_ns_(now_ns),
      slow_start_(cfg.connect_concurrency) {}

void HealthMachine::Enter(Health h, int64_t now_ns, Outcome* o) {
  if (state_ == h) return;
  state_ = h;
  state_since_ns_ = now_ns;
  o->to = h;
}

HealthMachine::Outcome HealthMachine::OnCreateSucceeded(int64_t now_ns) {
  Outcome o{state_, state_};
  const int64_t limit = slow_start_.Limit();
  slow_start_.OnSuccess();
  // The finishing create takes one slot of the limit; the caller wakes the others for the rest.
  o.more_creates = slow_start_.Limit() > limit;
  last_failure_fatal_ = false;
  capacity_limited_ = false;
  working_until_ns_ = -1;
  consecutive_failures_ = 0;
  outage_start_ns_ = -1;
  next_attempt_ns_ = 0;
  ever_connected_ = true;
  if (state_ == Health::kStarting || state_ == Health::kDegraded || state_ == Health::kUnavailable)
    Enter(Health::kReady, now_ns, &o);
  return o;
}

HealthMachine::Outcome HealthMachine::OnCreateFailed(int64_t now_ns, CreateFailure kind, const std::string& message,
                                                     int64_t started_ns, const ConnectionEvidence& seen,
                                                     double unit_random) {
  Outcome o{state_, state_};
  // Up to connect_concurrency creates may be in flight when the backend goes; those that
  // began before the first of them failed keep its schedule, so the outage's first probe keeps
  // its random phase (a fleet's spread) instead of the next backoff step's fixed interval.
  const bool burst = consecutive_failures_ > 0 && outage_start_ns_ >= 0 && started_ns < outage_start_ns_;
  ++consecutive_failures_;
  if (outage_start_ns_ < 0) outage_start_ns_ = now_ns;
  slow_start_.OnFailure();
  last_failure_fatal_ = kind == CreateFailure::kFatal;
  capacity_limited_ = !last_failure_fatal_ && ConnectionsWorking(seen);
  if (capacity_limited_) working_until_ns_ = now_ns;
  const int64_t delay_ms = last_failure_fatal_ ? schedule_.FatalDelayMs(unit_random)
                           : capacity_limited_ ? schedule_.CapacityDelayMs(consecutive_failures_, unit_random)
                                               : schedule_.OutageDelayMs(consecutive_failures_, unit_random);
  if (!burst || last_failure_fatal_ || capacity_limited_) next_attempt_ns_ = now_ns + delay_ms * 1'000'000;
  last_error_.message = Redact(message.size() > kMaxErrorBytes ? message.substr(0, kMaxErrorBytes) : message);
  last_error_.code = ToInt(Status::kEFACTORY);
  last_error_.at_ns = now_ns;
  if (Closing()) return o;
  if (last_failure_fatal_) {
    Enter(Health::kUnavailable, now_ns, &o);
  } else if (state_ == Health::kReady) {
    Enter(Health::kDegraded, now_ns, &o);
  }
  Advance(now_ns, capacity_limited_, /*creating=*/false, &o);
  return o;
}

void HealthMachine::OnConnectionBroken(int64_t now_ns) {
  last_broken_ns_ = now_ns;
  // At a capacity limit the cutoff counts from when the connections last worked: now.
  if (capacity_limited_) working_until_ns_ = now_ns;
}

HealthMachine::Outcome HealthMachine::Tick(int64_t now_ns, const ConnectionEvidence& seen, bool creating) {
  Outcome o{state_, state_};
  Advance(now_ns, WatchesConnections() && ConnectionsWorking(seen), creating, &o);
  return o;
}

void HealthMachine::Advance(int64_t now_ns, bool working, bool creating, Outcome* o) {
  o->look_again_ns = kNever;
  if (Closing() || consecutive_failures_ == 0) return;
  if (state_ == Health::kStarting && startup_retry_ms_ >= 0) {
    const int64_t at = started_ns_ + startup_retry_ms_ * 1'000'000;
    if (now_ns < at) {
      o->look_again_ns = at;
      return;
    }
    Enter(Health::kUnavailable, now_ns, o);
  } else if (state_ == Health::kDegraded && !last_failure_fatal_) {
    if (working) {
      // A capacity limit: the clock stands still; a broken connection wakes the pool's
      // connectors and its maintenance looks again each interval.
      capacity_limited_ = true;
      working_until_ns_ = now_ns;
      return;
    }
    if (capacity_limited_) {
      // The connections stopped working too: an outage after all.
      capacity_limited_ = false;
      o->probe_due = schedule_.probe_interval_ms > 0 && !creating;
    }
    if (unavailable_after_ms_ > 0) {
      const int64_t at = CutoffAtNs();
      if (now_ns < at) {
        o->look_again_ns = at;
        return;
      }
      Enter(Health::kUnavailable, now_ns, o);
    }
  }
}

void HealthMachine::ProbeSoon(int64_t now_ns, double unit_random) {
  const int64_t probe = now_ns + schedule_.OutageDelayMs(1, unit_random) * 1'000'000;
  next_attempt_ns_ = std::min(next_attempt_ns_, probe);
}

HealthMachine::Outcome HealthMachine::OnStalled(int64_t now_ns) {
  Outcome o{state_, state_};
  if (state_ == Health::kReady) Enter(Health::kDegraded, now_ns, &o);
  return o;
}

HealthMachine::Outcome HealthMachine::OnStallOver(int64_t now_ns) {
  Outcome o{state_, state_};
  if (state_ == Health::kDegraded && consecutive_failures_ == 0) Enter(Health::kReady, now_ns, &o);
  return o;
}

HealthMachine::Outcome HealthMachine::OnDraining(int64_t now_ns) {
  Outcome o{state_, state_};
  Enter(Health::kDraining, now_ns, &o);
  return o;
}

HealthMachine::Outcome HealthMachine::OnClosed(int64_t now_ns) {
  Outcome o{state_, state_};
  if (state_ == Health::kDraining) Enter(Health::kClosed, now_ns, &o);
  return o;
}

const char* HealthMachine::reason() const {
  if (Closing() || consecutive_failures_ == 0) return nullptr;
  if (last_failure_fatal_) return "fatal";
  return capacity_limited_ ? "capacity" : "outage";
}

bool HealthMachine::MayCreate(int64_t now_ns, int64_t creating, int64_t* wake_at) const {
  if (creating >= slow_start_.Limit()) return false;  // connect_concurrency, or less while ramping
  if (consecutive_failures_ == 0) return true;
  if (creating > 0) return false;  // one probe at a time during an outage
  if (now_ns < next_attempt_ns_) {
    *wake_at = std::min(*wake_at, next_attempt_ns_);
    return false;
  }
  return true;
}

bool HealthMachine::WatchesConnections() const {
  return !Closing() && consecutive_failures_ > 0 && state_ == Health::kDegraded && !last_failure_fatal_;
}

int64_t HealthMachine::NextAttemptInMs(int64_t now_ns) const {
  if (consecutive_failures_ == 0 || next_attempt_ns_ <= 0 || Closing()) return -1;
  return std::max<int64_t>(0, (next_attempt_ns_ - now_ns) / 1'000'000);
}

int64_t HealthMachine::OutageMs(int64_t now_ns) const {
  return outage_start_ns_ >= 0 ? (now_ns - outage_start_ns_) / 1'000'000 : 0;
}

int64_t HealthMachine::CutoffInMs(int64_t now_ns, const ConnectionEvidence& seen) const {
  // As Tick decides it: working connections stop the clock.
  if (!WatchesConnections() || unavailable_after_ms_ <= 0 || ConnectionsWorking(seen)) return -1;
  return std::max<int64_t>(0, (CutoffAtNs() - now_ns) / 1'000'000);
}

int64_t HealthMachine::CutoffAtNs() const {
  return std::max(outage_start_ns_, working_until_ns_) + unavailable_after_ms_ * 1'000'000;
}

bool HealthMachine::ConnectionsWorking(const ConnectionEvidence& seen) const {
  // A connection broke after the last proof: the others are suspect (an outage finds them
  // broken one by one). Idle ones count until an acquire's validation says otherwise; leased
  // ones only if one came back unbroken during the failures (a lease hung on a dead server
  // must not keep the pool from failing fast). No live connection: newest_use_ns is -1 and
  // nothing is idle, so this is false.
  if (seen.newest_use_ns < last_broken_ns_) return false;
  return seen.idle || (outage_start_ns_ >= 0 && seen.newest_use_ns > outage_start_ns_);
}

}  // namespace connpool
