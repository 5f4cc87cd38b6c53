// SPDX-License-Identifier: Apache-2.0
// How a pool paces creates around an outage (docs/HEALTH.md, "Recovery"):
//
//   * ProbeSchedule: the delay before the next create after a failure. During an outage the
//     retry_* backoff still grows, but probe_interval_ms caps the time between probes, so the
//     pool notices a returning backend within one interval whatever the outage's length. The
//     first probe whose backoff reaches the interval (with the defaults: the first probe of the
//     outage) comes at a random point within it ("full jitter"), so a fleet of pools that lost
//     the same backend at the same moment spreads over the interval instead of probing in
//     step; later probes keep exactly one interval, which keeps each pool's random phase and
//     the rate at one probe per interval.
//   * SlowStart: how many creates may be in flight once a probe succeeded again: 1, then 2,
//     4, ... (one more per success, so the limit doubles each round of creates, as TCP's slow
//     start does per round trip) up to connect_concurrency, so a recovering backend is not hit by every pool's full refill at once.
//
// Pure arithmetic, no clock and no randomness of its own: the pool supplies the time and the
// random numbers (under its mutex), so tests walk the schedule exactly.
#ifndef CONNPOOL_CORE_RECOVERY_H
#define CONNPOOL_CORE_RECOVERY_H

#include <cstdint>

#include "health/backoff.h"

namespace connpool {

struct ProbeSchedule {
  BackoffPolicy backoff;
  int64_t probe_interval_ms = 1000;  // 0: no cap, probes follow the plain backoff

  // Delay before the attempt that follows the `failures`-th consecutive failure of an outage
  // (failures >= 1); `unit_random` is uniform in [0, 1).
  int64_t OutageDelayMs(uint64_t failures, double unit_random) const;
  // After a create failed while the pool's connections keep working (a capacity limit, e.g.
  // PostgreSQL's "too many clients"): the plain backoff, not capped, since the pool still serves
  // and a full server should be asked less and less often.
  int64_t CapacityDelayMs(uint64_t failures, double unit_random) const {
    return backoff.DelayMs(failures, unit_random);
  }
  // After CONNPOOL_FACTORY_FATAL (bad credentials rarely fix themselves within a second):
  // retry_max_ms, not capped by probe_interval_ms.
  int64_t FatalDelayMs(double unit_random) const { return backoff.DelayMs(kFatalStep, unit_random); }

  // Enough doublings to reach any retry_max_ms from any retry_initial_ms.
  static constexpr uint64_t kFatalStep = 64;
};

// Not thread-safe: the pool calls it under its mutex.
class SlowStart {
 public:
  explicit SlowStart(int64_t max_in_flight) : max_(max_in_flight < 1 ? 1 : max_in_flight) {}

  // A create failed: the next success starts a ramp from one create in flight. (During the
  // outage itself the pool allows one probe at a time anyway.)
  void OnFailure() {
    ramping_ = true;
    successes_ = 0;
  }
  // A create succeeded: the limit becomes the successes since the failure (the probe's own
  // success allows one create, the next two, ...), ending the ramp at max_in_flight.
  void OnSuccess() {
    if (!ramping_) return;
    if (++successes_ >= max_) ramping_ = false;
  }
  // Creates allowed in flight now: 1 until the probe succeeds (the pool also allows only one
  // probe during an outage), then 1, 2, 4, ... per round of creates.
  int64_t Limit() const {
    if (!ramping_) return max_;
    int64_t l = successes_ < 1 ? 1 : successes_;
    return l < max_ ? l : max_;
  }
  bool ramping() const { return ramping_; }

 private:
  int64_t max_;
  bool ramping_ = false;  // false at startup: the first creates are bounded by max_ only
  int64_t successes_ = 0;
};

}  // namespace connpool

#endif
