// SPDX-License-Identifier: Apache-2.0
// ProbeSchedule and SlowStart (core/health/recovery.h) as pure functions: the outage probe spacing,
// the spread of a fleet's probes, and the slow-start ramp.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "health/recovery.h"

namespace connpool {
namespace {

ProbeSchedule Defaults() { return ProbeSchedule{BackoffPolicy{1000, 60000, 2.0, 0.2}, 1000}; }

// Attempt times (ms) of one pool whose backend is down from t = 0 on: the failure at 0 that
// starts the outage, then each probe on the schedule, up to `until_ms`.
std::vector<int64_t> Attempts(const ProbeSchedule& s, uint64_t seed, int64_t until_ms) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<int64_t> at{0};
  for (uint64_t failures = 1; at.back() < until_ms; ++failures) at.push_back(at.back() + s.OutageDelayMs(failures, unit(rng)));
  return at;
}

TEST(ProbeSchedule, FirstProbeComesAtARandomPointOfTheFirstInterval) {
  ProbeSchedule s = Defaults();
  EXPECT_EQ(s.OutageDelayMs(1, 0.0), 1);
  EXPECT_EQ(s.OutageDelayMs(1, 0.5), 500);
  EXPECT_EQ(s.OutageDelayMs(1, 0.9999), 1000);
  // With retry_initial_ms below the interval the first retry waits retry_initial_ms (with
  // retry_jitter) as before; the full jitter moves to the first step that reaches the cap.
  s.backoff.initial_ms = 100;
  EXPECT_EQ(s.OutageDelayMs(1, 0.5), 100);
  EXPECT_EQ(s.OutageDelayMs(1, 0.0), 80);
}

TEST(ProbeSchedule, BackoffGrowsUntilTheIntervalThenProbesExactlyOneIntervalApart) {
  ProbeSchedule s{BackoffPolicy{100, 60000, 2.0, 0.2}, 1000};
  for (double u : {0.0, 0.5, 0.999}) {
    EXPECT_NEAR(s.OutageDelayMs(2, u), 200, 40) << u;
    EXPECT_NEAR(s.OutageDelayMs(3, u), 400, 80) << u;
    EXPECT_LE(s.OutageDelayMs(4, u), 1000) << "800 + 20 % is capped";
    EXPECT_GE(s.OutageDelayMs(4, u), 640);
    // 1600 >= the cap: this probe picks its phase at random within one interval,
    EXPECT_EQ(s.OutageDelayMs(5, u), std::max<int64_t>(1, static_cast<int64_t>(u * 1000 + 0.5)));
    // and keeps it from then on.
    for (uint64_t n = 6; n < 200; ++n) ASSERT_EQ(s.OutageDelayMs(n, u), 1000) << n;
  }
}

TEST(ProbeSchedule, ZeroIntervalIsThePlainBackoffAndFatalOrCapacityAreNotCapped) {
  ProbeSchedule s = Defaults();
  EXPECT_GE(s.FatalDelayMs(0.5), 60000 * 8 / 10);
  EXPECT_EQ(s.CapacityDelayMs(7, 0.5), s.backoff.DelayMs(7, 0.5));
  EXPECT_GT(s.CapacityDelayMs(7, 0.5), 1000) << "a full server is asked less and less often";
  s.probe_interval_ms = 0;
  for (uint64_t n = 1; n < 10; ++n) EXPECT_EQ(s.OutageDelayMs(n, 0.3), s.backoff.DelayMs(n, 0.3)) << n;
}

// However long the outage, no two attempts are more than one interval apart (so a returning
// backend is seen within 1 s), and the attempts average one per interval: the failure that
// started the outage plus one probe per full second.
TEST(ProbeSchedule, AnyOutageLengthProbesOncePerIntervalAtMost) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    for (int64_t outage_ms : {3000, 10000, 60000, 600000}) {
      std::vector<int64_t> at = Attempts(Defaults(), seed, outage_ms);
      int64_t during = std::count_if(at.begin(), at.end(), [&](int64_t t) { return t < outage_ms; });
      EXPECT_LE(during, outage_ms / 1000 + 1) << seed << " " << outage_ms;
      for (size_t i = 1; i < at.size(); ++i) ASSERT_LE(at[i] - at[i - 1], 1000) << seed;
    }
  }
}

