// SPDX-License-Identifier: Apache-2.0
// Acquire, release, waiting order, timeouts and bad leases, on a fake clock.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using AcquireTest = PoolTest;

TEST_F(AcquireTest, AcquireAndReleaseReuseTheConnection) {
  Make(SmallConfig(2));
  ASSERT_TRUE(WaitTotal(1)) << "startup probe connection";
  void* c1 = nullptr;
  uint64_t l1 = 0;
  ASSERT_EQ(pool_->Acquire(0, 1000, &l1, &c1), Status::kOK);
  EXPECT_EQ(pool_->Release(l1, false), Status::kOK);
  void* c2 = nullptr;
  uint64_t l2 = 0;
  ASSERT_EQ(pool_->Acquire(0, 1000, &l2, &c2), Status::kOK);
  EXPECT_EQ(c1, c2);
  EXPECT_NE(l1, l2) << "a new lease (generation) every time";
  EXPECT_EQ(pool_->Release(l2, false), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.acquired, 2u);
  EXPECT_EQ(s.created, 1u);
  EXPECT_EQ(s.acquire_wait_us.count, 2u);
  EXPECT_EQ(state_->reset_calls.load(), 2);
}

TEST_F(AcquireTest, StaleDoubleForeignAndGarbageLeasesAreRefused) {
  Make(SmallConfig(2));
  uint64_t l = MustAcquire();
  EXPECT_EQ(pool_->Release(0, false), Status::kESTALE);
  EXPECT_EQ(pool_->Release(~uint64_t{0}, false), Status::kESTALE);
  EXPECT_EQ(pool_->Release(l + 1, false), Status::kESTALE) << "wrong generation";
  EXPECT_EQ(pool_->Release(l, false), Status::kOK);
  EXPECT_EQ(pool_->Release(l, false), Status::kESTALE) << "double release";
  EXPECT_EQ(pool_->Release(l, true), Status::kESTALE);
  uint64_t l2 = MustAcquire();
  EXPECT_EQ(pool_->Release(l, false), Status::kESTALE) << "old lease of a reused slot";

  // A lease of another pool never touches this one.
  FakeClock other_clock;
  auto other_state = std::make_shared<FakeState>();
  PoolOptions opts;
  opts.clock = &other_clock;
  Pool* other = nullptr;
  std::string err;
  ASSERT_EQ(Pool::Create(SmallConfig(2), std::make_unique<FakeFactory>(other_state), opts, &other, &err), Status::kOK);
  uint64_t lo = 0;
  void* co = nullptr;
  ASSERT_EQ(other->Acquire(0, 1000, &lo, &co), Status::kOK);
  EXPECT_EQ(pool_->Release(lo, false), Status::kESTALE);
  EXPECT_EQ(other->Release(l2, false), Status::kESTALE);
  EXPECT_EQ(other->Release(lo, false), Status::kOK);
  other->Close();
  EXPECT_EQ(other_state->created.load(), other_state->destroyed.load());

  EXPECT_EQ(pool_->Release(l2, false), Status::kOK);
  EXPECT_EQ(pool_->Snapshot().stale_releases, 7u);
}

TEST_F(AcquireTest, TimeoutZeroNeverWaits) {
  Make(SmallConfig(1));
  uint64_t held = MustAcquire();
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kETIMEOUT);
  EXPECT_EQ(pool_->Snapshot().timeouts, 1u);
  pool_->Release(held, false);
}

TEST_F(AcquireTest, TimeoutZeroCreatesOnTheCallerAndReportsFactoryFailure) {
  Config cfg = SmallConfig(3);
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  uint64_t b;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &b, &c), Status::kOK) << "created on this thread";
  EXPECT_EQ(state_->created.load(), 2);
  state_->create_result = CreateResult::kRetry;
  uint64_t d;
  EXPECT_EQ(pool_->Acquire(0, 0, &d, &c), Status::kEFACTORY);
  EXPECT_EQ(pool_->Acquire(0, 0, &d, &c), Status::kETIMEOUT) << "backoff: no second create right away";
  EXPECT_EQ(state_->create_calls.load(), 3);
  pool_->Release(a, false);
  pool_->Release(b, false);
}

