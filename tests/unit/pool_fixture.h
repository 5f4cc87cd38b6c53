// SPDX-License-Identifier: Apache-2.0
// A pool on a FakeClock and a FakeFactory, closed (and checked for leaks) after each test.
#ifndef CONNPOOL_TESTS_POOL_FIXTURE_H
#define CONNPOOL_TESTS_POOL_FIXTURE_H

#include <gtest/gtest.h>

#include "pool/pool.h"
#include "unit/fake_factory.h"
#include "util/clock.h"

namespace connpool::testing {

// Waits until no create is in flight and the next one is scheduled. Creates run on helper
// threads, so one may still be failing after a test switches the factory to succeed; it
// would then reschedule past the clock advance the test makes next.
inline bool WaitNoCreateInFlightOn(Pool* pool) {
  return Eventually([&] {
    StatsSnapshot s = pool->Snapshot();
    return s.creating == 0 && s.next_attempt_in_ms > 0;
  });
}

class PoolTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pool_ != nullptr) Close();
    if (state_) {
      EXPECT_EQ(state_->created.load(), state_->destroyed.load()) << "connections leaked";
    }
  }

  // Makes the pool; background threads run, but time only moves through clock_.
  Pool* Make(Config cfg = Config{}, bool with_validate = true, bool with_reset = true,
             bool maintenance_thread = false) {
    state_ = std::make_shared<FakeState>();
    PoolOptions opts;
    opts.clock = &clock_;
    opts.maintenance_thread = maintenance_thread;
    opts.seed = 42;
    std::string err;
    Status st = Pool::Create(cfg, std::make_unique<FakeFactory>(state_, with_validate, with_reset), opts,
                             &pool_, &err);
    EXPECT_EQ(st, Status::kOK) << err;
    return pool_;
  }

  void Close() {
    pool_->Close();
    pool_ = nullptr;
    EXPECT_TRUE(state_->ctx_freed.load());
  }

  // Acquire that must succeed.
  uint64_t MustAcquire(int64_t timeout_ms = 1000, int priority = 0) {
    uint64_t lease = 0;
    void* conn = nullptr;
    Status st = pool_->Acquire(priority, timeout_ms, &lease, &conn);
    EXPECT_EQ(st, Status::kOK);
    EXPECT_NE(lease, 0u);
    EXPECT_NE(conn, nullptr);
    return lease;
  }

  bool WaitTotal(uint64_t n) {
    return Eventually([&] {
      StatsSnapshot s = pool_->Snapshot();
      return s.total == n && s.creating == 0;
    });
  }
  bool WaitState(Health h) {
    return Eventually([&] { return pool_->state() == h; });
  }
  bool WaitNoCreateInFlight() { return WaitNoCreateInFlightOn(pool_); }
  bool WaitWaiters(uint64_t n) {
    return Eventually([&] { return pool_->Snapshot().waiters == n; });
  }

  FakeClock clock_;
  std::shared_ptr<FakeState> state_;
  Pool* pool_ = nullptr;
};

inline Config SmallConfig(int64_t max_size = 2) {
  Config c;
  c.max_size = max_size;
  c.acquire_timeout_ms = 1000;
  c.retry_initial_ms = 100;
  c.retry_max_ms = 1000;
  c.retry_jitter = 0.0;
  c.unavailable_after_ms = 5000;
  return c;
}

}  // namespace connpool::testing

#endif
