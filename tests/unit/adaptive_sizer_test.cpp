// SPDX-License-Identifier: Apache-2.0
// The adaptive sizing state machine under scripted loads: a raise is a probe kept only when
// throughput rose with it, a backend past its knee is held (or shrunk back) at the knee however
// long callers wait, a database that got faster is probed again, calm lowers the floor slowly,
// a noisy signal does not flap, and the bounds always hold.
#include "sizing/adaptive_sizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace connpool {
namespace {

using Sizer = AdaptiveSizer;

Sizer::Sample Load(uint64_t acquires, uint64_t mean_wait_ms, uint64_t in_use, uint64_t waiters = 0,
                   int64_t min_idle = 1, int64_t max_size = 20) {
  Sizer::Sample s;
  s.acquires = acquires;
  s.wait_us_sum = acquires * mean_wait_ms * 1000;
  s.in_use = in_use;
  s.waiters = waiters;
  s.min_idle = min_idle;
  s.max_size = max_size;
  return s;
}
// 50 ms vs 10 ms target; the leases issued also come back (5 ms each), so throughput is known.
Sizer::Sample Hot(uint64_t in_use = 2) {
  Sizer::Sample s = Load(100, 50, in_use);
  s.completed = 100;
  s.hold_us_sum = 100 * 5000;
  return s;
}
Sizer::Sample Calm(uint64_t in_use = 0) { return Load(100, 1, in_use); }    // 1 ms
Sizer::Sample Middling() { return Load(100, 8, 1); }                         // 8 ms: in the band

// One second of a backend kept saturated by more callers than connections (so every pass is
// hot: they wait 50 ms on average and 4 are queued). Each lease takes 10 ms while at most
// `knee` run at once; beyond that the backend is shared, latency grows with concurrency and
// throughput stays at knee * 100 leases/s.
Sizer::Sample Saturated(int64_t size, int64_t knee, int64_t max_size, int64_t min_idle = 0) {
  const int64_t n = std::max<int64_t>(size, 1);
  const uint64_t hold_us = 10'000 * std::max<int64_t>(n, knee) / knee;
  const uint64_t completed = static_cast<uint64_t>(n) * 1'000'000 / hold_us;
  Sizer::Sample s = Load(completed, 50, static_cast<uint64_t>(n), 4, min_idle, max_size);
  s.completed = completed;
  s.hold_us_sum = completed * hold_us;
  s.elapsed_ns = 1'000'000'000;
  return s;
}

// Steps `passes` times against the backend at whatever limit the sizer sets; returns the
// largest limit seen.
int64_t Drive(Sizer& z, int passes, int64_t knee, int64_t max_size, std::vector<Sizer::Decision>* log = nullptr) {
  int64_t top = z.limit();
  for (int i = 0; i < passes; ++i) {
    Sizer::Decision d = z.Step(Saturated(z.limit(), knee, max_size));
    top = std::max(top, z.limit());
    if (log) log->push_back(d);
  }
  return top;
}

TEST(AdaptiveSizer, ThroughputRisingWithSizeKeepsEveryRaise) {
  Sizer z(10, 1);
  EXPECT_EQ(z.Step(Saturated(1, 1000, 20)).action, Sizer::Action::kHold) << "one hot pass is not a trend";
  Sizer::Decision d = z.Step(Saturated(1, 1000, 20));
  EXPECT_EQ(d.action, Sizer::Action::kRaise);
  EXPECT_EQ(d.from, 1);
  EXPECT_EQ(d.to, 2);
  EXPECT_NE(d.reason.find("mean wait 50.0 ms (target 10 ms)"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("probing: 100.0 leases/s at 1"), std::string::npos) << d.reason;
  // A backend that scales: each raise (by a quarter, at least one) pays, so the next one follows
  // after its two judging passes, up to max_size.
  std::vector<int64_t> floors;
  std::vector<Sizer::Decision> log;
  Drive(z, 40, 1000, 20, &log);
  for (const Sizer::Decision& e : log) {
    EXPECT_NE(e.action, Sizer::Action::kLower) << e.reason;
    if (e.action == Sizer::Action::kRaise) floors.push_back(e.to);
  }
  EXPECT_EQ(floors, (std::vector<int64_t>{3, 4, 5, 6, 7, 8, 10, 12, 15, 18, 20})) << "capped at max_size";
  EXPECT_NE(log[1].reason.find("the raise paid off: 200.0 leases/s at 2 vs 100.0 at 1"), std::string::npos)
      << log[1].reason;
  EXPECT_EQ(z.knee(), -1);
}

// HikariCP #320: callers that wait because the database is slow are no reason to add
// connections. Past the knee throughput is flat, so the raise above it is taken back.
TEST(AdaptiveSizer, FlatThroughputPastTheKneeHoldsTheKneeHoweverLongCallersWait) {
  Sizer z(10, 0);
  std::vector<Sizer::Decision> log;
  const int64_t top = Drive(z, 50, /*knee=*/4, /*max_size=*/16, &log);
  EXPECT_EQ(z.floor(), 4);
  EXPECT_EQ(z.knee(), 4);
  EXPECT_EQ(top, 5) << "one probe above the knee, never max_size";
  int reverts = 0;
  for (const Sizer::Decision& e : log)
    if (e.action == Sizer::Action::kLower) {
      ++reverts;
      EXPECT_EQ(e.from, 5);
      EXPECT_EQ(e.to, 4);
      EXPECT_NE(e.reason.find("the raise did not pay off: 400.0 leases/s at 5 vs 400.0 at 4 (needs +10%); knee at 4"),
                std::string::npos)
          << e.reason;
    }
  EXPECT_EQ(reverts, 1);
  EXPECT_NE(log.back().reason.find("at the knee 4"), std::string::npos) << log.back().reason;
}

TEST(AdaptiveSizer, HoldTimesRisingWithoutThroughputShrinkBackToTheKnee) {
  // Grown to max_size on a backend that scaled (from floor 0, i.e. one connection), then...
  Sizer z(10, 0);
  Drive(z, 40, 1000, 10);
  ASSERT_EQ(z.floor(), 10);
  // ...it now queues past 4 concurrent leases: holds 2.5 times longer, throughput 400/s.
  std::vector<Sizer::Decision> log;
  for (int i = 0; i < Sizer::kShrinkAfter; ++i) log.push_back(z.Step(Saturated(z.limit(), 4, 10)));
  for (int i = 0; i + 1 < Sizer::kShrinkAfter; ++i) {
    EXPECT_EQ(log[i].action, Sizer::Action::kHold) << "callers wait, but raising would not help";
    EXPECT_NE(log[i].reason.find("not raising"), std::string::npos) << log[i].reason;
  }
  const Sizer::Decision& d = log.back();
  EXPECT_EQ(d.action, Sizer::Action::kLower);
  EXPECT_EQ(d.from, 10);
  EXPECT_EQ(d.to, 4) << "the smallest size that delivered 400 leases/s: " << d.reason;
  EXPECT_NE(d.reason.find("mean hold 25.0 ms is 2.5x the best (10.0 ms at 0)"), std::string::npos) << d.reason;
  // And it stays there: the probe above it fails and sets the knee.
  EXPECT_EQ(Drive(z, 30, 4, 10), 5);
  EXPECT_EQ(z.floor(), 4);
  EXPECT_EQ(z.knee(), 4);
}

TEST(AdaptiveSizer, ADatabaseThatGotFasterIsProbedAgainAfterTheReprobeInterval) {
  Sizer z(10, 0);
  Drive(z, 20, 4, 16);
  ASSERT_EQ(z.knee(), 4);
  // Still at the knee: no probe above it until the interval is over.
  std::vector<Sizer::Decision> log;
  EXPECT_EQ(Drive(z, Sizer::kReprobeAfter - 20, 4, 16, &log), 4);
  // The database got faster (its knee is now 12): the next probe pays and the pool grows again.
  const int64_t top = Drive(z, 40, 12, 16);
  EXPECT_EQ(z.knee(), 12) << "found again";
  EXPECT_GE(z.floor(), 11);
  EXPECT_LE(z.floor(), 13);
  EXPECT_LE(top, 15);
}

TEST(AdaptiveSizer, TimeoutsAndWaitersCountAsPressure) {
  Sizer z(10, 0);
  Sizer::Sample s = Load(0, 0, 4, /*waiters=*/3, 0, 20);
  z.Step(s);
  Sizer::Decision d = z.Step(s);
  EXPECT_EQ(d.action, Sizer::Action::kRaise);
  EXPECT_EQ(d.to, 2) << "a probe one step up, not a jump to in use + waiting (HikariCP #320)";
  Sizer y(10, 0);
  Sizer::Sample t = Load(10, 0, 1, 0, 0, 20);
  t.timeouts = 1;
  y.Step(t);
  EXPECT_EQ(y.Step(t).action, Sizer::Action::kRaise);
}

TEST(AdaptiveSizer, NoThroughputMeasuredAboveOneConnectionRaisesNothing) {
  Sizer z(10, 3);
  Sizer::Sample s = Load(0, 0, 3, /*waiters=*/5, 0, 20);  // leases out the whole time, none back
  for (int i = 0; i < 10; ++i) {
    Sizer::Decision d = z.Step(s);
    EXPECT_EQ(d.action, Sizer::Action::kHold);
    if (i > 0) {
      EXPECT_NE(d.reason.find("throughput unknown"), std::string::npos) << d.reason;
    }
  }
  EXPECT_EQ(z.limit(), 3);
  EXPECT_EQ(Sizer(10, 0).limit(), 1) << "the cap is never below one connection";
}

TEST(AdaptiveSizer, CalmLowersSlowlyAndNeverBelowMinIdle) {
  Sizer z(10, 6);
  int lowered_at = -1;
  for (int i = 1; i <= Sizer::kLowerAfter; ++i) {
    Sizer::Decision d = z.Step(Calm());
    if (d.action == Sizer::Action::kLower) lowered_at = i;
  }
  EXPECT_EQ(lowered_at, Sizer::kLowerAfter) << "only after a full calm streak";
  EXPECT_EQ(z.floor(), 5) << "by one";
  for (int i = 0; i < 100 * Sizer::kLowerAfter; ++i) z.Step(Calm());
  EXPECT_EQ(z.floor(), 1) << "min_idle is the bottom";
  Sizer::Decision d = z.Step(Calm());
  EXPECT_EQ(d.action, Sizer::Action::kHold);
  EXPECT_NE(d.reason.find("floor at min_idle"), std::string::npos) << d.reason;
}

TEST(AdaptiveSizer, UseAboveHalfTheFloorIsNotCalm) {
  Sizer z(10, 6);
  for (int i = 0; i < 5 * Sizer::kLowerAfter; ++i) z.Step(Calm(/*in_use=*/3));
  EXPECT_EQ(z.floor(), 6) << "half the warm connections are busy: keep them";
}

TEST(AdaptiveSizer, NoisySignalDoesNotFlap) {
  Sizer z(10, 4);
  // Hot and calm passes alternating, with middling ones in between: no streak completes.
  const Sizer::Sample script[] = {Hot(), Calm(), Hot(), Middling(), Calm(), Hot(), Calm(), Middling()};
  int changes = 0;
  for (int round = 0; round < 50; ++round)
    for (const Sizer::Sample& s : script) changes += z.Step(s).action != Sizer::Action::kHold;
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(z.floor(), 4);
}

TEST(AdaptiveSizer, ABriefSpikeRaisesOnceAndCalmTakesTenTimesLongerToUndoIt) {
  Sizer z(10, 2);
  z.Step(Hot());
  z.Step(Hot());
  ASSERT_EQ(z.floor(), 3);
  int passes = 0;
  while (z.floor() > 2 && passes < 1000) {
    z.Step(Calm());
    ++passes;
  }
  EXPECT_EQ(passes, Sizer::kLowerAfter);
}

TEST(AdaptiveSizer, ClampFollowsResize) {
  Sizer z(10, 8);
  EXPECT_TRUE(z.Clamp(0, 5));
  EXPECT_EQ(z.floor(), 5);
  EXPECT_TRUE(z.Clamp(7, 9));
  EXPECT_EQ(z.floor(), 7);
  EXPECT_FALSE(z.Clamp(0, 100));
  // Step clamps to the bounds it is given too.
  EXPECT_EQ(z.Step(Load(0, 0, 0, 0, 0, 3)).to, 3);
}

}  // namespace
}  // namespace connpool