// Histogram of attempts in 100 ms windows over [from, from + 3 s): its max over its mean.
double PeakOverMean(const std::vector<std::vector<int64_t>>& fleet, int64_t from) {
  std::vector<int> windows(30, 0);
  int total = 0;
  for (const auto& pool : fleet) {
    for (int64_t t : pool) {
      if (t < from || t >= from + 3000) continue;
      ++windows[static_cast<size_t>((t - from) / 100)];
      ++total;
    }
  }
  if (total == 0) return 0;
  return *std::max_element(windows.begin(), windows.end()) / (total / 30.0);
}

// 200 pools (different seeds) lose the same backend at the same moment. In any 3 s after
// that, and so in the 3 s after the backend returns, their attempts are spread: no 100 ms
// window holds more than 3x the mean. The first-probe jitter does it: with the plain backoff
// (its +-20 % jitter) they retry nearly in step.
TEST(ProbeSchedule, AFleetThatFailedTogetherSpreadsItsProbes) {
  std::vector<std::vector<int64_t>> fleet, plain;
  ProbeSchedule old = Defaults();
  old.probe_interval_ms = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    fleet.push_back(Attempts(Defaults(), seed * 7919, 700000));
    plain.push_back(Attempts(old, seed * 7919, 700000));
  }
  for (int64_t back_ms : {500, 1000, 2500, 10000, 10370, 60000, 600000}) {
    SCOPED_TRACE(back_ms);
    EXPECT_LE(PeakOverMean(fleet, back_ms), 3.0);
  }
  // With a faster start (retry_initial_ms 100: 100, 200, 400, 800 ms, then capped) the fleet
  // spreads from the first capped probe on.
  ProbeSchedule fast = Defaults();
  fast.backoff.initial_ms = 100;
  std::vector<std::vector<int64_t>> fast_fleet;
  for (uint64_t seed = 1; seed <= 200; ++seed) fast_fleet.push_back(Attempts(fast, seed * 31, 700000));
  for (int64_t back_ms : {2500, 10000, 60000, 600000}) EXPECT_LE(PeakOverMean(fast_fleet, back_ms), 3.0) << back_ms;
  EXPECT_GT(PeakOverMean(plain, 500), 3.0) << "the check would catch a fleet in step";
}

// Each pool's first attempt after the backend returns (the one that reconnects it) lands in
// the following interval, evenly: no 100 ms window of that second holds more than 3x its mean.
TEST(ProbeSchedule, AFleetReconnectsEvenlyOverOneInterval) {
  for (int64_t back_ms : {1500, 10000, 60000, 600000}) {
    std::vector<int> windows(10, 0);
    for (uint64_t seed = 1; seed <= 200; ++seed) {
      std::vector<int64_t> at = Attempts(Defaults(), seed * 104729, back_ms + 2000);
      int64_t first = *std::lower_bound(at.begin(), at.end(), back_ms);
      ASSERT_LT(first - back_ms, 1000) << "reconnected within one interval";
      ++windows[static_cast<size_t>((first - back_ms) / 100)];
    }
    EXPECT_LE(*std::max_element(windows.begin(), windows.end()), 3 * 200 / 10) << back_ms;
  }
}

TEST(SlowStart, RampsOneOneTwoFourUpToTheLimit) {
  SlowStart s(8);
  EXPECT_EQ(s.Limit(), 8) << "no ramp at startup";
  s.OnFailure();
  EXPECT_EQ(s.Limit(), 1) << "the probe";
  s.OnSuccess();
  EXPECT_EQ(s.Limit(), 1);
  s.OnSuccess();
  EXPECT_EQ(s.Limit(), 2);
  s.OnSuccess();
  s.OnSuccess();
  EXPECT_EQ(s.Limit(), 4);
  for (int i = 0; i < 4; ++i) s.OnSuccess();
  EXPECT_EQ(s.Limit(), 8);
  EXPECT_FALSE(s.ramping());
  s.OnSuccess();
  EXPECT_EQ(s.Limit(), 8);
  // A failure during the ramp starts it again.
  s.OnFailure();
  s.OnSuccess();
  s.OnSuccess();
  s.OnFailure();
  EXPECT_EQ(s.Limit(), 1);
  SlowStart one(1);
  one.OnFailure();
  one.OnSuccess();
  EXPECT_EQ(one.Limit(), 1);
  EXPECT_FALSE(one.ramping());
}

}  // namespace
}  // namespace connpool
