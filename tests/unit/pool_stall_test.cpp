// SPDX-License-Identifier: Apache-2.0
// Stall detection (core/pool/maintenance.cpp) on the FakeClock: every connection out, acquires
// starving, no lease back for stall_after_ms -> degraded with stats hangs.stalled; cleared by
// the first maintenance pass after a lease comes back.
#include <gtest/gtest.h>

#include <thread>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using StallTest = PoolTest;

Config StallConfig() {
  Config c = SmallConfig(2);
  c.stall_after_ms = 5000;
  c.max_lifetime_ms = 0;
  c.idle_timeout_ms = 0;
  c.acquire_timeout_ms = 60000;
  return c;
}

TEST_F(StallTest, DetectedAfterTheThresholdAndClearedWhenALeaseComesBack) {
  Make(StallConfig());
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire(), b = MustAcquire();
  uint64_t got = 0;
  std::thread waiter([&] {
    void* c = nullptr;
    EXPECT_EQ(pool_->Acquire(0, 60000, &got, &c), Status::kOK);
  });
  ASSERT_TRUE(WaitWaiters(1));
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled);
  clock_.AdvanceMs(4999);
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled) << "one ms before stall_after_ms";
  EXPECT_EQ(pool_->state(), Health::kReady);

  clock_.AdvanceMs(1);
  pool_->RunMaintenance();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_TRUE(s.stalled);
  EXPECT_EQ(s.stalls, 1u);
  EXPECT_EQ(s.state, Health::kDegraded);
  EXPECT_EQ(HealthHttpStatus(s.state), 200) << "a stall is reported, not taken out of rotation";
  EXPECT_STREQ(s.health_reason, "stalled") << "why degraded, with creates succeeding";
  clock_.AdvanceMs(700);
  pool_->RunMaintenance();
  s = pool_->Snapshot();
  EXPECT_TRUE(s.stalled);
  EXPECT_EQ(s.stalled_ms, 700);
  EXPECT_EQ(s.stalls, 1u) << "one stall, counted once";

  ASSERT_EQ(pool_->Release(a, false), Status::kOK);  // handed to the waiter
  waiter.join();
  pool_->RunMaintenance();
  s = pool_->Snapshot();
  EXPECT_FALSE(s.stalled);
  EXPECT_EQ(s.stalled_ms, 0);
  EXPECT_EQ(s.state, Health::kReady);
  EXPECT_EQ(s.health_reason, nullptr);
  EXPECT_EQ(s.stalls, 1u);
  ASSERT_EQ(pool_->Release(b, false), Status::kOK);
  ASSERT_EQ(pool_->Release(got, false), Status::kOK);
}

TEST_F(StallTest, TimeoutsAloneAreStarvationToo) {
  Make(StallConfig());
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire(), b = MustAcquire();
  pool_->RunMaintenance();
  clock_.AdvanceMs(6000);
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled) << "all leased but nobody asked for more: long work, not a stall";
  uint64_t l = 0;
  void* c = nullptr;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kETIMEOUT);
  pool_->RunMaintenance();
  EXPECT_TRUE(pool_->Snapshot().stalled);
  EXPECT_EQ(pool_->state(), Health::kDegraded);
  ASSERT_EQ(pool_->Release(a, false), Status::kOK);
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled) << "an idle connection again";
  EXPECT_EQ(pool_->state(), Health::kReady);
  ASSERT_EQ(pool_->Release(b, false), Status::kOK);
}

TEST_F(StallTest, ZeroTurnsItOff) {
  Config cfg = StallConfig();
  cfg.stall_after_ms = 0;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire(), b = MustAcquire();
  uint64_t l = 0;
  void* c = nullptr;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kETIMEOUT);
  clock_.AdvanceMs(600000);
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled);
  EXPECT_EQ(pool_->state(), Health::kReady);
  ASSERT_EQ(pool_->Release(a, false), Status::kOK);
  ASSERT_EQ(pool_->Release(b, false), Status::kOK);
}

// A create outage that began during a stall keeps the pool degraded after the stall ends.
TEST_F(StallTest, TheEndOfAStallDoesNotHideACreateOutage) {
  Config cfg = StallConfig();
  cfg.unavailable_after_ms = 0;  // stay degraded however long creates fail
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->create_result = CreateResult::kRetry;
  uint64_t got = 0;
  std::thread waiter([&] {
    void* c = nullptr;
    EXPECT_EQ(pool_->Acquire(0, 60000, &got, &c), Status::kOK);
  });
  ASSERT_TRUE(WaitWaiters(1));
  ASSERT_TRUE(WaitState(Health::kDegraded));  // the connector's create for the waiter failed
  clock_.AdvanceMs(6000);
  pool_->RunMaintenance();
  EXPECT_TRUE(pool_->Snapshot().stalled);
  ASSERT_EQ(pool_->Release(a, false), Status::kOK);
  waiter.join();
  pool_->RunMaintenance();
  EXPECT_FALSE(pool_->Snapshot().stalled);
  EXPECT_EQ(pool_->state(), Health::kDegraded) << "creates still fail";
  state_->create_result = CreateResult::kOk;
  ASSERT_EQ(pool_->Release(got, false), Status::kOK);
}

}  // namespace
}  // namespace connpool::testing
