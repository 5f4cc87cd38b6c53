// SPDX-License-Identifier: Apache-2.0
// Creates refused while the pool's connections keep working (PostgreSQL's "sorry, too many
// clients already"): a capacity limit, not an outage. The pool serves on what it has, stays
// degraded (health_reason "capacity") past unavailable_after_ms, and retries growth on the
// backoff; once its connections break too it is an outage again. On a fake clock.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "stats/stats_json.h"
#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using CapacityTest = PoolTest;

std::string Metrics(Pool* p) {
  char* text = StatsToPrometheus(p->Snapshot(), p->acquire_wait_histogram(), p->zero_wait_acquires());
  std::string out = text != nullptr ? text : "";
  std::free(text);
  return out;
}

bool Reason(Pool* p, const char* want) {
  const char* r = p->Snapshot().health_reason;
  return r != nullptr && std::strcmp(r, want) == 0;
}

class CapacityFixture : public PoolTest {
 protected:
  // A ready pool holding `n` idle connections, then the server refuses every new one.
  void MakeFull(Config cfg, int n) {
    Make(cfg);
    ASSERT_TRUE(WaitState(Health::kReady));
    std::vector<uint64_t> leases;
    for (int i = 0; i < n; ++i) leases.push_back(MustAcquire());
    for (uint64_t l : leases) pool_->Release(l, false);
    ASSERT_TRUE(WaitTotal(static_cast<uint64_t>(n)));
    state_->create_result = CreateResult::kRetry;
    // More demand than connections: the create it asks for is refused.
    for (int i = 0; i < n; ++i) held_.push_back(MustAcquire());
    uint64_t l;
    void* c;
    ASSERT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
    ASSERT_TRUE(WaitState(Health::kDegraded));
    clock_.AdvanceMs(10);
    for (uint64_t h : held_) pool_->Release(h, false);  // they came back unbroken: working
    held_.clear();
  }
  // `ms` of fake time in steps, each step serving one acquire and running maintenance.
  void Serve(int64_t ms, int64_t step_ms = 250) {
    for (int64_t t = 0; t < ms; t += step_ms) {
      clock_.AdvanceMs(step_ms);
      uint64_t l;
      void* c;
      ASSERT_EQ(pool_->Acquire(0, 1000, &l, &c), Status::kOK) << "at " << t;
      ASSERT_EQ(pool_->Release(l, false), Status::kOK);
      pool_->RunMaintenance();
      // A growth attempt that came due has run (and failed) before time moves on.
      ASSERT_TRUE(Eventually([&] {
        StatsSnapshot s = pool_->Snapshot();
        return s.next_attempt_in_ms != 0 && s.creating == 0;
      }));
      ASSERT_EQ(pool_->state(), Health::kDegraded) << "at " << t;
    }
  }
  std::vector<uint64_t> held_;
};

TEST_F(CapacityFixture, ServesOnItsConnectionsAndStaysDegradedPastTheCutoff) {
  Config cfg = SmallConfig(10);  // unavailable_after_ms 5000
  cfg.retry_max_ms = 60000;
  MakeFull(cfg, 5);
  Serve(60000);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_STREQ(s.health_reason, "capacity");
  EXPECT_EQ(s.total, 5u) << "no growth while the server refuses";
  EXPECT_GT(s.consecutive_failures, 1u) << "growth is retried";
  EXPECT_LT(s.consecutive_failures, 20u) << "on the growing backoff, not once per probe interval";
  EXPECT_GT(s.next_attempt_in_ms, 1000) << "the capacity retry is not capped by probe_interval_ms";
  EXPECT_EQ(HealthHttpStatus(s.state), 200);
  EXPECT_NE(Metrics(pool_).find("connpool_capacity_limited{pool=\"default\"} 1"), std::string::npos) << Metrics(pool_);
  // Idle connections that nobody uses for a while still count as working.
  for (int i = 0; i < 40; ++i) {
    clock_.AdvanceMs(500);
    pool_->RunMaintenance();
  }
  EXPECT_EQ(pool_->state(), Health::kDegraded);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 1000, &l, &c), Status::kOK);
  pool_->Release(l, false);
  // The server has room again: the next growth attempt succeeds and the pool is ready.
  ASSERT_TRUE(WaitNoCreateInFlight());
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
  ASSERT_TRUE(WaitState(Health::kReady));
  EXPECT_EQ(pool_->Snapshot().health_reason, nullptr);
  EXPECT_NE(Metrics(pool_).find("connpool_capacity_limited{pool=\"default\"} 0"), std::string::npos);
}

