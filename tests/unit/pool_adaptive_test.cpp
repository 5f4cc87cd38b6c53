// SPDX-License-Identifier: Apache-2.0
// Adaptive sizing wired into a pool on a fake clock: acquires that wait probe a raise of the
// adaptive limit (and the connectors fill it), a backend past its knee keeps the pool at the
// knee, calm passes lower it, and stats and the log show each decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "stats/stats_json.h"
#include "unit/pool_fixture.h"
#include "util/log.h"

namespace connpool::testing {
namespace {

using AdaptiveTest = PoolTest;

std::mutex g_mu;
std::condition_variable g_logged;
std::vector<std::string> g_logs;
void Collect(void*, int, const char* msg) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_logs.push_back(msg);
  }
  g_logged.notify_all();
}
int CountLogsLocked(const std::string& needle) {
  int n = 0;
  for (const std::string& m : g_logs) n += m.find(needle) != std::string::npos;
  return n;
}
int CountLogs(const std::string& needle) {
  std::lock_guard<std::mutex> lk(g_mu);
  return CountLogsLocked(needle);
}
// A line made under the pool lock reaches the sink on whichever thread takes its batch: the
// maintenance pass that made it, or a connector that unlocked in between (the lowered limit
// retires an idle connection, which unlocks). Wait for it rather than assume it is already
// there.
bool WaitLogs(const std::string& needle, int n) {
  std::unique_lock<std::mutex> lk(g_mu);
  return g_logged.wait_for(lk, std::chrono::seconds(10), [&] { return CountLogsLocked(needle) >= n; });
}

Config AdaptiveConfig() {
  Config c = SmallConfig(10);
  c.name = "adaptive";
  c.adaptive_sizing = true;
  c.adaptive_target_wait_ms = 10;
  c.max_lifetime_ms = 0;
  c.idle_timeout_ms = 0;
  return c;
}

TEST_F(AdaptiveTest, WaitsProbeARaiseCalmLowersItAndStatsShowWhy) {
  SetLogCallback(Collect, nullptr);
  Make(AdaptiveConfig());
  ASSERT_TRUE(WaitTotal(1));
  uint64_t held = MustAcquire();
  // The adaptive limit starts at one connection (min_idle 0): a second caller waits.
  uint64_t second = 0;
  std::thread t([&] {
    void* c = nullptr;
    EXPECT_EQ(pool_->Acquire(0, 60000, &second, &c), Status::kOK);
  });
  ASSERT_TRUE(WaitWaiters(1));
  EXPECT_EQ(pool_->Snapshot().total, 1u) << "the limit holds the second caller back";
  // Two hot passes: a probe one step up, which lets a connector create for the waiter.
  for (int pass = 0; pass < AdaptiveSizer::kRaiseAfter; ++pass) {
    clock_.AdvanceMs(1000);
    pool_->RunMaintenance();
  }
  t.join();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_TRUE(s.adaptive_enabled);
  EXPECT_EQ(s.adaptive_target_wait_ms, 10);
  EXPECT_EQ(s.adaptive_floor, 2);
  EXPECT_EQ(s.total, 2u);
  ASSERT_TRUE(s.adaptive_last_change.valid);
  EXPECT_EQ(s.adaptive_last_change.action, "raise");
  EXPECT_EQ(s.adaptive_last_change.from, 0);
  EXPECT_EQ(s.adaptive_last_change.to, 2);
  EXPECT_NE(s.adaptive_last_change.reason.find("target 10 ms"), std::string::npos) << s.adaptive_last_change.reason;

  ASSERT_EQ(pool_->Release(held, false), Status::kOK);
  ASSERT_EQ(pool_->Release(second, false), Status::kOK);
  int passes = 0;
  while (pool_->Snapshot().adaptive_floor == 2 && passes < 3 * AdaptiveSizer::kLowerAfter) {
    clock_.AdvanceMs(1000);
    pool_->RunMaintenance();
    ++passes;
  }
  EXPECT_GE(passes, AdaptiveSizer::kLowerAfter) << "calm lowers only after a full streak";
  s = pool_->Snapshot();
  EXPECT_EQ(s.adaptive_floor, 1);
  EXPECT_EQ(s.adaptive_last_change.action, "lower");
  EXPECT_EQ(s.adaptive_last_decision.action, "lower");
  char* json = StatsToJson(s);
  ASSERT_NE(json, nullptr);
  std::string text(json);
  free(json);
  EXPECT_NE(text.find(R"("adaptive":{"enabled":true,"target_wait_ms":10,"floor":1,"last_decision":{"action":"lower","from":2,"to":1,)"),
            std::string::npos)
      << text;
  EXPECT_TRUE(WaitLogs("adaptive sizing", 2));
  SetLogCallback(nullptr, nullptr);
  EXPECT_EQ(CountLogs("pool 'adaptive': adaptive sizing raises the warm floor 0 -> 2"), 1);
  EXPECT_EQ(CountLogs("pool 'adaptive': adaptive sizing lowers the warm floor 2 -> 1"), 1);
  EXPECT_EQ(CountLogs("adaptive sizing"), 2) << "logged once per change, not per pass";
}

