// SPDX-License-Identifier: Apache-2.0
// Recovery after an outage on a fake clock: probes at most probe_interval_ms apart whatever
// the outage's length, the pool serving again within one interval of the backend's return,
// at most one attempt per second meanwhile, and creates ramping up 1, 1, 2, 4 afterwards.
#include <gtest/gtest.h>

#include <vector>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using RecoveryTest = PoolTest;

bool WaitFailures(Pool* p, uint64_t n) {
  return Eventually([&] { return p->Snapshot().consecutive_failures >= n; });
}

// Default retry_* and probe_interval_ms: the first probe within 1 s, then exactly 1 s apart
// (the plain backoff would have grown to 60 s: HealthTest.StartupRetriesForeverWithCappedBackoff).
TEST_F(RecoveryTest, StartupProbesAtMostOneIntervalApart) {
  Config cfg;
  state_ = std::make_shared<FakeState>();
  state_->create_result = CreateResult::kRetry;
  PoolOptions opts;
  opts.clock = &clock_;
  opts.seed = 11;
  std::string err;
  ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state_), opts, &pool_, &err), Status::kOK);
  for (uint64_t n = 1; n <= 100; ++n) {
    ASSERT_TRUE(WaitFailures(pool_, n)) << n;
    StatsSnapshot s = pool_->Snapshot();
    ASSERT_GE(s.next_attempt_in_ms, 1) << n;
    if (n == 1) {
      EXPECT_LE(s.next_attempt_in_ms, 1000);
    } else {
      ASSERT_EQ(s.next_attempt_in_ms, 1000) << n;
    }
    EXPECT_STREQ(s.health_reason, "outage");
    EXPECT_EQ(s.state, Health::kStarting);
    clock_.AdvanceMs(s.next_attempt_in_ms);
  }
  ASSERT_TRUE(WaitFailures(pool_, 101));
  EXPECT_EQ(state_->create_calls.load(), 101);
}

// A ten-minute outage with the defaults: one attempt per second at most, and the pool serves
// within one probe interval of the backend's return (connect time is 0 on the fake clock).
TEST_F(RecoveryTest, TenMinuteOutageServesWithinOneIntervalOfTheReturn) {
  Config cfg;
  cfg.min_idle = 2;
  cfg.connect_concurrency = 4;
  Make(cfg);
  ASSERT_TRUE(WaitState(Health::kReady));
  ASSERT_TRUE(WaitTotal(2));
  state_->create_result = CreateResult::kRetry;
  const int calls_before = state_->create_calls.load();
  uint64_t a = MustAcquire(), b = MustAcquire();
  pool_->Release(a, true);
  pool_->Release(b, true);  // the backend is gone: the outage starts with the refill's failure
  ASSERT_TRUE(WaitFailures(pool_, 1));
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().creating == 0; }));
  // The refill creates in flight when the backend went (at most connect_concurrency) fail
  // together; from then on the pool probes alone.
  const int burst = state_->create_calls.load() - calls_before;
  EXPECT_LE(burst, 4);
  EXPECT_LE(pool_->Snapshot().next_attempt_in_ms, 1000);
  int64_t elapsed_ms = 0;
  while (elapsed_ms < 600000) {
    StatsSnapshot s = pool_->Snapshot();
    ASSERT_LE(s.next_attempt_in_ms, 1000) << "at " << elapsed_ms;
    ASSERT_GE(s.next_attempt_in_ms, 1);
    clock_.AdvanceMs(s.next_attempt_in_ms);
    elapsed_ms += s.next_attempt_in_ms;
    ASSERT_TRUE(WaitFailures(pool_, s.consecutive_failures + 1)) << "at " << elapsed_ms;
  }
  EXPECT_EQ(pool_->state(), Health::kUnavailable);
  const int probes = state_->create_calls.load() - calls_before - burst;
  EXPECT_LE(probes, elapsed_ms / 1000 + 1) << "one probe per second (the first within the first second)";
  EXPECT_GE(probes, elapsed_ms / 1000) << "and no fewer: the pool notices the return in time";
  // The backend returns halfway to the next probe.
  const int64_t next = pool_->Snapshot().next_attempt_in_ms;
  clock_.AdvanceMs(next / 2);
  state_->create_result = CreateResult::kOk;
  clock_.AdvanceMs(next - next / 2);
  ASSERT_TRUE(WaitState(Health::kReady));
  EXPECT_LE(next - next / 2, 1000);
  uint64_t l;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kOK) << "served without waiting for anything else";
  pool_->Release(l, false);
}

// After the probe succeeds the refill to min_idle runs 1, then 1, 2, 4 creates in flight
// (connect_concurrency 4), not 4 at once against a backend that just came back.
TEST_F(RecoveryTest, CreatesRampUpAfterTheFirstSuccess) {
  Config cfg = SmallConfig(10);
  cfg.min_idle = 8;
  cfg.connect_concurrency = 4;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(8));
  state_->create_result = CreateResult::kRetry;
  std::vector<uint64_t> leases;
  for (int i = 0; i < 8; ++i) leases.push_back(MustAcquire());
  for (uint64_t l : leases) pool_->Release(l, true);
  ASSERT_TRUE(WaitFailures(pool_, 1));
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().creating == 0; }));
  EXPECT_EQ(pool_->Snapshot().create_limit, 1);
  state_->create_gate.Close();
  state_->create_result = CreateResult::kOk;
  const int created0 = state_->created.load();
  clock_.AdvanceMs(pool_->Snapshot().next_attempt_in_ms);
  auto round = [&](int let, int created, int in_flight) {
    if (let > 0) state_->create_gate.Let(let);
    ASSERT_TRUE(Eventually([&] { return state_->created.load() == created0 + created; })) << created;
    ASSERT_TRUE(state_->create_gate.WaitParkedExactly(in_flight)) << created;
    StatsSnapshot s = pool_->Snapshot();
    EXPECT_EQ(s.creating, static_cast<uint64_t>(in_flight)) << created;
    EXPECT_EQ(s.create_limit, in_flight) << created;
  };
  round(0, 0, 1);  // the probe alone, although min_idle wants 8
  round(1, 1, 1);
  round(1, 2, 2);
  round(2, 4, 4);
  EXPECT_EQ(pool_->state(), Health::kReady);
  state_->create_gate.Open();
  ASSERT_TRUE(WaitTotal(8));
}

}  // namespace
}  // namespace connpool::testing
