// SPDX-License-Identifier: Apache-2.0
// EntryGate (core/util/entry_gate.h): calls enter until Close(); WaitEmpty() returns only once
// every caller that entered has left, and none enters afterwards, under contention too.
#include "util/entry_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using connpool_util::EntryGate;

TEST(EntryGate, EntersUntilClosedThenRefuses) {
  EntryGate g;
  {
    EntryGate::Scope s(g);
    EXPECT_TRUE(s.entered());
    EXPECT_EQ(g.Inside(), 1);
  }
  EXPECT_EQ(g.Inside(), 0);
  EXPECT_TRUE(g.Close());
  EXPECT_FALSE(g.Close()) << "only the first Close() is the closer";
  EXPECT_TRUE(g.closed());
  EntryGate::Scope late(g);
  EXPECT_FALSE(late.entered());
  EXPECT_EQ(g.Inside(), 0) << "a refused entry leaves nothing behind";
  g.WaitEmpty();
}

TEST(EntryGate, WaitEmptyWaitsForTheCallerInside) {
  EntryGate g;
  std::atomic<bool> entered{false}, release{false}, left{false};
  std::thread caller([&] {
    EntryGate::Scope s(g);
    ASSERT_TRUE(s.entered());
    entered = true;
    while (!release) std::this_thread::yield();
    left = true;
  });
  while (!entered) std::this_thread::yield();
  ASSERT_TRUE(g.Close());
  std::atomic<bool> waited{false};
  std::thread closer([&] {
    g.WaitEmpty();
    EXPECT_TRUE(left.load()) << "WaitEmpty returned while a caller was inside";
    waited = true;
  });
  EXPECT_EQ(g.Inside(), 1);
  EXPECT_FALSE(waited.load());
  release = true;
  caller.join();
  closer.join();
  EXPECT_TRUE(waited.load());
}

// Eight threads enter and leave in a loop while the gate closes: after WaitEmpty() nobody is
// inside, and nobody gets in later.
TEST(EntryGate, NoCallerIsInsideAfterWaitEmptyUnderContention) {
  for (int round = 0; round < 50; ++round) {
    EntryGate g;
    std::atomic<int> inside{0};
    std::atomic<bool> closed_seen{false}, after_close_entry{false};
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        ++started;
        for (;;) {
          EntryGate::Scope s(g);
          if (!s.entered()) return;
          inside.fetch_add(1);
          if (closed_seen.load()) after_close_entry = true;
          inside.fetch_sub(1);
        }
      });
    }
    while (started < 8) std::this_thread::yield();
    ASSERT_TRUE(g.Close());
    g.WaitEmpty();
    closed_seen = true;
    EXPECT_EQ(inside.load(), 0) << "round " << round;
    for (auto& th : threads) th.join();
    EXPECT_FALSE(after_close_entry.load()) << "a caller entered after WaitEmpty()";
    EXPECT_EQ(g.Inside(), 0);
  }
}

}  // namespace
