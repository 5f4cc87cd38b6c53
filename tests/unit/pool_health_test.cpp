// SPDX-License-Identifier: Apache-2.0
// The health state machine, backoff schedule and connect_concurrency, on a fake clock.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using HealthTest = PoolTest;

bool WaitFailures(Pool* p, uint64_t n) {
  return Eventually([&] { return p->Snapshot().consecutive_failures >= n; });
}

TEST_F(HealthTest, StartsInStartingAndTurnsReadyOnFirstCreate) {
  auto cfg = SmallConfig(2);
  state_ = nullptr;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  EXPECT_EQ(pool_->WaitReady(0), Status::kOK);
}

// The plain retry_* backoff, as it runs with probe_interval_ms = 0 (the default 1000 caps the
// time between probes: RecoveryTest.StartupProbesAtMostOneIntervalApart in pool_recovery_test.cpp).
TEST_F(HealthTest, StartupRetriesForeverWithCappedBackoff) {
  Config cfg = SmallConfig(2);
  cfg.retry_initial_ms = 1000;
  cfg.retry_max_ms = 60000;
  cfg.probe_interval_ms = 0;
  Make(cfg);
  state_->create_result = CreateResult::kRetry;
  // The startup probe may already have succeeded before we flipped the switch; this test
  // needs a pool that never connected, so make a second one that fails from the start.
  Close();
  state_ = std::make_shared<FakeState>();
  state_->create_result = CreateResult::kRetry;
  PoolOptions opts;
  opts.clock = &clock_;
  opts.seed = 7;
  std::string err;
  ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state_), opts, &pool_, &err), Status::kOK);

  const int64_t expected_ms[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (uint64_t n = 1; n <= 8; ++n) {
    ASSERT_TRUE(WaitFailures(pool_, n)) << n;
    StatsSnapshot s = pool_->Snapshot();
    EXPECT_EQ(s.state, Health::kStarting);
    // Jitter is +-20 % around the base delay.
    EXPECT_GE(s.next_attempt_in_ms, expected_ms[n - 1] * 8 / 10 - 1) << n;
    EXPECT_LE(s.next_attempt_in_ms, expected_ms[n - 1] * 12 / 10 + 1) << n;
    clock_.AdvanceMs(s.next_attempt_in_ms + 1);
  }
  // Hours of fake time later it is still trying, once per minute at most.
  for (int i = 0; i < 200; ++i) {
    uint64_t before = pool_->Snapshot().consecutive_failures;
    clock_.AdvanceMs(72001);
    ASSERT_TRUE(WaitFailures(pool_, before + 1));
  }
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.state, Health::kStarting);
  EXPECT_EQ(pool_->WaitReady(0), Status::kETIMEOUT);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kETIMEOUT) << "starting: acquires time out, not fail fast";
  // Backend comes back.
  ASSERT_TRUE(WaitNoCreateInFlight());
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(72001);
  ASSERT_TRUE(WaitState(Health::kReady));
  EXPECT_EQ(pool_->Snapshot().consecutive_failures, 0u);
  EXPECT_EQ(pool_->Snapshot().next_attempt_in_ms, -1);
}

TEST_F(HealthTest, StartupRetryLimitEndsInUnavailable) {
  Config cfg = SmallConfig(2);
  cfg.startup_retry_ms = 1000;
  state_ = std::make_shared<FakeState>();
  state_->create_result = CreateResult::kRetry;
  PoolOptions opts;
  opts.clock = &clock_;
  std::string err;
  ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state_), opts, &pool_, &err), Status::kOK);
  ASSERT_TRUE(WaitFailures(pool_, 1));
  EXPECT_EQ(pool_->state(), Health::kStarting);
  clock_.AdvanceMs(1000);
  ASSERT_TRUE(WaitState(Health::kUnavailable));
}