TEST_F(AcquireTest, WaitingAcquireTimesOutOnTheFakeClock) {
  Make(SmallConfig(1));
  uint64_t held = MustAcquire();
  Status result = Status::kOK;
  std::thread t([&] {
    uint64_t l;
    void* c;
    result = pool_->Acquire(0, 1000, &l, &c);
  });
  ASSERT_TRUE(WaitWaiters(1));
  clock_.AdvanceMs(999);
  EXPECT_EQ(pool_->Snapshot().waiters, 1u) << "not yet";
  clock_.AdvanceMs(1);
  t.join();
  EXPECT_EQ(result, Status::kETIMEOUT);
  EXPECT_EQ(pool_->Snapshot().waiters, 0u);
  EXPECT_EQ(pool_->Snapshot().timeouts, 1u);
  pool_->Release(held, false);
}

TEST_F(AcquireTest, NegativeTimeoutUsesTheConfiguredDefault) {
  Config cfg = SmallConfig(1);
  cfg.acquire_timeout_ms = 300;
  Make(cfg);
  uint64_t held = MustAcquire();
  Status result = Status::kOK;
  std::thread t([&] {
    uint64_t l;
    void* c;
    result = pool_->Acquire(0, -1, &l, &c);
  });
  ASSERT_TRUE(WaitWaiters(1));
  clock_.AdvanceMs(300);
  t.join();
  EXPECT_EQ(result, Status::kETIMEOUT);
  pool_->Release(held, false);
}

// Starts a waiter that records its turn and releases at once.
struct Recorder {
  std::mutex mu;
  std::vector<int> order;
};

std::thread StartWaiter(Pool* pool, int id, int priority, Recorder* rec) {
  return std::thread([=] {
    uint64_t l;
    void* c;
    ASSERT_EQ(pool->Acquire(priority, 100000, &l, &c), Status::kOK);
    {
      std::lock_guard<std::mutex> lk(rec->mu);
      rec->order.push_back(id);
    }
    pool->Release(l, false);
  });
}

TEST_F(AcquireTest, WaitersAreServedFifoWithinAPriority) {
  Make(SmallConfig(1));
  uint64_t held = MustAcquire();
  Recorder rec;
  std::vector<std::thread> ts;
  for (int i = 0; i < 5; ++i) {
    ts.push_back(StartWaiter(pool_, i, 0, &rec));
    ASSERT_TRUE(WaitWaiters(i + 1));
  }
  pool_->Release(held, false);
  for (auto& t : ts) t.join();
  EXPECT_EQ(rec.order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(AcquireTest, HigherPriorityIsServedFirst) {
  Make(SmallConfig(1));
  uint64_t held = MustAcquire();
  Recorder rec;
  std::vector<std::thread> ts;
  const int prio[] = {0, 5, 5, 1, -3, 9};
  for (int i = 0; i < 6; ++i) {
    ts.push_back(StartWaiter(pool_, i, prio[i], &rec));
    ASSERT_TRUE(WaitWaiters(i + 1));
  }
  pool_->Release(held, false);
  for (auto& t : ts) t.join();
  EXPECT_EQ(rec.order, (std::vector<int>{5, 1, 2, 3, 0, 4}));
}

TEST_F(AcquireTest, MaxWaitersShedsLoadAtOnce) {
  Config cfg = SmallConfig(1);
  cfg.max_waiters = 1;
  Make(cfg);
  uint64_t held = MustAcquire();
  std::thread t([&] {
    uint64_t l;
    void* c;
    EXPECT_EQ(pool_->Acquire(0, 100000, &l, &c), Status::kOK);
    pool_->Release(l, false);
  });
  ASSERT_TRUE(WaitWaiters(1));
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 100000, &l, &c), Status::kEOVERLOAD);
  EXPECT_EQ(pool_->Snapshot().overload, 1u);
  pool_->Release(held, false);
  t.join();
}

TEST_F(AcquireTest, MaxSizeIsAHardCapUnderDemand) {
  Make(SmallConfig(3));
  std::vector<uint64_t> held;
  for (int i = 0; i < 3; ++i) held.push_back(MustAcquire());
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kETIMEOUT);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.total, 3u);
  EXPECT_EQ(s.in_use, 3u);
  for (uint64_t h : held) pool_->Release(h, false);
}

