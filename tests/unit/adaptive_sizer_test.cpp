// SPDX-License-Identifier: Apache-2.0
// The adaptive sizing state machine under scripted loads: rising load raises the floor fast,
// calm lowers it slowly, a noisy signal does not flap, and the bounds always hold.
#include "sizing/adaptive_sizer.h"

#include <gtest/gtest.h>

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
Sizer::Sample Hot(uint64_t in_use = 2) { return Load(100, 50, in_use); }    // 50 ms vs 10 ms target
Sizer::Sample Calm(uint64_t in_use = 0) { return Load(100, 1, in_use); }    // 1 ms
Sizer::Sample Middling() { return Load(100, 8, 1); }                         // 8 ms: in the band

TEST(AdaptiveSizer, RisingLoadRaisesTheFloorAfterTwoHotPasses) {
  Sizer z(10, 1);
  EXPECT_EQ(z.Step(Hot()).action, Sizer::Action::kHold) << "one hot pass is not a trend";
  Sizer::Decision d = z.Step(Hot());
  EXPECT_EQ(d.action, Sizer::Action::kRaise);
  EXPECT_EQ(d.from, 1);
  EXPECT_EQ(d.to, 2);
  EXPECT_NE(d.reason.find("mean wait 50.0 ms (target 10 ms)"), std::string::npos) << d.reason;
  // Sustained load keeps raising, by half the floor and at least to what is in use + waiting.
  std::vector<int64_t> floors;
  for (int i = 0; i < 8; ++i) {
    z.Step(Hot(3));
    floors.push_back(z.Step(Hot(3)).to);
  }
  EXPECT_EQ(floors, (std::vector<int64_t>{3, 4, 6, 9, 13, 19, 20, 20})) << "capped at max_size";
}

TEST(AdaptiveSizer, TimeoutsAndWaitersCountAsPressure) {
  Sizer z(10, 0);
  Sizer::Sample s = Load(0, 0, 4, /*waiters=*/3, 0, 20);
  z.Step(s);
  EXPECT_EQ(z.Step(s).to, 7) << "at least in_use + waiters";
  Sizer y(10, 0);
  Sizer::Sample t = Load(10, 0, 1, 0, 0, 20);
  t.timeouts = 1;
  y.Step(t);
  EXPECT_EQ(y.Step(t).action, Sizer::Action::kRaise);
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
