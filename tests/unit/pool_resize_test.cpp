// SPDX-License-Identifier: Apache-2.0
// connpool_pool_resize on a fake clock: growing serves waiters at once, shrinking retires idle
// connections at once and leased ones only when they come back, and the books balance
// (created = destroyed + idle + in_use + creating) after every step; plus resizing from many
// threads while others acquire and release.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "unit/pool_fixture.h"

namespace connpool::testing {
namespace {

using ResizeTest = PoolTest;

void ExpectBooksBalance(const StatsSnapshot& s) {
  EXPECT_EQ(s.created, s.destroyed + s.idle + s.in_use + s.creating);
  EXPECT_EQ(s.total, s.idle + s.in_use + s.creating);
}

// Acquires on another thread (no timeout on a fake clock: it waits until served).
struct BackgroundAcquire {
  explicit BackgroundAcquire(Pool* p) {
    t = std::thread([this, p] { st = p->Acquire(0, 60000, &lease, &conn); });
  }
  Status Join() {
    t.join();
    return st;
  }
  std::thread t;
  Status st = Status::kEINTERNAL;
  uint64_t lease = 0;
  void* conn = nullptr;
};

TEST_F(ResizeTest, GrowingServesAWaiterAtOnce) {
  Make(SmallConfig(1), true, /*with_reset=*/false);
  ASSERT_TRUE(WaitTotal(1));
  uint64_t held = MustAcquire();
  BackgroundAcquire waiter(pool_);
  ASSERT_TRUE(WaitWaiters(1));
  std::string err;
  ASSERT_EQ(pool_->Resize(0, 2, &err), Status::kOK) << err;
  ASSERT_EQ(waiter.Join(), Status::kOK) << "the waiter got a new connection without a release";
  EXPECT_NE(waiter.lease, held);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.max_size, 2);
  EXPECT_EQ(s.in_use, 2u);
  EXPECT_EQ(s.created, 2u);
  ExpectBooksBalance(s);
  EXPECT_EQ(pool_->Release(held, false), Status::kOK);
  EXPECT_EQ(pool_->Release(waiter.lease, false), Status::kOK);
}

TEST_F(ResizeTest, RaisingMinIdleWarmsConnectionsAndLoweringItLetsThemIdleOut) {
  Config cfg = SmallConfig(5);
  cfg.idle_timeout_ms = 1000;
  cfg.max_lifetime_ms = 0;
  Make(cfg);
  ASSERT_TRUE(WaitTotal(1));
  std::string err;
  ASSERT_EQ(pool_->Resize(3, 5, &err), Status::kOK) << err;
  ASSERT_TRUE(WaitTotal(3));
  EXPECT_EQ(pool_->Snapshot().min_idle, 3);
  ASSERT_EQ(pool_->Resize(1, 5, &err), Status::kOK) << err;
  clock_.AdvanceMs(2000);
  pool_->RunMaintenance();
  ASSERT_TRUE(WaitTotal(1));
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.closed_idle, 2u);
  EXPECT_EQ(s.closed_shrink, 0u) << "max_size did not shrink";
  ExpectBooksBalance(s);
}

