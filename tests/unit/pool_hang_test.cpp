// SPDX-License-Identifier: Apache-2.0
// Callbacks that do not return (core/pool/connector_bounded.cpp): a create, validate or reset parked on a
// Gate the test holds. The caller moves on at its bound, the pool keeps serving from other
// connections, stats count the abandoned call, and once the gate opens everything created is
// destroyed. Time moves only through the FakeClock; the gates are latches, not sleeps.
#include <gtest/gtest.h>

#include <thread>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using HangTest = PoolTest;

Config HangConfig(int64_t max_size = 3) {
  Config c = SmallConfig(max_size);
  c.max_lifetime_ms = 0;
  c.idle_timeout_ms = 0;
  c.unavailable_after_ms = 0;
  return c;
}

// What every test ends with: nothing live that the books do not show.
void ExpectBooksBalance(const StatsSnapshot& s) {
  EXPECT_EQ(s.created - s.destroyed, s.total - s.creating) << "created - destroyed = live";
}

TEST_F(HangTest, AResetThatOverrunsIsAbandonedAndTheReleaseReturns) {
  Config cfg = HangConfig();
  cfg.reset_timeout_ms = 1000;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->reset_gate.Close();
  std::thread releaser([&] { EXPECT_EQ(pool_->Release(a, false), Status::kOK); });
  ASSERT_TRUE(state_->reset_gate.WaitParked(1));
  clock_.AdvanceMs(999);
  EXPECT_EQ(pool_->Snapshot().resets_abandoned, 0u);
  clock_.AdvanceMs(1);
  releaser.join();  // returned at reset_timeout_ms although reset is still parked
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.resets_abandoned, 1u);
  EXPECT_EQ(s.abandoned_calls, 1u);
  EXPECT_EQ(s.in_use, 1u) << "the connection stays out until its reset returns";
  ExpectBooksBalance(s);

  // The pool goes on serving with other connections meanwhile.
  state_->reset_gate.Open();  // the parked reset returns too, some time from now
  uint64_t b = MustAcquire();
  ASSERT_EQ(pool_->Release(b, false), Status::kOK);
  ASSERT_TRUE(Eventually([&] {
    StatsSnapshot t = pool_->Snapshot();
    return t.abandoned_calls == 0 && t.destroyed == 1;
  }));
  s = pool_->Snapshot();
  EXPECT_EQ(s.closed_broken, 1u) << "an overrun reset's connection is never reused";
  EXPECT_EQ(s.resets_abandoned, 1u);
  ExpectBooksBalance(s);
}

TEST_F(HangTest, DrainWaitsForAnAbandonedReset) {
  Config cfg = HangConfig();
  cfg.reset_timeout_ms = 1000;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->reset_gate.Close();
  std::thread releaser([&] { EXPECT_EQ(pool_->Release(a, false), Status::kOK); });
  ASSERT_TRUE(state_->reset_gate.WaitParked(1));
  clock_.AdvanceMs(1000);
  releaser.join();
  EXPECT_EQ(pool_->Drain(0), Status::kETIMEOUT) << "the parked reset still holds a connection";
  state_->reset_gate.Open();
  EXPECT_EQ(pool_->Drain(60000), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.created, s.destroyed);
  EXPECT_EQ(s.resets_abandoned, 1u);
}

TEST_F(HangTest, ACreateThatHangsIsAbandonedAndThePoolServesFromOthers) {
  Config cfg = HangConfig();
  cfg.create_timeout_ms = 2000;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->create_gate.Close();
  Status waited = Status::kOK;
  uint64_t got = 0;
  std::thread w1([&] {
    void* c = nullptr;
    waited = pool_->Acquire(0, 3000, &got, &c);
  });
  ASSERT_TRUE(state_->create_gate.WaitParked(1));  // the connector's create for w1
  clock_.AdvanceMs(2000);
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().creates_abandoned == 1; }));
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.create_failures, 1u);
  EXPECT_EQ(s.abandoned_calls, 1u);
  EXPECT_EQ(s.state, Health::kDegraded);
  EXPECT_NE(s.last_error_message.find("create_timeout_ms"), std::string::npos) << s.last_error_message;

  // w1 is still waiting within its own 3 s: a connection coming back serves it.
  ASSERT_EQ(pool_->Release(a, false), Status::kOK);
  w1.join();
  ASSERT_EQ(waited, Status::kOK);

  // An acquire that nothing can serve ends at its deadline, hung create or not.
  std::thread w2([&] {
    uint64_t l = 0;
    void* c = nullptr;
    EXPECT_EQ(pool_->Acquire(0, 500, &l, &c), Status::kETIMEOUT);
  });
  ASSERT_TRUE(WaitWaiters(1));
  clock_.AdvanceMs(500);
  w2.join();

  ASSERT_EQ(pool_->Release(got, false), Status::kOK);
  state_->create_gate.Open();
  ASSERT_TRUE(Eventually([&] {
    StatsSnapshot t = pool_->Snapshot();
    return t.abandoned_calls == 0 && t.creating == 0;
  }));
  s = pool_->Snapshot();
  EXPECT_EQ(s.creates_abandoned, 1u);
  ExpectBooksBalance(s);
  EXPECT_EQ(pool_->Drain(60000), Status::kOK);
  s = pool_->Snapshot();
  EXPECT_EQ(s.created, s.destroyed) << "the late connection was destroyed, nothing is lost";
  EXPECT_EQ(static_cast<uint64_t>(state_->created.load()), s.created);
}