// Issue 19 (and HikariCP #320): a backend whose per-lease latency is constant up to 4
// concurrent leases and proportional to concurrency beyond, so its throughput is flat past 4.
// Twelve callers keep it saturated, so callers always wait; the pool must settle at the knee,
// not grow to max_size. Everything runs on the fake clock: each millisecond the callers
// without a lease try to acquire (timeout 0: a caller that cannot be served counts as a
// timeout and tries again later), every lease out progresses by min(1, knee / concurrency)
// ms of its 10 ms of work, and finished ones are released. RunMaintenance once a second.
TEST_F(AdaptiveTest, ABackendPastItsKneeLeavesThePoolAtTheKneeNotAtMaxSize) {
  Config c = AdaptiveConfig();
  c.max_size = 16;
  Make(c, /*with_validate=*/false, /*with_reset=*/false);
  ASSERT_TRUE(WaitTotal(1));
  constexpr int kClients = 12, kKnee = 4, kPasses = 40;
  constexpr double kWorkMs = 10;
  struct Client {
    uint64_t lease = 0;
    double left_ms = 0;
  };
  std::vector<Client> clients(kClients);
  std::deque<int> queue;  // callers without a lease, in the order they gave theirs back
  for (int i = 0; i < kClients; ++i) queue.push_back(i);
  uint64_t top = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    for (int ms = 0; ms < 1000; ++ms) {
      while (!queue.empty()) {
        uint64_t l = 0;
        void* conn = nullptr;
        if (pool_->Acquire(0, 0, &l, &conn) != Status::kOK) break;
        clients[queue.front()] = Client{l, kWorkMs};
        queue.pop_front();
      }
      int busy = 0;
      for (const Client& cl : clients) busy += cl.lease != 0;
      const double progress = busy <= kKnee ? 1.0 : static_cast<double>(kKnee) / busy;
      clock_.AdvanceMs(1);
      for (int i = 0; i < kClients; ++i) {
        Client& cl = clients[i];
        if (cl.lease == 0 || (cl.left_ms -= progress) > 1e-9) continue;
        ASSERT_EQ(pool_->Release(cl.lease, false), Status::kOK);
        cl.lease = 0;
        queue.push_back(i);
      }
    }
    pool_->RunMaintenance();
    // A raised limit is filled by the connectors on their threads: done before time moves on.
    StatsSnapshot s;
    ASSERT_TRUE(Eventually([&] {
      s = pool_->Snapshot();
      return s.creating == 0 && s.total >= static_cast<uint64_t>(std::max<int64_t>(1, s.adaptive_floor));
    }));
    top = std::max(top, s.total);
  }
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_NEAR(static_cast<double>(s.adaptive_floor), kKnee, 1.0) << s.adaptive_last_change.reason;
  EXPECT_NEAR(static_cast<double>(s.total), kKnee, 1.0);
  EXPECT_LE(top, static_cast<uint64_t>(kKnee + 1)) << "one probe above the knee at most, never max_size";
  EXPECT_NE(s.adaptive_last_decision.reason.find("at the knee 4"), std::string::npos) << s.adaptive_last_decision.reason;
  EXPECT_GT(s.timeouts, 0u) << "the callers did wait all along";
  for (Client& cl : clients) {
    if (cl.lease != 0) {
      ASSERT_EQ(pool_->Release(cl.lease, false), Status::kOK);
    }
  }
}

TEST_F(AdaptiveTest, OffByDefaultTheFloorIsMinIdle) {
  Config c = SmallConfig(5);
  c.min_idle = 2;
  Make(c);
  ASSERT_TRUE(WaitTotal(2));
  clock_.AdvanceMs(1000);
  pool_->RunMaintenance();
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_FALSE(s.adaptive_enabled);
  EXPECT_EQ(s.adaptive_floor, 2);
  EXPECT_FALSE(s.adaptive_last_decision.valid);
  std::string err;
  ASSERT_EQ(pool_->Resize(1, 5, &err), Status::kOK);
  EXPECT_EQ(pool_->Snapshot().adaptive_floor, 1);
}

TEST_F(AdaptiveTest, ResizeClampsTheAdaptiveFloor) {
  Config c = AdaptiveConfig();
  c.min_idle = 4;
  Make(c);
  ASSERT_TRUE(WaitTotal(4));
  std::string err;
  ASSERT_EQ(pool_->Resize(0, 2, &err), Status::kOK) << err;
  EXPECT_EQ(pool_->Snapshot().adaptive_floor, 2);
  EXPECT_EQ(pool_->Snapshot().total, 2u);
}

}  // namespace
}  // namespace connpool::testing