// ready -> degraded on the first failed create -> unavailable after unavailable_after_ms, with
// waiters woken and acquires failing fast -> ready on the first successful probe.
TEST_F(HealthTest, OutageDegradesThenCutsOffThenRecovers) {
  Config cfg = SmallConfig(1);
  cfg.retry_initial_ms = 100;
  cfg.unavailable_after_ms = 5000;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  // The backend dies; the one connection is found broken.
  state_->create_result = CreateResult::kRetry;
  EXPECT_EQ(pool_->Release(MustAcquire(), true), Status::kOK);
  Status waiter_result = Status::kOK;
  std::thread waiter([&] {
    uint64_t l;
    void* c;
    waiter_result = pool_->Acquire(0, 1'000'000, &l, &c);
  });
  ASSERT_TRUE(WaitState(Health::kDegraded));
  ASSERT_TRUE(WaitWaiters(1));
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.consecutive_failures, 1u);
  EXPECT_EQ(s.outage_ms, 0);
  // Keep failing for the cutoff.
  for (int i = 0; i < 10 && pool_->state() != Health::kUnavailable; ++i) clock_.AdvanceMs(600);
  ASSERT_TRUE(WaitState(Health::kUnavailable));
  waiter.join();
  EXPECT_EQ(waiter_result, Status::kEUNAVAILABLE) << "queued waiters are woken";
  EXPECT_GE(pool_->Snapshot().outage_ms, 5000);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 1'000'000, &l, &c), Status::kEUNAVAILABLE) << "fails fast, no waiting";
  EXPECT_GE(pool_->Snapshot().unavailable, 2u);
  // The backend returns: the next background probe succeeds (after the one in flight, if any,
  // has failed: seen under ASan and TSan, where the helper runs slowly).
  ASSERT_TRUE(WaitNoCreateInFlight());
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
  ASSERT_TRUE(WaitState(Health::kReady));
  s = pool_->Snapshot();
  EXPECT_EQ(s.consecutive_failures, 0u);
  EXPECT_EQ(s.outage_ms, 0);
  pool_->Release(MustAcquire(), false);
  // Backoff was reset: the next outage starts again from retry_initial_ms.
  state_->create_result = CreateResult::kRetry;
  EXPECT_EQ(pool_->Release(MustAcquire(), true), Status::kOK);
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  ASSERT_TRUE(WaitFailures(pool_, 1));
  EXPECT_LE(pool_->Snapshot().next_attempt_in_ms, 100);
}

TEST_F(HealthTest, FatalMakesUnavailableAtOnceEvenWhileStarting) {
  Config cfg = SmallConfig(2);
  cfg.retry_max_ms = 30000;
  state_ = std::make_shared<FakeState>();
  state_->create_result = CreateResult::kFatal;
  PoolOptions opts;
  opts.clock = &clock_;
  std::string err;
  ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state_), opts, &pool_, &err), Status::kOK);
  ASSERT_TRUE(WaitState(Health::kUnavailable));
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_GE(s.next_attempt_in_ms, 30000 * 8 / 10) << "probes at the maximum backoff";
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 1000, &l, &c), Status::kEUNAVAILABLE);
  EXPECT_EQ(HealthHttpStatus(pool_->state()), 503);
}

TEST_F(HealthTest, RetryFailuresDoNotFailFastBeforeTheCutoff) {
  Config cfg = SmallConfig(1);
  cfg.unavailable_after_ms = 0;  // never cut off
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  state_->create_result = CreateResult::kRetry;
  pool_->Release(MustAcquire(), true);
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  ASSERT_TRUE(WaitState(Health::kDegraded));
  for (int i = 0; i < 50; ++i) clock_.AdvanceMs(1000);
  EXPECT_EQ(pool_->state(), Health::kDegraded);
  EXPECT_EQ(HealthHttpStatus(Health::kDegraded), 200);
}

