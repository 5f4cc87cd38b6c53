// SPDX-License-Identifier: Apache-2.0
// A consistent, cheap picture of the pool for stats and metrics. Reads atomics and takes mu_
// only for the few fields it guards; never calls the factory. Also Load(), the cheap busyness
// reading that lets a group pick the least loaded replica without taking mu_ (Snapshot()
// would, and would build a whole report), and Explain() (connpool_pool_explain), which says
// from these stats why an acquire was not served.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "pool/lease_timing.h"
#include "pool/pool.h"
#include "util/redact.h"

namespace connpool {

uint64_t Pool::MonotonicAcquired(uint64_t generations, uint64_t failed_claims) const {
  // A claim bumps its slot's generation before it can fail, so a reading taken mid-claim may
  // run ahead by a claim that is later refused: report the largest value ever computed.
  uint64_t v = generations > failed_claims ? generations - failed_claims : 0;
  uint64_t prev = metrics_.acquired_reported.load(std::memory_order_relaxed);
  while (v > prev && !metrics_.acquired_reported.compare_exchange_weak(prev, v, std::memory_order_relaxed)) {
  }
  return std::max(v, prev);
}

uint64_t Pool::AcquiredTotal() const {
  const uint64_t failed_claims = metrics_.failed_claims.load(std::memory_order_acquire);
  uint64_t generations = shared_.extra_acquires();
  generations += slots_.Count().generations;
  return MonotonicAcquired(generations, failed_claims);
}

uint64_t Pool::zero_wait_acquires() const {
  uint64_t acquired = AcquiredTotal();
  uint64_t waited = metrics_.acquire_wait_us.Read().count;
  uint64_t v = acquired > waited ? acquired - waited : 0;
  // A waited acquire is in `acquired` a moment before its wait is recorded, so v can dip;
  // report the largest value ever computed (the zero bucket of a Prometheus histogram is a
  // counter and must not go backwards).
  uint64_t prev = metrics_.zero_wait_reported.load(std::memory_order_relaxed);
  while (v > prev && !metrics_.zero_wait_reported.compare_exchange_weak(prev, v, std::memory_order_relaxed)) {
  }
  return std::max(v, prev);
}

StatsSnapshot Pool::Snapshot() {
  StatsSnapshot s;
  const int64_t now = clock_->NowNs();
  const int64_t coarse = clock_->CoarseNowNs();
  s.name = cfg_.name;
  s.max_size = sizing_.max_size();
  s.min_idle = sizing_.min_idle();
  s.leak_threshold_ms = cfg_.leak_threshold_ms;
  s.otel_metrics = cfg_.otel_metrics;
  s.uptime_ms = (now - traits_.created_ns) / 1'000'000;
  {
    std::lock_guard<std::mutex> lk(mu_);
    const HealthMachine& hm = health_machine_;
    s.state = hm.state();
    s.state_since_ms = (now - hm.state_since_ns()) / 1'000'000;
    s.waiters = queue_.Size();
    s.consecutive_failures = hm.consecutive_failures();
    s.next_attempt_in_ms = hm.NextAttemptInMs(now);
    s.outage_ms = hm.OutageMs(now);
    s.health_reason = HealthReasonLocked();
    s.create_limit = hm.create_limit();
    s.cutoff_in_ms = hm.CutoffInMs(now, hm.WatchesConnections() ? SeeConnectionsLocked() : ConnectionEvidence{});
    s.adaptive_enabled = sizing_.adaptive_locked() != nullptr;
    s.adaptive_target_wait_ms = cfg_.adaptive_target_wait_ms;
    s.adaptive_floor = sizing_.WarmFloorLocked();
    auto info = [&](const AdaptiveFeed::Recorded& r, StatsSnapshot::AdaptiveDecisionInfo* out) {
      if (r.at_ns < 0) return;
      const AdaptiveSizer::Decision& d = r.decision;
      out->valid = true;
      out->action = AdaptiveSizer::ActionName(d.action);
      out->reason = d.reason;
      out->from = d.from;
      out->to = d.to;
      out->age_ms = (now - r.at_ns) / 1'000'000;
    };
    if (const AdaptiveFeed* feed = sizing_.adaptive_locked()) {
      info(feed->last_decision(), &s.adaptive_last_decision);
      info(feed->last_change(), &s.adaptive_last_change);
    }
    s.stalled = maintenance_.stalled_locked() && !lifetime_.draining();
    s.stalled_ms = s.stalled ? (now - maintenance_.stalled_since_ns_locked()) / 1'000'000 : 0;
    s.abandoned_calls = static_cast<uint64_t>(connector_.abandoned_calls_locked());
    const HealthMachine::LastError& e = hm.last_error();
    s.has_last_error = e.at_ns >= 0;
    if (s.has_last_error) {
      s.last_error_message = e.message;
      s.last_error_code = e.code;
      s.last_error_age_ms = (now - e.at_ns) / 1'000'000;
    }
  }
  // One pass over the slot words: the gauges are consistent with each other by construction.
  // Leak reports name leases; a shared connection's slot lease is not one (not reported yet).
  const int64_t threshold = traits_.mux ? 0 : cfg_.leak_threshold_ms * 1'000'000;
  const uint64_t failed_claims = metrics_.failed_claims.load(std::memory_order_acquire);
  uint64_t generations = shared_.extra_acquires();
  slots_.ForEach([&](uint32_t i, SlotWord w, const Slot& slot) {
    generations += w.gen();
    switch (w.state()) {
      case kIdle:
      case kReserved: ++s.idle; break;
      case kLeased:
      case kReturning: {
        ++s.in_use;
        if (threshold > 0 && w.state() == kLeased) {
          int64_t held = coarse - StartNs(slot.lease_start_ns.load(std::memory_order_relaxed));
          if (held >= threshold)
            s.leaks.push_back({MakeLease(traits_.tag, i, w.gen()), held / 1'000'000,
                               slot.holder_thread.load(std::memory_order_relaxed),
                               slot.holder_priority.load(std::memory_order_relaxed)});
        }
        break;
      }
      case kCreating: ++s.creating; break;
      default: break;
    }
  });
  s.total = s.idle + s.in_use + s.creating;
  s.busy = s.in_use;
  s.max_leases_per_conn = cfg_.max_leases_per_conn;
  if (traits_.mux) {
    std::lock_guard<std::mutex> lk(mu_);
    s.in_use = static_cast<uint64_t>(shared_.leases_out_locked());
  }
  s.acquired = MonotonicAcquired(generations, failed_claims);
  metrics_.counters.CopyTo(&s);
  s.stall_after_ms = cfg_.stall_after_ms;
  // Fast-path acquires and the holds of leases over a thread's timing budget (lease_timing.h)
  // are not recorded one by one (that would put shared atomics and precise clock reads on the
  // hot path); they are the difference between the totals and what was recorded.
  // One reading of each histogram, topped up with the zero samples, so count equals the total
  // exactly (and is as monotonic as the total is).
  auto with_zeros = [](const Histogram& h, uint64_t total) {
    Histogram::Counts c = h.Read();
    if (total > c.count) {
      c.buckets[0] += total - c.count;
      c.count = total;
    }
    return c;
  };
  s.acquire_wait_us = with_zeros(metrics_.acquire_wait_us, s.acquired).Summarize();
  s.lease_hold_counts = with_zeros(metrics_.lease_hold_us, s.acquired > s.in_use ? s.acquired - s.in_use : 0);
  s.lease_hold_us = s.lease_hold_counts.Summarize();
  s.create_counts = metrics_.create_us.Read();
  s.create_us = s.create_counts.Summarize();
  return s;
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

double Pool::Load() const {
  const uint64_t busy = waiters_count_.load(std::memory_order_relaxed) + slots_.Count().in_use();
  // Relative to max_size (as resized) so that a big replica and a small one compare fairly.
  const int64_t max = max_size();
  return static_cast<double>(busy) / static_cast<double>(max > 0 ? max : 1);
}

}  // namespace connpool
