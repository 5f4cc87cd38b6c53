// SPDX-License-Identifier: Apache-2.0
// Lease hold times (lease_timing.h): millisecond leases are measured to the microsecond although
// the hot path reads only the coarse clock; a tight loop pays for at most 16 precise leases per
// thread per tick; every lease given back is counted once. On a fake clock whose coarse reading
// steps in 4 ms ticks, like CLOCK_MONOTONIC_COARSE on Debian's kernels.
#include <gtest/gtest.h>

#include <thread>

#include "pool/lease_timing.h"
#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

constexpr int64_t kTick = 4'000'000;

TEST(LeaseTimingBudget, SixteenPerTickThenNoneUntilTheTickChanges) {
  LeaseTimingBudget b;
  for (int i = 0; i < kTimedLeasesPerTick; ++i) EXPECT_TRUE(TakeLeaseTiming(b, 100)) << i;
  EXPECT_FALSE(TakeLeaseTiming(b, 100));
  EXPECT_FALSE(TakeLeaseTiming(b, 100));
  EXPECT_TRUE(TakeLeaseTiming(b, 100 + kTick)) << "a new tick, a new budget";
}

TEST(LeaseTimingBudget, HeldTimeByKindOfStart) {
  const int64_t never = -7;
  auto precise = [](int64_t v) { return [v] { return v; }; };
  // Timed: the precise difference, whatever the coarse clock says.
  EXPECT_EQ(HeldUs(TimedStart(10'000'000), 8'000'000, kTick, precise(11'234'000)), 1234);
  EXPECT_EQ(HeldUs(TimedStart(10'000'000), 8'000'000, kTick, precise(9'000'000)), 0) << "never negative";
  // Untimed: recorded only when the coarse clock saw two ticks or more.
  EXPECT_EQ(HeldUs(UntimedStart(8'000'000), 8'000'000, kTick, precise(never)), -1);
  EXPECT_EQ(HeldUs(UntimedStart(8'000'000), 12'000'000, kTick, precise(never)), -1);
  EXPECT_EQ(HeldUs(UntimedStart(8'000'000), 16'000'000, kTick, precise(never)), 8000);
  EXPECT_TRUE(IsTimedStart(TimedStart(8'000'000)));
  EXPECT_FALSE(IsTimedStart(UntimedStart(8'000'001)));
  EXPECT_EQ(StartNs(TimedStart(8'000'000)), 8'000'000);
}

using LeaseTimingTest = PoolTest;

// The validators' case: leases of a few milliseconds, which a 4 ms coarse clock reads as 0 or 4.
TEST_F(LeaseTimingTest, MillisecondLeasesAreMeasuredToTheMicrosecond) {
  clock_.SetCoarseTickNs(kTick);
  Make(SmallConfig(1));
  ASSERT_TRUE(WaitTotal(1));
  // On a thread of its own: the timing budget is per thread and per coarse reading, and every
  // test's FakeClock starts at the same time, so a test before this one that took more than
  // 16 leases at that time on the main thread would leave the first tick's budget spent.
  std::thread([&] {
    for (int i = 0; i < 100; ++i) {
      uint64_t lease = MustAcquire();
      clock_.Advance(1'000'000 + (i % 3) * 500'000);  // 1, 1.5 or 2 ms
      ASSERT_EQ(pool_->Release(lease, false), Status::kOK);
    }
  }).join();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.lease_hold_us.count, 100u);
  EXPECT_GE(s.lease_hold_us.p50, 1000u);
  EXPECT_LT(s.lease_hold_us.p50, 1600u);
  EXPECT_GE(s.lease_hold_us.max, 2000u);
  // 34 x 1 ms + 33 x 1.5 ms + 33 x 2 ms: exact, not a multiple of the tick.
  EXPECT_EQ(s.lease_hold_us.sum, 34u * 1000 + 33u * 1500 + 33u * 2000);
}

// A tight loop inside one tick: 16 leases timed, the rest counted as 0, every lease counted.
TEST_F(LeaseTimingTest, ATightLoopTimesSixteenLeasesPerTickAndCountsThemAll) {
  clock_.SetCoarseTickNs(kTick);
  Make(SmallConfig(1));
  ASSERT_TRUE(WaitTotal(1));
  std::thread([&] {  // a fresh thread: a known budget (see above)
    for (int i = 0; i < 1000; ++i) {
      uint64_t lease = MustAcquire();
      clock_.Advance(1000);  // 1 us each; 1000 of them stay inside one 4 ms tick
      ASSERT_EQ(pool_->Release(lease, false), Status::kOK);
    }
  }).join();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.lease_hold_us.count, 1000u);
  EXPECT_LE(s.lease_hold_us.sum, static_cast<uint64_t>(kTimedLeasesPerTick) * 2) << "only the timed ones add up";
  EXPECT_GE(s.lease_hold_us.sum, static_cast<uint64_t>(kTimedLeasesPerTick) - 1);
  EXPECT_EQ(s.lease_hold_us.p50, 0u);
}

// Over budget and long: the coarse clock still sees it (to within a tick).
TEST_F(LeaseTimingTest, ALongLeaseOverBudgetIsStillRecordedFromTheCoarseClock) {
  clock_.SetCoarseTickNs(kTick);
  Make(SmallConfig(1));
  ASSERT_TRUE(WaitTotal(1));
  for (int i = 0; i < kTimedLeasesPerTick; ++i) ASSERT_EQ(pool_->Release(MustAcquire(), false), Status::kOK);
  uint64_t lease = MustAcquire();  // the 17th in this tick: untimed
  clock_.AdvanceMs(30);
  ASSERT_EQ(pool_->Release(lease, false), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.lease_hold_us.count, static_cast<uint64_t>(kTimedLeasesPerTick) + 1);
  EXPECT_GE(s.lease_hold_us.max, 26'000u);
  EXPECT_LE(s.lease_hold_us.max, 34'000u);
}

}  // namespace
}  // namespace connpool::testing