TEST_F(CapacityFixture, ConnectionsThatBreakTooMakeItAnOutage) {
  Config cfg = SmallConfig(10);
  cfg.retry_max_ms = 60000;
  MakeFull(cfg, 3);
  Serve(20000);
  ASSERT_TRUE(Reason(pool_, "capacity"));
  ASSERT_GT(pool_->Snapshot().next_attempt_in_ms, 1000) << "growth retried on the plain backoff";
  // The server dies: each connection is found broken.
  std::vector<uint64_t> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(MustAcquire());
  clock_.AdvanceMs(1);
  for (uint64_t l : leases) pool_->Release(l, true);
  ASSERT_TRUE(Eventually([&] { return Reason(pool_, "outage"); }));
  EXPECT_LE(pool_->Snapshot().next_attempt_in_ms, 1000) << "an outage probes within probe_interval_ms";
  // unavailable_after_ms (5 s) counts from when the connections last worked.
  clock_.AdvanceMs(4900);
  pool_->RunMaintenance();
  EXPECT_EQ(pool_->state(), Health::kDegraded);
  clock_.AdvanceMs(101);
  pool_->RunMaintenance();
  ASSERT_TRUE(WaitState(Health::kUnavailable));
  EXPECT_STREQ(pool_->Snapshot().health_reason, "outage");
}

// At a capacity limit without traffic nothing uses the idle connections; maintenance
// validates one of them per pass, so a server that dies meanwhile is an outage after all.
TEST_F(CapacityFixture, IdleCanaryFindsADeadServer) {
  Config cfg = SmallConfig(10);
  cfg.retry_max_ms = 60000;
  MakeFull(cfg, 3);
  Serve(2000);
  ASSERT_TRUE(Reason(pool_, "capacity"));
  const int validations = state_->validate_calls.load();
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceMs(1000);
    pool_->RunMaintenance();
  }
  EXPECT_EQ(state_->validate_calls.load(), validations + 4) << "one canary per maintenance pass";
  EXPECT_TRUE(Reason(pool_, "capacity"));
  state_->validate_ok = false;  // the server dies; no caller notices
  clock_.AdvanceMs(1000);
  pool_->RunMaintenance();
  ASSERT_TRUE(Eventually([&] { return Reason(pool_, "outage"); }));
  for (int i = 0; i < 10 && pool_->state() != Health::kUnavailable; ++i) {
    clock_.AdvanceMs(600);
    pool_->RunMaintenance();
  }
  ASSERT_TRUE(WaitState(Health::kUnavailable));
}

// Shared connections (max_leases_per_conn > 1) may never turn idle: a share given back
// unbroken is the proof that they work.
TEST_F(CapacityTest, SharedConnectionsProveThemselvesByTheirShares) {
  Config cfg = SmallConfig(3);
  cfg.max_leases_per_conn = 2;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  std::vector<uint64_t> held;
  for (int i = 0; i < 4; ++i) held.push_back(MustAcquire());  // two connections, both full
  ASSERT_TRUE(WaitTotal(2));
  state_->create_result = CreateResult::kRetry;
  uint64_t got = 0;
  std::thread waiter([&] { got = MustAcquire(100000); });
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().create_failures >= 1; }));
  ASSERT_TRUE(WaitState(Health::kDegraded));
  clock_.AdvanceMs(10);
  ASSERT_EQ(pool_->Release(held[0], false), Status::kOK);  // the waiter gets that share
  waiter.join();
  held[0] = got;
  for (int i = 0; i < 20; ++i) {  // 12 s, past the 5 s cutoff
    clock_.AdvanceMs(600);
    ASSERT_EQ(pool_->Release(held[i % 4], false), Status::kOK);
    held[i % 4] = MustAcquire();
    pool_->RunMaintenance();
    ASSERT_EQ(pool_->state(), Health::kDegraded) << i;
  }
  EXPECT_STREQ(pool_->Snapshot().health_reason, "capacity");
  for (uint64_t l : held) pool_->Release(l, false);
}

// Leases that never come back prove nothing: with no idle connection and no unbroken release
// since the creates began failing, the unavailable_after_ms clock runs as before.
TEST_F(CapacityTest, LeasesHungOnADeadServerDoNotHideTheOutage) {
  Make(SmallConfig(3));
  ASSERT_TRUE(WaitState(Health::kReady));
  uint64_t a = MustAcquire(), b = MustAcquire();
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().idle == 0; }));
  state_->create_result = CreateResult::kRetry;
  clock_.AdvanceMs(10);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  ASSERT_TRUE(WaitState(Health::kDegraded));
  EXPECT_STREQ(pool_->Snapshot().health_reason, "outage");
  for (int i = 0; i < 10 && pool_->state() != Health::kUnavailable; ++i) {
    clock_.AdvanceMs(600);
    pool_->RunMaintenance();
  }
  ASSERT_TRUE(WaitState(Health::kUnavailable));
  pool_->Release(a, false);
  pool_->Release(b, false);
}

}  // namespace
}  // namespace connpool::testing
