// SPDX-License-Identifier: Apache-2.0
// OrderedLogQueue (core/util/ordered_log_queue.h): lines made under the owner's lock reach the
// sink after unlocking, batch by batch in ticket order, whichever thread delivers first.
#include "util/ordered_log_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using connpool::OrderedLogQueue;

struct Recorder {
  std::mutex mu;
  std::vector<std::string> lines;  // guarded by mu
  static void Sink(void* ctx, int level, const std::string& msg) {
    auto* r = static_cast<Recorder*>(ctx);
    std::lock_guard<std::mutex> lk(r->mu);
    r->lines.push_back(std::to_string(level) + ":" + msg);
  }
};

TEST(OrderedLogQueue, NothingPendingIsTicketZeroAndDeliversNothing) {
  Recorder rec;
  OrderedLogQueue q(&Recorder::Sink, &rec);
  std::mutex owner;
  std::unique_lock<std::mutex> lk(owner);
  EXPECT_TRUE(q.EmptyLocked());
  OrderedLogQueue::Batch b = q.TakeLocked();
  EXPECT_EQ(b.ticket, 0u);
  EXPECT_EQ(q.IssuedLocked(), 0u) << "an empty take issues no ticket";
  lk.unlock();
  q.Deliver(std::move(b));
  q.AwaitDelivered(0);
  EXPECT_TRUE(rec.lines.empty());
}

TEST(OrderedLogQueue, ABatchHoldsEverythingAddedAndIsDeliveredInOrder) {
  Recorder rec;
  OrderedLogQueue q(&Recorder::Sink, &rec);
  std::mutex owner;
  std::unique_lock<std::mutex> lk(owner);
  q.AddLocked(2, "starting -> ready");
  q.AddLocked(1, "ready -> degraded");
  EXPECT_FALSE(q.EmptyLocked());
  OrderedLogQueue::Batch b = q.TakeLocked();
  EXPECT_EQ(b.ticket, 1u);
  EXPECT_TRUE(q.EmptyLocked());
  EXPECT_EQ(q.IssuedLocked(), 1u);
  lk.unlock();
  EXPECT_TRUE(rec.lines.empty()) << "nothing reaches the sink before Deliver";
  q.Deliver(std::move(b));
  q.AwaitDelivered(1);
  EXPECT_EQ(rec.lines, (std::vector<std::string>{"2:starting -> ready", "1:ready -> degraded"}));
}

TEST(OrderedLogQueue, FlushLockedDeliversWithTheOwnerLockReleased) {
  struct Probe {
    std::mutex* owner;
    bool owner_was_free = false;
    static void Sink(void* ctx, int, const std::string&) {
      auto* p = static_cast<Probe*>(ctx);
      // The owner's mutex is free while the sink runs: try_lock from another thread succeeds.
      std::thread t([p] {
        if (p->owner->try_lock()) {
          p->owner_was_free = true;
          p->owner->unlock();
        }
      });
      t.join();
    }
  };
  std::mutex owner;
  Probe probe{&owner};
  OrderedLogQueue q(&Probe::Sink, &probe);
  std::unique_lock<std::mutex> lk(owner);
  q.FlushLocked(lk);  // nothing pending: stays locked, calls nothing
  EXPECT_TRUE(lk.owns_lock());
  q.AddLocked(0, "x");
  q.FlushLocked(lk);
  EXPECT_TRUE(lk.owns_lock()) << "FlushLocked locks again before returning";
  EXPECT_TRUE(probe.owner_was_free);
}

// A later ticket delivered first waits for the earlier one: the sink sees ticket order.
TEST(OrderedLogQueue, ALaterBatchWaitsForTheEarlierOne) {
  Recorder rec;
  OrderedLogQueue q(&Recorder::Sink, &rec);
  std::mutex owner;
  OrderedLogQueue::Batch first, second;
  {
    std::lock_guard<std::mutex> lk(owner);
    q.AddLocked(2, "first");
    first = q.TakeLocked();
    q.AddLocked(2, "second");
    second = q.TakeLocked();
  }
  ASSERT_EQ(first.ticket, 1u);
  ASSERT_EQ(second.ticket, 2u);
  std::atomic<bool> second_done{false};
  std::thread late([&] {
    q.Deliver(std::move(second));
    second_done = true;
  });
  // `late` cannot finish: ticket 1 is not delivered. Its Deliver blocks on the order lock's
  // condition; delivering ticket 1 here releases it, and the sink must see "first" first.
  EXPECT_FALSE(second_done.load());
  q.Deliver(std::move(first));
  late.join();
  q.AwaitDelivered(2);
  EXPECT_EQ(rec.lines, (std::vector<std::string>{"2:first", "2:second"}));
}

// Many threads make lines under the owner's lock and deliver after unlocking, racing: the sink
// still receives the lines in the order they were made.
TEST(OrderedLogQueue, ConcurrentDeliveriesKeepTheOrderLinesWereMadeIn) {
  Recorder rec;
  OrderedLogQueue q(&Recorder::Sink, &rec);
  std::mutex owner;
  int next = 0;  // guarded by owner
  constexpr int kThreads = 6, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        OrderedLogQueue::Batch b;
        {
          std::lock_guard<std::mutex> lk(owner);
          q.AddLocked(3, std::to_string(next++));
          b = q.TakeLocked();
        }
        q.Deliver(std::move(b));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  uint64_t issued;
  {
    std::lock_guard<std::mutex> lk(owner);
    issued = q.IssuedLocked();
  }
  EXPECT_EQ(issued, static_cast<uint64_t>(kThreads * kEach));
  q.AwaitDelivered(issued);
  ASSERT_EQ(rec.lines.size(), static_cast<size_t>(kThreads * kEach));
  for (int i = 0; i < kThreads * kEach; ++i) EXPECT_EQ(rec.lines[i], "3:" + std::to_string(i));
}

}  // namespace