TEST_F(HangTest, AValidateThatHangsIsAbandonedAndTheAcquireGoesOn) {
  Config cfg = HangConfig();
  cfg.validate_on_acquire = static_cast<int64_t>(ValidateMode::kAlways);
  cfg.validation_timeout_ms = 500;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  state_->validate_gate.Close();
  Status st = Status::kEINVAL;
  uint64_t got = 0;
  std::thread t([&] {
    void* c = nullptr;
    st = pool_->Acquire(0, 5000, &got, &c);
  });
  ASSERT_TRUE(state_->validate_gate.WaitParked(1));
  clock_.AdvanceMs(500);
  t.join();  // gave up on the parked connection, got a fresh one (not validated)
  ASSERT_EQ(st, Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.validations_abandoned, 1u);
  EXPECT_EQ(s.abandoned_calls, 1u);
  state_->validate_gate.Open();
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().abandoned_calls == 0; }));
  ASSERT_EQ(pool_->Release(got, false), Status::kOK);
  ExpectBooksBalance(pool_->Snapshot());
}

// A keepalive validate that hangs must not stop maintenance (which also reports stalls).
TEST_F(HangTest, AHungKeepaliveValidateDoesNotStopMaintenance) {
  Config cfg = HangConfig();
  cfg.min_idle = 2;
  cfg.validate_interval_ms = 1000;
  cfg.validation_timeout_ms = 300;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(2));
  clock_.AdvanceMs(1000);
  state_->validate_gate.Close();
  std::thread maintenance([&] { pool_->RunMaintenance(); });
  ASSERT_TRUE(state_->validate_gate.WaitParked(1));
  clock_.AdvanceMs(300);
  ASSERT_TRUE(state_->validate_gate.WaitParked(2)) << "the pass moved on to the next connection";
  clock_.AdvanceMs(300);
  maintenance.join();  // the pass ended although both validates are still parked
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.validations_abandoned, 2u);
  EXPECT_EQ(s.validation_failures, 2u);
  EXPECT_EQ(s.abandoned_calls, 2u);
  state_->validate_gate.Open();
  ASSERT_TRUE(Eventually([&] {
    StatsSnapshot t = pool_->Snapshot();
    return t.abandoned_calls == 0 && t.destroyed == 2;
  }));
  ASSERT_TRUE(WaitTotal(2)) << "replacements keep min_idle";
  ExpectBooksBalance(pool_->Snapshot());
}

// connpool_pool_free must not hang on a callback that never returns: after close_wait_ms it
// returns, and the stuck helper destroys its connection (and frees the factory) when it does.
TEST_F(HangTest, FreeDoesNotWaitForeverForAStuckReset) {
  Config cfg = HangConfig();
  cfg.reset_timeout_ms = 1000;
  cfg.close_wait_ms = 0;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->reset_gate.Close();
  std::thread releaser([&] { EXPECT_EQ(pool_->Release(a, false), Status::kOK); });
  ASSERT_TRUE(state_->reset_gate.WaitParked(1));
  clock_.AdvanceMs(1000);
  releaser.join();
  pool_->Close();  // returns although the reset is still parked
  pool_ = nullptr;
  EXPECT_FALSE(state_->ctx_freed.load()) << "the stuck callback still uses the factory";
  EXPECT_EQ(state_->destroyed.load(), 0);
  state_->reset_gate.Open();
  ASSERT_TRUE(Eventually([&] { return state_->ctx_freed.load(); }));
  EXPECT_EQ(state_->created.load(), state_->destroyed.load());
}

// With a bound to wait, free waits for a callback that returns within it.
TEST_F(HangTest, FreeWaitsForACallbackThatReturnsWithinCloseWait) {
  Config cfg = HangConfig();
  cfg.reset_timeout_ms = 1000;
  cfg.close_wait_ms = 60000;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->reset_gate.Close();
  std::thread releaser([&] { EXPECT_EQ(pool_->Release(a, false), Status::kOK); });
  ASSERT_TRUE(state_->reset_gate.WaitParked(1));
  clock_.AdvanceMs(1000);
  releaser.join();
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    pool_->Close();
    closed = true;
  });
  clock_.AdvanceMs(100);  // well within close_wait_ms
  EXPECT_FALSE(closed.load());
  state_->reset_gate.Open();
  closer.join();
  pool_ = nullptr;
  EXPECT_TRUE(state_->ctx_freed.load());
  EXPECT_EQ(state_->created.load(), state_->destroyed.load());
}

}  // namespace
}  // namespace connpool::testing