TEST_F(AcquireTest, ReleaseBrokenDestroysTheConnection) {
  Make(SmallConfig(2));
  uint64_t l = MustAcquire();
  EXPECT_EQ(pool_->Release(l, true), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.closed_broken, 1u);
  EXPECT_EQ(s.destroyed, 1u);
  EXPECT_EQ(state_->reset_calls.load(), 0) << "no reset for a broken connection";
}

TEST_F(AcquireTest, ValidationFailureDestroysAndReplaces) {
  Config cfg = SmallConfig(2);
  cfg.validate_on_acquire = static_cast<int64_t>(ValidateMode::kAlways);
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  state_->validate_ok = false;
  uint64_t l = MustAcquire();  // the idle one fails validation; a fresh one is made for us
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.validation_failures, 1u);
  EXPECT_EQ(s.destroyed, 1u);
  EXPECT_EQ(s.created, 2u);
  pool_->Release(l, false);
}

TEST_F(AcquireTest, IdleModeValidatesOnlyAfterValidationIdle) {
  Config cfg = SmallConfig(2);
  cfg.validation_idle_ms = 500;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  pool_->Release(MustAcquire(), false);
  EXPECT_EQ(state_->validate_calls.load(), 0) << "used recently: trusted";
  clock_.AdvanceMs(501);
  pool_->Release(MustAcquire(), false);
  EXPECT_EQ(state_->validate_calls.load(), 1);
}

TEST_F(AcquireTest, ThrowingValidateCountsAsBroken) {
  Config cfg = SmallConfig(2);
  cfg.validate_on_acquire = static_cast<int64_t>(ValidateMode::kAlways);
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  state_->validate_throws = true;
  uint64_t l = MustAcquire();
  EXPECT_EQ(pool_->Snapshot().validation_failures, 1u);
  pool_->Release(l, false);
}

TEST_F(AcquireTest, ResetFailureOrThrowDestroysOnRelease) {
  Make(SmallConfig(2));
  state_->reset_ok = false;
  pool_->Release(MustAcquire(), false);
  EXPECT_EQ(pool_->Snapshot().destroyed, 1u);
  state_->reset_ok = true;
  state_->reset_throws = true;
  pool_->Release(MustAcquire(), false);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.destroyed, 2u);
  EXPECT_EQ(s.reset_failures, 2u);
}

TEST_F(AcquireTest, ResetOnReleaseCanBeTurnedOff) {
  Config cfg = SmallConfig(2);
  cfg.reset_on_release = false;
  Make(cfg);
  pool_->Release(MustAcquire(), false);
  EXPECT_EQ(state_->reset_calls.load(), 0);
}

TEST_F(AcquireTest, CreateReturningNullIsAFailureNotALease) {
  Config cfg = SmallConfig(2);
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->create_null = true;
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.create_failures, 1u);
  EXPECT_NE(s.last_error_message.find("NULL"), std::string::npos) << s.last_error_message;
  pool_->Release(a, false);
}

TEST_F(AcquireTest, ThrowingCreateIsAFailureWithItsMessage) {
  Make(SmallConfig(2));
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->create_throws = true;
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  EXPECT_NE(pool_->Snapshot().last_error_message.find("boom in create"), std::string::npos);
  pool_->Release(a, false);
}

TEST_F(AcquireTest, ThrowingDestroyIsContained) {
  Make(SmallConfig(2));
  state_->destroy_throws = true;
  EXPECT_EQ(pool_->Release(MustAcquire(), true), Status::kOK);
  EXPECT_EQ(pool_->Snapshot().destroyed, 1u);
}

TEST_F(AcquireTest, LastErrorIsRedacted) {
  Make(SmallConfig(2));
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire();
  state_->create_result = CreateResult::kRetry;
  uint64_t l;
  void* c;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  std::string msg = pool_->Snapshot().last_error_message;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("password=***"), std::string::npos) << msg;
  pool_->Release(a, false);
}

}  // namespace
}  // namespace connpool::testing
