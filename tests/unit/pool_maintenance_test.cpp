// SPDX-License-Identifier: Apache-2.0
// Retirement (idle timeout, lifetime with jitter, max_uses), keepalive and min_idle refill.
#include <gtest/gtest.h>

#include <vector>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using MaintenanceTest = PoolTest;

TEST_F(MaintenanceTest, MinIdleIsKeptWarmAndRefilled) {
  Config cfg = SmallConfig(5);
  cfg.min_idle = 3;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(3));
  EXPECT_EQ(pool_->Snapshot().idle, 3u);
  pool_->Release(MustAcquire(), true);  // one broken: the pool makes a replacement
  ASSERT_TRUE(WaitTotal(3));
  EXPECT_EQ(pool_->Snapshot().created, 4u);
}

TEST_F(MaintenanceTest, IdleTimeoutRetiresDownToMinIdle) {
  Config cfg = SmallConfig(4);
  cfg.min_idle = 1;
  cfg.idle_timeout_ms = 5000;
  cfg.max_lifetime_ms = 0;
  Make(cfg);
  std::vector<uint64_t> held;
  for (int i = 0; i < 4; ++i) held.push_back(MustAcquire());
  for (uint64_t h : held) pool_->Release(h, false);
  clock_.AdvanceMs(4999);
  pool_->RunMaintenance();
  EXPECT_EQ(pool_->Snapshot().closed_idle, 0u);
  clock_.AdvanceMs(1);
  pool_->RunMaintenance();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.closed_idle, 3u);
  EXPECT_EQ(s.idle, 1u) << "never below min_idle";
}

TEST_F(MaintenanceTest, LifetimeWithJitterRetires) {
  Config cfg = SmallConfig(4);
  cfg.max_lifetime_ms = 100000;
  cfg.lifetime_jitter_pct = 10;
  cfg.idle_timeout_ms = 0;
  Make(cfg);
  std::vector<uint64_t> held;
  for (int i = 0; i < 4; ++i) held.push_back(MustAcquire());
  for (uint64_t h : held) pool_->Release(h, false);
  clock_.AdvanceMs(89999);
  pool_->RunMaintenance();
  EXPECT_EQ(pool_->Snapshot().closed_lifetime, 0u) << "no one lives less than 90 %";
  clock_.AdvanceMs(10001);
  pool_->RunMaintenance();
  EXPECT_EQ(pool_->Snapshot().closed_lifetime, 4u);
}

TEST_F(MaintenanceTest, ExpiredConnectionIsRetiredOnReleaseAndAcquire) {
  Config cfg = SmallConfig(2);
  cfg.max_lifetime_ms = 1000;
  cfg.lifetime_jitter_pct = 0;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t l = MustAcquire();
  clock_.AdvanceMs(1000);
  pool_->Release(l, false);
  EXPECT_EQ(pool_->Snapshot().closed_lifetime, 1u);
  l = MustAcquire();  // a new one
  pool_->Release(l, false);
  clock_.AdvanceMs(1000);
  l = MustAcquire();  // the idle one has expired: retired on acquire, a new one made
  EXPECT_EQ(pool_->Snapshot().closed_lifetime, 2u);
  pool_->Release(l, false);
}

TEST_F(MaintenanceTest, MaxUsesRetires) {
  Config cfg = SmallConfig(2);
  cfg.max_uses = 3;
  Make(cfg);
  for (int i = 0; i < 3; ++i) pool_->Release(MustAcquire(), false);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.closed_max_uses, 1u);
  EXPECT_EQ(s.created, 1u);
}

TEST_F(MaintenanceTest, KeepaliveValidatesIdleConnections) {
  Config cfg = SmallConfig(3);
  cfg.min_idle = 2;
  cfg.validate_interval_ms = 1000;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(2));
  clock_.AdvanceMs(1000);
  pool_->RunMaintenance();
  EXPECT_EQ(state_->validate_calls.load(), 2);
  state_->validate_ok = false;
  clock_.AdvanceMs(1000);
  pool_->RunMaintenance();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.validation_failures, 2u);
  EXPECT_EQ(s.destroyed, 2u);
  state_->validate_ok = true;
  ASSERT_TRUE(WaitTotal(2)) << "replaced";
}

TEST_F(MaintenanceTest, MaintenanceThreadRunsOnTheClock) {
  Config cfg = SmallConfig(3);
  cfg.min_idle = 0;
  cfg.idle_timeout_ms = 2000;
  cfg.maintenance_interval_ms = 1000;
  Make(cfg, true, true, /*maintenance_thread=*/true);
  ASSERT_TRUE(WaitTotal(1));
  clock_.AdvanceMs(1000);
  clock_.AdvanceMs(1000);
  clock_.AdvanceMs(1000);
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().closed_idle == 1; }));
}

TEST_F(MaintenanceTest, LeaksAreListedInStats) {
  Config cfg = SmallConfig(2);
  cfg.leak_threshold_ms = 5000;
  Make(cfg);
  uint64_t l = MustAcquire(1000, 7);
  clock_.AdvanceMs(5000);
  StatsSnapshot s = pool_->Snapshot();
  ASSERT_EQ(s.leaks.size(), 1u);
  EXPECT_EQ(s.leaks[0].lease, l);
  EXPECT_GE(s.leaks[0].held_ms, 5000);
  EXPECT_EQ(s.leaks[0].priority, 7);
  EXPECT_NE(s.leaks[0].thread, 0u);
  pool_->Release(l, false);
  EXPECT_TRUE(pool_->Snapshot().leaks.empty());
}

}  // namespace
}  // namespace connpool::testing
