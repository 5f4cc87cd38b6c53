// SPDX-License-Identifier: Apache-2.0
// Drain, close, and a pool freed while leases are still out.
#include <gtest/gtest.h>

#include <thread>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using LifecycleTest = PoolTest;

TEST_F(LifecycleTest, DrainDestroysIdleAndRefusesNewAcquires) {
  Config cfg = SmallConfig(3);
  cfg.min_idle = 3;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(3));
  EXPECT_EQ(pool_->Drain(0), Status::kOK);
  EXPECT_EQ(pool_->state(), Health::kClosed);
  EXPECT_EQ(state_->destroyed.load(), 3);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 1000, &l, &c), Status::kECLOSED);
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kECLOSED);
  EXPECT_EQ(pool_->Drain(0), Status::kOK) << "draining again is allowed";
}

TEST_F(LifecycleTest, DrainWaitsForLeasesAndReleaseAfterDrainDestroys) {
  Make(SmallConfig(2));
  uint64_t l = MustAcquire();
  EXPECT_EQ(pool_->Drain(0), Status::kETIMEOUT);
  EXPECT_EQ(pool_->state(), Health::kDraining);
  EXPECT_EQ(HealthHttpStatus(pool_->state()), 503);
  Status drained = Status::kEINTERNAL;
  std::thread t([&] { drained = pool_->Drain(10'000); });
  EXPECT_EQ(pool_->Release(l, false), Status::kOK);
  t.join();
  EXPECT_EQ(drained, Status::kOK);
  EXPECT_EQ(pool_->state(), Health::kClosed);
  EXPECT_EQ(state_->created.load(), state_->destroyed.load());
  EXPECT_EQ(pool_->Release(l, false), Status::kESTALE);
}

TEST_F(LifecycleTest, DrainDeadlinePassesOnTheFakeClock) {
  Make(SmallConfig(2));
  uint64_t l = MustAcquire();
  Status drained = Status::kOK;
  std::thread t([&] { drained = pool_->Drain(500); });
  ASSERT_TRUE(Eventually([&] { return pool_->state() == Health::kDraining; }));
  clock_.AdvanceMs(500);
  t.join();
  EXPECT_EQ(drained, Status::kETIMEOUT);
  pool_->Release(l, false);
  EXPECT_EQ(pool_->state(), Health::kClosed);
}

TEST_F(LifecycleTest, DrainWakesWaitersWithClosed) {
  Make(SmallConfig(1));
  uint64_t held = MustAcquire();
  Status result = Status::kOK;
  std::thread t([&] {
    uint64_t l;
    void* c;
    result = pool_->Acquire(0, 1'000'000, &l, &c);
  });
  ASSERT_TRUE(WaitWaiters(1));
  EXPECT_EQ(pool_->Drain(0), Status::kETIMEOUT);
  t.join();
  EXPECT_EQ(result, Status::kECLOSED);
  pool_->Release(held, false);
}

TEST_F(LifecycleTest, FreeWithLeasesOutLivesUntilTheLastRelease) {
  Make(SmallConfig(3));
  uint64_t a = MustAcquire();
  uint64_t b = MustAcquire();
  Pool* p = pool_;
  pool_ = nullptr;  // the fixture must not close it again
  p->Close();
  EXPECT_FALSE(state_->ctx_freed.load()) << "leases still out";
  EXPECT_EQ(p->Release(a, false), Status::kOK);
  EXPECT_FALSE(state_->ctx_freed.load());
  EXPECT_EQ(state_->destroyed.load(), 1);
  EXPECT_EQ(p->Release(b, true), Status::kOK);  // the last one frees the pool
  EXPECT_TRUE(state_->ctx_freed.load());
  EXPECT_EQ(state_->created.load(), state_->destroyed.load());
}

TEST_F(LifecycleTest, FreeJoinsThreadsAndFreesEverything) {
  Config cfg = SmallConfig(4);
  cfg.min_idle = 4;
  Make(cfg, true, true, /*maintenance_thread=*/true);
  ASSERT_TRUE(WaitTotal(4));
  Close();
  EXPECT_EQ(state_->destroyed.load(), 4);
}

TEST_F(LifecycleTest, FreeWaitsForACreateInFlight) {
  Make(SmallConfig(2));
  ASSERT_TRUE(WaitTotal(1));
  uint64_t held = MustAcquire();
  state_->create_gate.Close();
  Status waited = Status::kOK;
  std::thread waiter([&] {
    uint64_t l;
    void* c;
    waited = pool_->Acquire(0, 1'000'000, &l, &c);
  });
  ASSERT_TRUE(state_->create_gate.WaitParked(1));
  Pool* p = pool_;
  pool_ = nullptr;
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    p->Close();
    closed = true;
  });
  waiter.join();
  EXPECT_EQ(waited, Status::kECLOSED) << "drain wakes the waiter at once";
  EXPECT_FALSE(closed.load()) << "Close() waits for the create still running";
  state_->create_gate.Open();
  closer.join();
  EXPECT_FALSE(state_->ctx_freed.load()) << "one lease is still out";
  EXPECT_EQ(p->Release(held, false), Status::kOK);
  EXPECT_TRUE(state_->ctx_freed.load());
  EXPECT_EQ(state_->created.load(), state_->destroyed.load());
}

}  // namespace
}  // namespace connpool::testing