// Both release paths: the one-CAS path (no reset) and the exclusive one (reset configured).
class ShrinkTest : public PoolTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ShrinkTest, RetiresIdleAtOnceAndLeasedOnlyWhenTheyComeBack) {
  // Warmed first, so that every acquire below claims an idle connection without queueing
  // (a queued acquirer marks leased slots kWanted, which sends their release the slow way).
  Config cfg = SmallConfig(4);
  cfg.min_idle = 4;
  Make(cfg, true, /*with_reset=*/GetParam());
  ASSERT_TRUE(WaitTotal(4));
  std::vector<uint64_t> leases;
  for (int i = 0; i < 4; ++i) leases.push_back(MustAcquire());
  ASSERT_EQ(pool_->Release(leases[2], false), Status::kOK);
  ASSERT_EQ(pool_->Release(leases[3], false), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  ASSERT_EQ(s.idle, 2u);
  ASSERT_EQ(s.in_use, 2u);

  std::string err;
  ASSERT_EQ(pool_->Resize(0, 1, &err), Status::kOK) << err;
  s = pool_->Snapshot();
  EXPECT_EQ(s.max_size, 1);
  EXPECT_EQ(s.min_idle, 0);
  EXPECT_EQ(s.idle, 0u) << "idle connections above the new max_size go at once";
  EXPECT_EQ(s.in_use, 2u) << "leases are never taken back";
  EXPECT_EQ(s.closed_shrink, 2u);
  ExpectBooksBalance(s);

  // Still over max_size: this release retires its connection instead of keeping it.
  ASSERT_EQ(pool_->Release(leases[0], false), Status::kOK);
  s = pool_->Snapshot();
  EXPECT_EQ(s.total, 1u);
  EXPECT_EQ(s.idle, 0u);
  EXPECT_EQ(s.closed_shrink, 3u);
  EXPECT_EQ(pool_->Release(leases[0], false), Status::kESTALE) << "a retired lease stays stale";
  // At max_size now: the last one is kept.
  ASSERT_EQ(pool_->Release(leases[1], false), Status::kOK);
  s = pool_->Snapshot();
  EXPECT_EQ(s.total, 1u);
  EXPECT_EQ(s.idle, 1u);
  EXPECT_EQ(s.closed_shrink, 3u);
  ExpectBooksBalance(s);
  // And it is reused, not recreated.
  uint64_t again = MustAcquire();
  EXPECT_EQ(pool_->Snapshot().created, 4u);
  EXPECT_EQ(pool_->Release(again, false), Status::kOK);
}

TEST_P(ShrinkTest, WaitersAreServedOnlyOnceThePoolIsBackUnderMaxSize) {
  Make(SmallConfig(2), true, /*with_reset=*/GetParam());
  ASSERT_TRUE(WaitTotal(1));
  uint64_t a = MustAcquire(), b = MustAcquire();
  BackgroundAcquire waiter(pool_);
  ASSERT_TRUE(WaitWaiters(1));
  std::string err;
  ASSERT_EQ(pool_->Resize(0, 1, &err), Status::kOK) << err;
  ASSERT_EQ(pool_->Release(a, false), Status::kOK);
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.waiters, 1u) << "the connection over max_size was retired, not handed on";
  EXPECT_EQ(s.total, 1u);
  EXPECT_EQ(s.closed_shrink, 1u);
  ASSERT_EQ(pool_->Release(b, false), Status::kOK);
  ASSERT_EQ(waiter.Join(), Status::kOK);
  s = pool_->Snapshot();
  EXPECT_EQ(s.in_use, 1u);
  EXPECT_EQ(s.total, 1u);
  ExpectBooksBalance(s);
  EXPECT_EQ(pool_->Release(waiter.lease, false), Status::kOK);
}

std::string ReleasePathName(const ::testing::TestParamInfo<bool>& p) { return p.param ? "WithReset" : "OneCas"; }
INSTANTIATE_TEST_SUITE_P(ReleasePaths, ShrinkTest, ::testing::Values(false, true), ReleasePathName);

TEST_F(ResizeTest, GrowsPastTheInitialSlotChunksWhileOthersScan) {
  Make(SmallConfig(2), true, false);
  ASSERT_TRUE(WaitTotal(1));
  std::string err;
  ASSERT_EQ(pool_->Resize(0, 200, &err), Status::kOK) << err;
  // 4 threads take 50 leases each: slots 0..199 span four 64-slot chunks, published while
  // the other threads scan them without the lock.
  std::vector<std::vector<uint64_t>> held(4);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        uint64_t l = 0;
        void* c = nullptr;
        if (pool_->Acquire(0, 60000, &l, &c) == Status::kOK) held[t].push_back(l);
      }
    });
  for (auto& t : ts) t.join();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.in_use, 200u);
  EXPECT_EQ(s.total, 200u);
  ExpectBooksBalance(s);
  ASSERT_EQ(pool_->Resize(0, 3, &err), Status::kOK) << err;
  for (auto& v : held)
    for (uint64_t l : v) EXPECT_EQ(pool_->Release(l, false), Status::kOK);
  s = pool_->Snapshot();
  EXPECT_EQ(s.total, 3u);
  EXPECT_EQ(s.closed_shrink, 197u);
  ExpectBooksBalance(s);
}

