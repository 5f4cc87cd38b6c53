// SPDX-License-Identifier: Apache-2.0
// Pool::TryAcquireFast, AcquireClaimed and TryReleaseFast on a FakeClock, where the lease
// timing budget and the lifetime are under the test's control (capi_try_fast_test.cpp covers
// the C functions on a real clock).
#include <atomic>
#include <thread>

#include "pool/lease_timing.h"
#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using TryFastTest = PoolTest;

Config Fixed(int64_t size) {
  Config c = SmallConfig(size);
  c.min_idle = size;
  c.validate_on_acquire = static_cast<int64_t>(ValidateMode::kNever);
  c.reset_on_release = false;
  return c;
}

// A thread's first kTimedLeasesPerTick leases per coarse tick are timed precisely, and their
// release is left to Release; the fake clock never ticks on its own, so after these the
// calling thread's leases are untimed until the clock moves.
void SpendTimingBudget(Pool* pool) {
  for (int i = 0; i < kTimedLeasesPerTick; ++i) {
    uint64_t lease = 0;
    ASSERT_EQ(pool->Acquire(0, 1000, &lease, nullptr), Status::kOK);
    ASSERT_EQ(pool->Release(lease, false), Status::kOK);
  }
}

TEST_F(TryFastTest, UntimedLeaseGoesBackByOneCasAndATimedOneIsDeclined) {
  Pool* pool = Make(Fixed(1), /*with_validate=*/false, /*with_reset=*/false);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t lease = 0;
  ASSERT_EQ(pool->TryAcquireFast(0, &lease, nullptr), Status::kOK);
  EXPECT_EQ(pool->TryReleaseFast(lease), Status::kETIMEOUT) << "timed: Release records its hold";
  ASSERT_EQ(pool->Release(lease, false), Status::kOK);
  SpendTimingBudget(pool);
  const uint64_t holds = pool->Snapshot().lease_hold_us.count;
  ASSERT_EQ(pool->TryAcquireFast(0, &lease, nullptr), Status::kOK);
  EXPECT_EQ(pool->TryReleaseFast(lease), Status::kOK);
  EXPECT_EQ(pool->TryReleaseFast(lease), Status::kETIMEOUT) << "given back already";
  EXPECT_EQ(pool->Release(lease, false), Status::kESTALE);
  // Held two coarse ticks (1 ns each on this clock): its hold is recorded, so Release does it.
  ASSERT_EQ(pool->TryAcquireFast(0, &lease, nullptr), Status::kOK);
  clock_.Advance(2);
  EXPECT_EQ(pool->TryReleaseFast(lease), Status::kETIMEOUT);
  ASSERT_EQ(pool->Release(lease, false), Status::kOK);
  StatsSnapshot s = pool->Snapshot();
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_EQ(s.stale_releases, 1u);
  EXPECT_GE(s.lease_hold_us.count, holds) << "nothing recorded by the try";
}

// A hand-off clears the slot's kWanted mark, so the connection handed to the first waiter
// comes back unmarked while a second one still waits: only the waiters' count tells.
TEST_F(TryFastTest, WaiterQueuedBehindAHandOffIsNotSkipped) {
  Pool* pool = Make(Fixed(1), false, false);
  ASSERT_TRUE(WaitTotal(1));
  std::atomic<int> step{0};
  std::atomic<uint64_t> first{0};
  std::thread w1([&] {
    SpendTimingBudget(pool);  // so that the lease handed to it below is untimed
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
    uint64_t lease = 0;
    EXPECT_EQ(pool->Acquire(0, 60000, &lease, nullptr), Status::kOK);
    first = lease;
  });
  while (step.load() != 1) std::this_thread::yield();
  const uint64_t held = MustAcquire();
  step = 2;
  ASSERT_TRUE(WaitWaiters(1));
  std::atomic<uint64_t> second{0};
  std::thread w2([&] {
    uint64_t lease = 0;
    EXPECT_EQ(pool->Acquire(0, 60000, &lease, nullptr), Status::kOK);
    second = lease;
  });
  ASSERT_TRUE(WaitWaiters(2));
  ASSERT_EQ(pool->Release(held, false), Status::kOK);  // to w1, the first in line
  w1.join();
  ASSERT_NE(first.load(), 0u);
  EXPECT_EQ(pool->TryReleaseFast(first.load()), Status::kETIMEOUT) << "w2 would be skipped";
  ASSERT_EQ(pool->Release(first.load(), false), Status::kOK);  // to w2
  w2.join();
  ASSERT_NE(second.load(), 0u);
  ASSERT_EQ(pool->Release(second.load(), false), Status::kOK);
}

TEST_F(TryFastTest, ClaimPastItsLifetimeIsRetiredByAcquireClaimed) {
  Config c = Fixed(1);
  c.max_lifetime_ms = 1000;
  c.lifetime_jitter_pct = 0;
  Pool* pool = Make(c, false, false);
  ASSERT_TRUE(WaitTotal(1));
  clock_.AdvanceMs(1000);
  uint64_t claim = 0, lease = 0;
  void* conn = &lease;
  ASSERT_EQ(pool->TryAcquireFast(0, &claim, &conn), Status::kPENDING);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(state_->destroyed.load(), 0) << "the try calls no factory callback";
  EXPECT_EQ(pool->Snapshot().in_use, 1u);
  ASSERT_EQ(pool->AcquireClaimed(claim, 0, 10000, &lease, &conn), Status::kOK);
  EXPECT_NE(lease, claim) << "a replacement, created for this acquire";
  EXPECT_NE(conn, nullptr);
  StatsSnapshot s = pool->Snapshot();
  EXPECT_EQ(s.closed_lifetime, 1u);
  EXPECT_EQ(s.acquired, 1u) << "the retired claim is not an acquire";
  EXPECT_EQ(pool->AcquireClaimed(claim, 0, 0, &lease, &conn), Status::kESTALE);
  ASSERT_EQ(pool->Release(lease, false), Status::kOK);
}

TEST_F(TryFastTest, SharedConnectionPoolsAreLeftToTheOrdinaryCalls) {
  Config c = Fixed(1);
  c.max_leases_per_conn = 2;
  Pool* pool = Make(c, false, false);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t lease = 0;
  EXPECT_EQ(pool->TryAcquireFast(0, &lease, nullptr), Status::kETIMEOUT);
  lease = MustAcquire();
  EXPECT_EQ(pool->TryReleaseFast(lease), Status::kETIMEOUT);
  EXPECT_EQ(pool->AcquireClaimed(lease, 0, 0, &lease, nullptr), Status::kESTALE);
  ASSERT_EQ(pool->Release(lease, false), Status::kOK);
}

}  // namespace
}  // namespace connpool::testing
