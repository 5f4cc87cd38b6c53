// SPDX-License-Identifier: Apache-2.0
// The binding facade's LeaseByHandle (bindings/connpool_facade.hpp): the lease each connection
// handle holds on the bindings' one-number acquire path. Run in the unit suite so the
// sanitizer builds (which build no binding) check its concurrency too.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "connpool_facade.hpp"

namespace {

using connpool_binding::LeaseByHandle;

TEST(LeaseByHandle, SetTakeOnceAndStaleTakeIsZero) {
  LeaseByHandle t;
  EXPECT_FALSE(LeaseByHandle::Fits(0)) << "handle 0 is a NULL connection";
  EXPECT_FALSE(LeaseByHandle::Fits(-1));
  EXPECT_FALSE(LeaseByHandle::Fits(LeaseByHandle::kChunk * LeaseByHandle::kChunks));
  EXPECT_TRUE(LeaseByHandle::Fits(LeaseByHandle::kChunk * LeaseByHandle::kChunks - 1));
  EXPECT_EQ(t.Take(5), 0u) << "no chunk yet: nothing to take";
  ASSERT_TRUE(t.Set(5, 42));
  EXPECT_EQ(t.Peek(5), 42u);
  EXPECT_FALSE(t.Set(5, 43)) << "a handle holds one lease: the second share spills";
  EXPECT_EQ(t.Take(5), 42u);
  EXPECT_EQ(t.Take(5), 0u) << "a second release finds nothing";
  EXPECT_EQ(t.Peek(5), 0u);
  ASSERT_TRUE(t.Set(5, 44)) << "free again";
  EXPECT_EQ(t.Take(5), 44u);
  ASSERT_TRUE(t.Set(3000, 7)) << "a handle in a later chunk";
  EXPECT_EQ(t.Take(3000), 7u);
}

// Threads with handles of their own in chunks nobody made yet: every chunk is made once,
// every lease set is taken back exactly once.
TEST(LeaseByHandle, ConcurrentFirstTouchAndCycles) {
  LeaseByHandle t;
  constexpr int kThreads = 8, kRounds = 20000;
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        const int64_t h = 1 + i + kThreads * (r % 700);  // spans several chunks
        const uint64_t lease = (static_cast<uint64_t>(i) << 32) | static_cast<uint64_t>(r + 1);
        if (!t.Set(h, lease) || t.Take(h) != lease) lost.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(lost.load(), 0);
}

// Two threads sharing one handle (a shared connection): at most one holds it at a time, and
// a lease set is taken by exactly one Take.
TEST(LeaseByHandle, RacingSetsOnOneHandleNeverLoseALease) {
  LeaseByHandle t;
  std::atomic<int64_t> set{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < 20000; ++r) {
        if (t.Set(9, static_cast<uint64_t>(i * 100000 + r + 1))) set.fetch_add(1);
        if (t.Take(9) != 0) taken.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  if (t.Take(9) != 0) taken.fetch_add(1);
  EXPECT_EQ(set.load(), taken.load());
  EXPECT_GT(set.load(), 0);
}

// The plain-store set (a pool whose connections carry one lease at a time): handles go from
// thread to thread through a stand-in for the pool's hand-off (a mutex-guarded free list),
// each holder sets its lease with SetExclusive and takes it back with Take before handing the
// handle on; no lease is lost or seen by a later holder, and a non-empty entry still refuses
// a new lease.
TEST(LeaseByHandle, ExclusiveSetAndTakeThroughAHandOff) {
  LeaseByHandle t;
  ASSERT_TRUE(t.SetExclusive(11, 5));
  EXPECT_FALSE(t.SetExclusive(11, 6)) << "an entry that holds a lease refuses another";
  EXPECT_EQ(t.Take(11), 5u);
  EXPECT_EQ(t.Take(11), 0u);
  EXPECT_EQ(t.Take(4000), 0u) << "no chunk yet: nothing to take";

  std::mutex mu;
  std::vector<int64_t> idle = {1, 2, 3, 1500};  // one handle in a second chunk
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < 20000; ++r) {
        int64_t h;
        {
          std::lock_guard<std::mutex> lk(mu);
          if (idle.empty()) continue;
          h = idle.back();
          idle.pop_back();
        }
        const uint64_t lease = (static_cast<uint64_t>(i + 1) << 32) | static_cast<uint64_t>(r + 1);
        if (!t.SetExclusive(h, lease) || t.Peek(h) != lease || t.Take(h) != lease) lost.fetch_add(1);
        std::lock_guard<std::mutex> lk(mu);
        idle.push_back(h);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(lost.load(), 0);
  for (int64_t h : idle) EXPECT_EQ(t.Peek(h), 0u);
}

}  // namespace