TEST_F(ResizeTest, BadArgumentsAreEinvalNamingTheArgumentAndRange) {
  Make(SmallConfig(2));
  // The start-up create must be over before Drain(0) below can report kOK (it runs on a helper
  // thread now, so it is no longer all but certain to be done by the time Drain runs).
  ASSERT_TRUE(WaitTotal(1));
  std::string err;
  EXPECT_EQ(pool_->Resize(0, 0, &err), Status::kEINVAL);
  EXPECT_NE(err.find("max_size"), std::string::npos) << err;
  EXPECT_NE(err.find("1..100000"), std::string::npos) << err;
  EXPECT_EQ(pool_->Resize(0, 100001, &err), Status::kEINVAL);
  EXPECT_NE(err.find("max_size"), std::string::npos) << err;
  EXPECT_EQ(pool_->Resize(-1, 5, &err), Status::kEINVAL);
  EXPECT_NE(err.find("min_idle"), std::string::npos) << err;
  EXPECT_NE(err.find("0..100000"), std::string::npos) << err;
  EXPECT_EQ(pool_->Resize(6, 5, &err), Status::kEINVAL);
  EXPECT_NE(err.find("must not exceed"), std::string::npos) << err;
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.max_size, 2) << "a refused resize changes nothing";
  EXPECT_EQ(s.min_idle, 0);
  ASSERT_EQ(pool_->Drain(0), Status::kOK);
  EXPECT_EQ(pool_->Resize(0, 5, &err), Status::kECLOSED);
  EXPECT_EQ(pool_->Snapshot().max_size, 2);
}

// Eight threads acquire and release (some broken) on a real clock while two more resize the
// pool at random between 1 and 150 (crossing chunk boundaries both ways) and read stats.
// Afterwards, with every lease back and a maintenance pass run, the books balance and the pool
// is within its final max_size.
TEST(ResizeStress, ResizingUnderLoadKeepsTheBooksBalanced) {
  for (bool with_reset : {false, true}) {
    auto state = std::make_shared<FakeState>();
    Config cfg;
    cfg.max_size = 4;
    cfg.retry_initial_ms = 1;
    cfg.retry_max_ms = 2;
    Pool* pool = nullptr;
    std::string err;
    PoolOptions opts;
    opts.maintenance_thread = false;
    ASSERT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(state, true, with_reset), opts, &pool, &err),
              Status::kOK);
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
      ts.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t) * 31 + 7);
        std::vector<uint64_t> mine;
        for (int i = 0; i < 3000; ++i) {
          uint64_t l;
          void* c;
          if (mine.size() < 20 && rng() % 2 == 0 && pool->Acquire(0, 5, &l, &c) == Status::kOK) {
            mine.push_back(l);
            ok++;
          } else if (!mine.empty()) {
            size_t k = rng() % mine.size();
            EXPECT_EQ(pool->Release(mine[k], rng() % 16 == 0), Status::kOK);
            mine.erase(mine.begin() + static_cast<long>(k));
          }
        }
        for (uint64_t l : mine) EXPECT_EQ(pool->Release(l, false), Status::kOK);
      });
    std::atomic<int64_t> last_max{4};
    std::mutex resize_mu;  // so last_max is the size of the last resize that took effect
    std::vector<std::thread> resizers;
    for (int r = 0; r < 2; ++r)
      resizers.emplace_back([&, r] {
        std::mt19937 rng(static_cast<unsigned>(r) + 1000);
        while (!stop) {
          int64_t mx = 1 + static_cast<int64_t>(rng() % 150);
          int64_t mn = static_cast<int64_t>(rng() % 3);
          if (mn > mx) mn = mx;
          std::string e;
          {
            std::lock_guard<std::mutex> lk(resize_mu);
            EXPECT_EQ(pool->Resize(mn, mx, &e), Status::kOK) << e;
            last_max = mx;
          }
          StatsSnapshot s = pool->Snapshot();
          EXPECT_EQ(s.total, s.idle + s.in_use + s.creating);
          if (r == 0) pool->RunMaintenance();
          std::this_thread::yield();
        }
      });
    for (auto& t : ts) t.join();
    stop = true;
    for (auto& t : resizers) t.join();
    EXPECT_GT(ok.load(), 0);
    // Creates for waiters that timed out may still be landing; wait for them to settle.
    ASSERT_TRUE(Eventually([&] { return pool->Snapshot().creating == 0; }));
    pool->RunMaintenance();
    StatsSnapshot s = pool->Snapshot();
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.max_size, last_max.load());
    EXPECT_LE(s.total, static_cast<uint64_t>(s.max_size)) << "with_reset=" << with_reset;
    EXPECT_EQ(s.created, s.destroyed + s.idle + s.in_use + s.creating) << "with_reset=" << with_reset;
    EXPECT_EQ(static_cast<uint64_t>(state->created.load() - state->destroyed.load()), s.total);
    pool->Close();
    EXPECT_EQ(state->created.load(), state->destroyed.load());
  }
}

}  // namespace
}  // namespace connpool::testing
