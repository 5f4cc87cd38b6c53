// SPDX-License-Identifier: Apache-2.0
// The log callback: exactly one message per health transition (at a level matching its
// severity), and never a secret, although the factory's error text carries a password.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "stats_test_util.h"

namespace {

using stats_test::Backend;
using stats_test::Eventually;
using stats_test::LogCapture;
using stats_test::MakePool;
using stats_test::Take;

TEST(LogCallback, OneMessagePerTransitionAndNoSecrets) {
  LogCapture log;
  Backend b;
  b.up = false;
  connpool_pool_t* pool = MakePool(&b, {{"name", "logpool"}, {"max_size", "2"}, {"min_idle", "1"},
                                        {"retry_initial_ms", "10"}, {"retry_max_ms", "40"},
                                        {"unavailable_after_ms", "200"}, {"maintenance_interval_ms", "10"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Eventually([&] { return b.create_failures.load() >= 3; }));  // starting, retrying
  b.up = true;
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_READY; }));
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  b.up = false;
  ASSERT_EQ(connpool_release_broken(pool, l), CONNPOOL_OK);  // its replacement fails: degraded
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_UNAVAILABLE; }));
  b.up = true;
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_READY; }));
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_drain(pool, 0), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(connpool_pool_drain(pool, 0), CONNPOOL_ETIMEOUT);  // draining again: no new transition
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_CLOSED; }));
  std::string stats = Take(connpool_pool_stats_json(pool));
  std::string metrics = Take(connpool_pool_metrics_text(pool));
  connpool_pool_free(pool);

  struct Expected {
    const char* transition;
    int level;
  };
  const std::vector<Expected> expected = {
      {"starting -> ready", CONNPOOL_LOG_INFO},      {"ready -> degraded", CONNPOOL_LOG_WARN},
      {"degraded -> unavailable", CONNPOOL_LOG_ERROR}, {"unavailable -> ready", CONNPOOL_LOG_INFO},
      {"ready -> draining", CONNPOOL_LOG_INFO},      {"draining -> closed", CONNPOOL_LOG_INFO},
  };
  // Every message at INFO or more severe about this pool is a transition, in order, once each.
  // (DEBUG chatter is allowed.)
  const std::regex transition("pool 'logpool': (\\w+) -> (\\w+)");
  std::vector<LogCapture::Entry> seen;
  for (const auto& e : log.Entries()) {
    EXPECT_EQ(e.msg.find("hunter2"), std::string::npos) << "secret in log: " << e.msg;
    if (e.msg.find("logpool") == std::string::npos || e.level > CONNPOOL_LOG_INFO) continue;
    seen.push_back(e);
  }
  ASSERT_EQ(seen.size(), expected.size()) << [&] {
    std::string all;
    for (const auto& e : seen) all += "  [" + std::to_string(e.level) + "] " + e.msg + "\n";
    return "messages:\n" + all;
  }();
  for (size_t i = 0; i < expected.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(seen[i].msg, m, transition)) << seen[i].msg;
    EXPECT_EQ(m[1].str() + " -> " + m[2].str(), expected[i].transition) << seen[i].msg;
    EXPECT_EQ(seen[i].level, expected[i].level) << seen[i].msg;
  }
  // Bad news says why, without the secret.
  EXPECT_NE(seen[1].msg.find("connect to db:5432 failed"), std::string::npos) << seen[1].msg;
  EXPECT_EQ(stats.find("hunter2"), std::string::npos);
  EXPECT_EQ(metrics.find("hunter2"), std::string::npos);
}

TEST(LogCallback, SilentWithoutACallbackAndReplaceableAtAnyTime) {
  Backend b;
  connpool_set_log_callback(nullptr, nullptr);
  connpool_pool_t* pool = MakePool(&b, {{"name", "quiet"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  {
    LogCapture log;  // installed after the transition to ready: it must not see it
    EXPECT_EQ(connpool_pool_drain(pool, 1000), CONNPOOL_OK);
    EXPECT_EQ(log.Count({"quiet", "ready -> draining"}), 1u);
    EXPECT_EQ(log.Count({"quiet", "starting -> ready"}), 0u);
  }
  connpool_pool_free(pool);
}

}  // namespace
