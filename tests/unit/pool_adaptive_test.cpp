// SPDX-License-Identifier: Apache-2.0
// Adaptive sizing wired into a pool on a fake clock: acquires that wait raise the warm floor
// (and the connectors fill it), calm passes lower it, and stats and the log show each decision.
#include <gtest/gtest.h>

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
std::vector<std::string> g_logs;
void Collect(void*, int, const char* msg) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_logs.push_back(msg);
}
int CountLogs(const std::string& needle) {
  std::lock_guard<std::mutex> lk(g_mu);
  int n = 0;
  for (const std::string& m : g_logs) n += m.find(needle) != std::string::npos;
  return n;
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

TEST_F(AdaptiveTest, WaitsRaiseTheFloorCalmLowersItAndStatsShowWhy) {
  SetLogCallback(Collect, nullptr);
  Make(AdaptiveConfig());
  ASSERT_TRUE(WaitTotal(1));
  std::vector<uint64_t> held{MustAcquire()};
  // Two maintenance intervals in which an acquire waits 50 ms for a slow create.
  for (int pass = 0; pass < 2; ++pass) {
    state_->create_gate.Close();
    std::thread t([&] {
      uint64_t l = 0;
      void* c = nullptr;
      EXPECT_EQ(pool_->Acquire(0, 60000, &l, &c), Status::kOK);
      std::lock_guard<std::mutex> lk(g_mu);
      held.push_back(l);
    });
    ASSERT_TRUE(state_->create_gate.WaitParked(1));
    clock_.AdvanceMs(50);
    state_->create_gate.Open();
    t.join();
    clock_.AdvanceMs(1000);
    pool_->RunMaintenance();
  }
  StatsSnapshot s = pool_->Snapshot();
  EXPECT_TRUE(s.adaptive_enabled);
  EXPECT_EQ(s.adaptive_target_wait_ms, 10);
  EXPECT_EQ(s.adaptive_floor, 3) << "in use (3) is the floor's lower bound when raising";
  ASSERT_TRUE(s.adaptive_last_change.valid);
  EXPECT_EQ(s.adaptive_last_change.action, "raise");
  EXPECT_EQ(s.adaptive_last_change.from, 0);
  EXPECT_EQ(s.adaptive_last_change.to, 3);
  EXPECT_NE(s.adaptive_last_change.reason.find("target 10 ms"), std::string::npos) << s.adaptive_last_change.reason;
  ASSERT_TRUE(WaitTotal(6)) << "3 in use + a warm floor of 3 idle";

  for (uint64_t l : held) ASSERT_EQ(pool_->Release(l, false), Status::kOK);
  for (int i = 0; i < AdaptiveSizer::kLowerAfter; ++i) {
    clock_.AdvanceMs(1000);
    pool_->RunMaintenance();
  }
  s = pool_->Snapshot();
  EXPECT_EQ(s.adaptive_floor, 2);
  EXPECT_EQ(s.adaptive_last_change.action, "lower");
  EXPECT_EQ(s.adaptive_last_decision.action, "lower");
  char* json = StatsToJson(s);
  ASSERT_NE(json, nullptr);
  std::string text(json);
  free(json);
  EXPECT_NE(text.find(R"("adaptive":{"enabled":true,"target_wait_ms":10,"floor":2,"last_decision":{"action":"lower","from":3,"to":2,)"),
            std::string::npos)
      << text;
  SetLogCallback(nullptr, nullptr);
  EXPECT_EQ(CountLogs("pool 'adaptive': adaptive sizing raises the warm floor 0 -> 3"), 1);
  EXPECT_EQ(CountLogs("pool 'adaptive': adaptive sizing lowers the warm floor 3 -> 2"), 1);
  EXPECT_EQ(CountLogs("adaptive sizing"), 2) << "logged once per change, not per pass";
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