TEST_F(HealthTest, ConnectConcurrencyBoundsCreatesInFlight) {
  Config cfg = SmallConfig(10);
  cfg.connect_concurrency = 2;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  uint64_t first = MustAcquire();
  state_->create_gate.Close();
  std::vector<std::thread> ts;
  for (int i = 0; i < 6; ++i) {
    ts.emplace_back([&] {
      uint64_t l;
      void* c;
      EXPECT_EQ(pool_->Acquire(0, 1'000'000, &l, &c), Status::kOK);
      pool_->Release(l, false);
    });
  }
  ASSERT_TRUE(WaitWaiters(6));
  ASSERT_TRUE(state_->create_gate.WaitParked(2));
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.creating, 2u);
  EXPECT_EQ(state_->create_calls.load(), 3) << "startup probe + 2 in flight, not 6";
  state_->create_gate.Open();
  for (auto& t : ts) t.join();
  pool_->Release(first, false);
  EXPECT_LE(state_->created.load(), 7);
}

TEST_F(HealthTest, OnlyOneProbeInFlightDuringAnOutage) {
  Config cfg = SmallConfig(10);
  cfg.connect_concurrency = 4;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  uint64_t held = MustAcquire();
  state_->create_result = CreateResult::kRetry;
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&] {
      uint64_t l;
      void* c;
      Status st = pool_->Acquire(0, 1'000'000, &l, &c);
      if (st == Status::kOK) pool_->Release(l, false);
    });
  }
  ASSERT_TRUE(WaitWaiters(8));
  // The first burst (before any failure was seen) may hold up to connect_concurrency creates.
  ASSERT_TRUE(Eventually([&] {
    StatsSnapshot s = pool_->Snapshot();
    return s.consecutive_failures >= 1 && s.creating == 0;
  }));
  int calls = state_->create_calls.load();
  EXPECT_LE(calls, 1 + 4) << "at most one burst before the first failure is seen";
  for (int i = 0; i < 3; ++i) {
    uint64_t n = pool_->Snapshot().consecutive_failures;
    clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
    ASSERT_TRUE(WaitFailures(pool_, n + 1));
    EXPECT_EQ(pool_->Snapshot().creating, 0u);
  }
  EXPECT_EQ(state_->create_calls.load(), calls + 3) << "one probe per backoff period";
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
  for (auto& t : ts) t.join();
  pool_->Release(held, false);
}

// Probing an unavailable pool follows the backoff clock, not the maintenance interval.
TEST_F(HealthTest, UnavailablePoolProbesOnItsBackoffSchedule) {
  Config cfg = SmallConfig(2);
  cfg.retry_initial_ms = 100;
  cfg.retry_max_ms = 400;
  cfg.maintenance_interval_ms = 3600000;  // maintenance never runs in this test
  state_ = std::make_shared<FakeState>();
  state_->create_result = CreateResult::kFatal;
  PoolOptions opts;
  opts.clock = &clock_;
  opts.maintenance_thread = false;
  std::string err;
  ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state_), opts, &pool_, &err), Status::kOK);
  ASSERT_TRUE(WaitState(Health::kUnavailable));
  state_->create_result = CreateResult::kRetry;
  for (int i = 0; i < 5; ++i) {
    uint64_t n = pool_->Snapshot().consecutive_failures;
    clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
    ASSERT_TRUE(WaitFailures(pool_, n + 1)) << "probe " << i;
    EXPECT_LE(pool_->Snapshot().next_attempt_in_ms, 400 * 12 / 10 + 1);
  }
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms + 1);
  ASSERT_TRUE(WaitState(Health::kReady));
}

TEST_F(HealthTest, WaitReadyAnswersClosedAfterDrain) {
  Make(SmallConfig(2));
  ASSERT_TRUE(WaitState(Health::kReady));
  EXPECT_EQ(pool_->Drain(0), Status::kOK);
  EXPECT_EQ(pool_->WaitReady(0), Status::kECLOSED);
  EXPECT_EQ(pool_->state(), Health::kClosed);
}

}  // namespace
}  // namespace connpool::testing
