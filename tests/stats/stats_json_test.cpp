// SPDX-License-Identifier: Apache-2.0
// connpool_pool_stats_json through the C API: every field of DESIGN.md §5 with its type,
// gauges consistent and counters monotonic while other threads hammer the pool, stats read
// from inside every factory callback, hostile names, redacted errors, retry fields, leaks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "stats_test_util.h"

namespace {

using stats_test::At;
using stats_test::Backend;
using stats_test::Eventually;
using stats_test::Int;
using stats_test::Json;
using stats_test::LogCapture;
using stats_test::MakePool;
using stats_test::Parse;
using stats_test::Stats;
using stats_test::Str;
using stats_test::Take;

enum class T { kString, kUInt, kObject, kArray, kNull, kUIntOrNull, kObjectOrNull };

bool HasType(const cJSON* j, T t) {
  auto uint = [](const cJSON* x) {
    return cJSON_IsNumber(x) && x->valuedouble >= 0 &&
           x->valuedouble == static_cast<double>(static_cast<long long>(x->valuedouble));
  };
  switch (t) {
    case T::kString: return cJSON_IsString(j);
    case T::kUInt: return uint(j);
    case T::kObject: return cJSON_IsObject(j);
    case T::kArray: return cJSON_IsArray(j);
    case T::kNull: return cJSON_IsNull(j);
    case T::kUIntOrNull: return cJSON_IsNull(j) || uint(j);
    case T::kObjectOrNull: return cJSON_IsNull(j) || cJSON_IsObject(j);
  }
  return false;
}

// DESIGN.md §5, field by field: exact names, JSON types.
const std::vector<std::pair<std::string, T>>& DesignFields() {
  static const std::vector<std::pair<std::string, T>> fields = {
      {"name", T::kString}, {"version", T::kString}, {"state", T::kString},
      {"http_status", T::kUInt}, {"uptime_ms", T::kUInt}, {"state_since_ms", T::kUInt},
      {"connections", T::kObject}, {"connections.total", T::kUInt}, {"connections.idle", T::kUInt},
      {"connections.in_use", T::kUInt}, {"connections.creating", T::kUInt},
      {"connections.max_size", T::kUInt}, {"connections.min_idle", T::kUInt},
      {"waiters", T::kUInt}, {"counters", T::kObject},
      {"counters.acquired", T::kUInt}, {"counters.timeouts", T::kUInt},
      {"counters.unavailable", T::kUInt}, {"counters.overload", T::kUInt},
      {"counters.created", T::kUInt}, {"counters.create_failures", T::kUInt},
      {"counters.destroyed", T::kUInt}, {"counters.validation_failures", T::kUInt},
      {"counters.closed_idle", T::kUInt}, {"counters.closed_lifetime", T::kUInt},
      {"counters.closed_broken", T::kUInt}, {"counters.closed_max_uses", T::kUInt},
      {"counters.stale_releases", T::kUInt},
      {"acquire_wait_us", T::kObject}, {"acquire_wait_us.count", T::kUInt},
      {"acquire_wait_us.p50", T::kUInt}, {"acquire_wait_us.p90", T::kUInt},
      {"acquire_wait_us.p99", T::kUInt}, {"acquire_wait_us.p999", T::kUInt},
      {"acquire_wait_us.max", T::kUInt},
      {"retry", T::kObject}, {"retry.consecutive_failures", T::kUInt},
      {"retry.next_attempt_in_ms", T::kUIntOrNull}, {"retry.outage_ms", T::kUInt},
      {"last_error", T::kObjectOrNull}, {"leaks", T::kArray},
  };
  return fields;
}

void ExpectDesignFields(const cJSON* root) {
  ASSERT_NE(root, nullptr);
  for (const auto& f : DesignFields()) {
    const cJSON* j = At(root, f.first);
    ASSERT_NE(j, nullptr) << "missing " << f.first;
    EXPECT_TRUE(HasType(j, f.second)) << f.first << " has the wrong type";
  }
  const cJSON* e = At(root, "last_error");
  if (cJSON_IsObject(e)) {
    EXPECT_TRUE(HasType(At(e, "message"), T::kString));
    EXPECT_TRUE(HasType(At(e, "code"), T::kUInt));
    EXPECT_TRUE(HasType(At(e, "age_ms"), T::kUInt));
  }
  const cJSON* leak = nullptr;
  cJSON_ArrayForEach(leak, At(root, "leaks")) {
    EXPECT_TRUE(HasType(At(leak, "lease"), T::kUInt));
    EXPECT_TRUE(HasType(At(leak, "held_ms"), T::kUInt));
    EXPECT_TRUE(HasType(At(leak, "thread"), T::kString));
    EXPECT_TRUE(cJSON_IsNumber(At(leak, "priority")));
  }
  // The gauges of one snapshot agree with each other.
  EXPECT_EQ(Int(root, "connections.total"),
            Int(root, "connections.idle") + Int(root, "connections.in_use") + Int(root, "connections.creating"));
  EXPECT_LE(Int(root, "connections.total"), Int(root, "connections.max_size"));
  EXPECT_EQ(Str(root, "version"), connpool_version_string());
  int state = -1;
  for (int s = CONNPOOL_STATE_STARTING; s <= CONNPOOL_STATE_CLOSED; ++s)
    if (Str(root, "state") == connpool_state_name(s)) state = s;
  ASSERT_NE(state, -1) << Str(root, "state");
  EXPECT_EQ(Int(root, "http_status"), (state == CONNPOOL_STATE_READY || state == CONNPOOL_STATE_DEGRADED) ? 200 : 503);
}

TEST(StatsJson, NullPoolGivesNull) { EXPECT_EQ(connpool_pool_stats_json(nullptr), nullptr); }

TEST(StatsJson, FreshPoolHasEveryDesignField) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "orders"}, {"max_size", "10"}, {"min_idle", "2"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] { return Int(Stats(pool).get(), "connections.idle") == 2; }));
  Json j = Stats(pool);
  ExpectDesignFields(j.get());
  EXPECT_EQ(Str(j.get(), "name"), "orders");
  EXPECT_EQ(Str(j.get(), "state"), "ready");
  EXPECT_EQ(Int(j.get(), "connections.max_size"), 10);
  EXPECT_EQ(Int(j.get(), "connections.min_idle"), 2);
  EXPECT_EQ(Int(j.get(), "connections.total"), 2);
  EXPECT_EQ(Int(j.get(), "counters.created"), 2);
  EXPECT_TRUE(cJSON_IsNull(At(j.get(), "last_error")));
  EXPECT_TRUE(cJSON_IsNull(At(j.get(), "retry.next_attempt_in_ms")));
  EXPECT_EQ(Int(j.get(), "retry.outage_ms"), 0);
  EXPECT_EQ(cJSON_GetArraySize(At(j.get(), "leaks")), 0);
  // Additions beyond §5 that a HikariCP / bb8 / database/sql user looks for.
  for (const char* extra : {"counters.closed_rejected", "counters.reset_failures", "acquire_wait_us.sum",
                            "lease_hold_us.count", "lease_hold_us.p99", "create_us.count", "create_us.max",
                            "leak_threshold_ms"})
    EXPECT_GE(Int(j.get(), extra), 0) << extra;
  connpool_pool_free(pool);
}

TEST(StatsJson, CountersFollowTheOperations) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"max_size", "2"}, {"max_waiters", "1"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  connpool_lease_t a, c, x;
  ASSERT_EQ(connpool_acquire(pool, 5000, &a, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire(pool, 5000, &c, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_acquire(pool, 1, &x, nullptr), CONNPOOL_ETIMEOUT);
  // One waiter parks; a second is shed at once.
  std::thread parked([&] {
    connpool_lease_t l;
    EXPECT_EQ(connpool_acquire(pool, 10000, &l, nullptr), CONNPOOL_OK);
    EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  });
  ASSERT_TRUE(Eventually([&] { return Int(Stats(pool).get(), "waiters") == 1; }));
  EXPECT_EQ(connpool_acquire(pool, 1000, &x, nullptr), CONNPOOL_EOVERLOAD);
  EXPECT_EQ(connpool_release_broken(pool, a), CONNPOOL_OK);  // the waiter gets a new connection
  parked.join();
  EXPECT_EQ(connpool_release(pool, a), CONNPOOL_ESTALE);
  EXPECT_EQ(connpool_release(pool, 12345), CONNPOOL_ESTALE);
  EXPECT_EQ(connpool_release(pool, c), CONNPOOL_OK);

  Json j = Stats(pool);
  ExpectDesignFields(j.get());
  EXPECT_EQ(Int(j.get(), "counters.acquired"), 3);
  EXPECT_EQ(Int(j.get(), "acquire_wait_us.count"), 3) << "every acquire that returned a lease";
  EXPECT_EQ(Int(j.get(), "counters.timeouts"), 1);
  EXPECT_EQ(Int(j.get(), "counters.overload"), 1);
  EXPECT_EQ(Int(j.get(), "counters.stale_releases"), 2);
  EXPECT_EQ(Int(j.get(), "counters.closed_broken"), 1);
  EXPECT_EQ(Int(j.get(), "counters.destroyed"), 1);
  EXPECT_EQ(Int(j.get(), "counters.created"), 3);
  EXPECT_EQ(Int(j.get(), "lease_hold_us.count"), 3);
  EXPECT_GE(Int(j.get(), "create_us.count"), 3);
  EXPECT_EQ(Int(j.get(), "connections.in_use"), 0);

  EXPECT_EQ(connpool_pool_drain(pool, 1000), CONNPOOL_OK);
  EXPECT_EQ(connpool_acquire(pool, 0, &x, nullptr), CONNPOOL_ECLOSED);
  j = Stats(pool);
  ExpectDesignFields(j.get());
  EXPECT_EQ(Str(j.get(), "state"), "closed");
  EXPECT_EQ(Int(j.get(), "http_status"), 503);
  EXPECT_EQ(Int(j.get(), "counters.closed_rejected"), 1);
  EXPECT_EQ(Int(j.get(), "connections.total"), 0);
  EXPECT_EQ(Int(j.get(), "counters.destroyed"), Int(j.get(), "counters.created"));
  connpool_pool_free(pool);
}

TEST(StatsJson, GaugesConsistentAndCountersMonotonicUnderLoad) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"max_size", "4"}, {"validate_on_acquire", "never"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 6; ++t)
    workers.emplace_back([&, t] {
      int i = 0;
      while (!stop.load()) {
        connpool_lease_t l;
        if (connpool_acquire(pool, 1000, &l, nullptr) != CONNPOOL_OK) continue;
        // Some leases come back broken, so creates (and the `creating` gauge) keep happening.
        if (++i % (7 + t) == 0) connpool_release_broken(pool, l);
        else connpool_release(pool, l);
      }
    });
  const char* counters[] = {"counters.acquired", "counters.created", "counters.destroyed",
                            "counters.closed_broken", "counters.timeouts", "acquire_wait_us.count",
                            "acquire_wait_us.sum", "lease_hold_us.count", "create_us.count", "uptime_ms"};
  std::map<std::string, double> last;
  int saw_creating = 0, saw_in_use = 0;
  // At least 3000 readings, and on until the workers have made real progress (bounded in real
  // time, so a starved machine fails the test instead of hanging it).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int round = 0; round < 3000 || last["counters.acquired"] <= 1000 || saw_in_use == 0 || saw_creating == 0;
       ++round) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "workers made no progress";
    Json j = Stats(pool);
    ASSERT_TRUE(j) << "stats must always be valid JSON";
    double total = Int(j.get(), "connections.total");
    ASSERT_EQ(total, Int(j.get(), "connections.idle") + Int(j.get(), "connections.in_use") +
                         Int(j.get(), "connections.creating"))
        << "round " << round;
    ASSERT_LE(total, 4);
    saw_creating += Int(j.get(), "connections.creating") > 0;
    saw_in_use += Int(j.get(), "connections.in_use") > 0;
    for (const char* c : counters) {
      double v = Int(j.get(), c);
      ASSERT_GE(v, 0) << c;
      ASSERT_GE(v, last[c]) << c << " went backwards in round " << round;
      last[c] = v;
    }
    const cJSON* w = At(j.get(), "acquire_wait_us");
    ASSERT_LE(Int(w, "p50"), Int(w, "p90"));
    ASSERT_LE(Int(w, "p90"), Int(w, "p99"));
    ASSERT_LE(Int(w, "p99"), Int(w, "p999"));
    ASSERT_LE(Int(w, "p999"), Int(w, "max"));
  }
  stop = true;
  for (auto& w : workers) w.join();
  EXPECT_GT(saw_in_use, 0);
  EXPECT_GT(saw_creating, 0);
  EXPECT_GT(last["counters.acquired"], 1000);
  connpool_pool_free(pool);
}

TEST(StatsJson, ReadableFromInsideEveryFactoryCallback) {
  Backend b;
  std::atomic<connpool_pool_t*> self{nullptr};
  std::mutex mu;
  std::map<std::string, int> good, bad;
  b.on_callback = [&](const char* which) {
    connpool_pool_t* p = self.load();
    if (p == nullptr) return;  // a create that started before connpool_pool_new returned
    Json j = Stats(p);
    std::lock_guard<std::mutex> lk(mu);
    (j && cJSON_IsObject(j.get()) ? good : bad)[which]++;
  };
  connpool_pool_t* pool = MakePool(&b, {{"max_size", "2"}, {"min_idle", "1"}, {"validate_on_acquire", "always"},
                                        {"reset_on_release", "true"}});
  ASSERT_NE(pool, nullptr);
  self = pool;
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);  // validate
  ASSERT_EQ(connpool_release(pool, l), CONNPOOL_OK);                  // reset
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_release_broken(pool, l), CONNPOOL_OK);           // destroy
  ASSERT_EQ(connpool_acquire(pool, 0, &l, nullptr), CONNPOOL_OK);     // maybe a create on this thread
  ASSERT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lk(mu);
    return good["create"] > 0;
  }));
  connpool_pool_free(pool);  // destroys the idle connections: stats from destroy during free
  std::lock_guard<std::mutex> lk(mu);
  for (const char* which : {"create", "validate", "reset", "destroy"}) EXPECT_GT(good[which], 0) << which;
  EXPECT_TRUE(bad.empty());
  EXPECT_TRUE(b.ctx_freed.load());
}

TEST(StatsJson, HostileNamesGiveValidJson) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"say \"hi\"", "say \"hi\""},
      {"back\\slash", "back\\slash"},
      {"two\nlines\r\n", "two\nlines\r\n"},
      {"tab\t\x01\x1f\x7f", "tab\t\x01\x1f\x7f"},
      {"ünïcødé ✓ 池 🚀", "ünïcødé ✓ 池 🚀"},
      {"</script><script>", "</script><script>"},
      // Invalid UTF-8 (a stray byte, a truncated sequence, a surrogate, an overlong '/'):
      // each bad byte becomes U+FFFD so the document stays valid.
      {"a\xff", "a\xEF\xBF\xBD"},
      {"b\xe2\x82", "b\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"c\xed\xa0\x80", "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"d\xc0\xaf", "d\xEF\xBF\xBD\xEF\xBF\xBD"},
  };
  for (const auto& n : names) {
    SCOPED_TRACE(n.first);
    Backend b;
    connpool_pool_t* pool = MakePool(&b, {{"name", n.first}});
    ASSERT_NE(pool, nullptr);
    std::string text = Take(connpool_pool_stats_json(pool));
    EXPECT_TRUE(stats_test::IsValidUtf8(text)) << text;
    for (unsigned char ch : text) EXPECT_GE(ch, 0x20) << "raw control character in JSON";
    Json j = Parse(text);
    ASSERT_TRUE(j) << text;
    EXPECT_EQ(Str(j.get(), "name"), n.second);
    connpool_pool_free(pool);
  }
}

TEST(StatsJson, StartingPoolReportsRetryAndRedactedLastError) {
  Backend b;
  b.up = false;
  // probe_interval_ms 0: the plain backoff, which the default 1000 would cap at 1 s.
  connpool_pool_t* pool = MakePool(&b, {{"name", "down"}, {"retry_initial_ms", "60000"}, {"retry_max_ms", "60000"},
                                        {"probe_interval_ms", "0"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Eventually([&] { return Int(Stats(pool).get(), "retry.consecutive_failures") >= 1; }));
  Json j = Stats(pool);
  ExpectDesignFields(j.get());
  EXPECT_EQ(Str(j.get(), "state"), "starting");
  EXPECT_EQ(Int(j.get(), "http_status"), 503);
  EXPECT_EQ(Int(j.get(), "retry.consecutive_failures"), 1);
  // The next probe is a minute away (60 s +- 20 % jitter).
  double next = Int(j.get(), "retry.next_attempt_in_ms");
  EXPECT_GT(next, 30000);
  EXPECT_LE(next, 72000);
  EXPECT_GE(Int(j.get(), "retry.outage_ms"), 0);
  const cJSON* e = At(j.get(), "last_error");
  ASSERT_TRUE(cJSON_IsObject(e));
  std::string msg = Str(e, "message");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("connect to db:5432 failed"), std::string::npos) << msg;
  EXPECT_EQ(Int(e, "code"), CONNPOOL_EFACTORY);
  EXPECT_EQ(Str(e, "code_name"), "CONNPOOL_EFACTORY");
  EXPECT_GE(Int(e, "age_ms"), 0);
  EXPECT_EQ(Take(connpool_pool_metrics_text(pool)).find("hunter2"), std::string::npos);
  connpool_pool_free(pool);
}

TEST(StatsJson, RecoveryClearsRetryFields) {
  Backend b;
  b.up = false;
  connpool_pool_t* pool = MakePool(&b, {{"retry_initial_ms", "10"}, {"retry_max_ms", "20"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Eventually([&] { return b.create_failures.load() >= 2; }));
  b.up = true;
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  Json j = Stats(pool);
  ExpectDesignFields(j.get());
  EXPECT_EQ(Int(j.get(), "retry.consecutive_failures"), 0);
  EXPECT_TRUE(cJSON_IsNull(At(j.get(), "retry.next_attempt_in_ms")));
  EXPECT_EQ(Int(j.get(), "retry.outage_ms"), 0);
  EXPECT_TRUE(cJSON_IsObject(At(j.get(), "last_error"))) << "last_error stays, with its age";
  EXPECT_GE(Int(j.get(), "counters.create_failures"), 2);
  connpool_pool_free(pool);
}

// Leak detection through the C API: the leaks array, and one log line per leaked lease.
TEST(StatsJson, LeaksAreListedAndLoggedOnceEach) {
  LogCapture log;
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "leaky"}, {"max_size", "4"}, {"leak_threshold_ms", "40"},
                                        {"maintenance_interval_ms", "10"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);

  connpool_lease_t a = 0;
  std::thread holder([&] { ASSERT_EQ(connpool_acquire_priority(pool, 7, 5000, &a, nullptr), CONNPOOL_OK); });
  holder.join();
  ASSERT_NE(a, 0u);
  Json j;
  ASSERT_TRUE(Eventually([&] {
    j = Stats(pool);
    return cJSON_GetArraySize(At(j.get(), "leaks")) == 1;
  }));
  ExpectDesignFields(j.get());
  EXPECT_EQ(Int(j.get(), "leak_threshold_ms"), 40);
  const cJSON* leak = cJSON_GetArrayItem(At(j.get(), "leaks"), 0);
  EXPECT_EQ(At(leak, "lease")->valuedouble, static_cast<double>(a));
  EXPECT_GE(Int(leak, "held_ms"), 40);
  std::string thread = Str(leak, "thread");
  EXPECT_FALSE(thread.empty());
  EXPECT_EQ(thread.find_first_not_of("0123456789"), std::string::npos) << thread;
  EXPECT_EQ(Int(leak, "priority"), 7);

  const std::string lease_a = "lease " + std::to_string(a) + " ";
  ASSERT_TRUE(Eventually([&] { return log.Count({"leaky", lease_a}) >= 1; }));
  // A second leak, logged only after many more maintenance passes: lease a must still have
  // been logged exactly once.
  connpool_lease_t c;
  ASSERT_EQ(connpool_acquire(pool, 5000, &c, nullptr), CONNPOOL_OK);
  const std::string lease_c = "lease " + std::to_string(c) + " ";
  ASSERT_TRUE(Eventually([&] { return log.Count({"leaky", lease_c}) >= 1; }));
  ASSERT_EQ(connpool_release(pool, c), CONNPOOL_OK);
  connpool_lease_t d;
  ASSERT_EQ(connpool_acquire(pool, 5000, &d, nullptr), CONNPOOL_OK);
  const std::string lease_d = "lease " + std::to_string(d) + " ";
  ASSERT_TRUE(Eventually([&] { return log.Count({"leaky", lease_d}) >= 1; }));
  EXPECT_EQ(log.Count({"leaky", lease_a}), 1u);
  EXPECT_EQ(log.Count({"leaky", lease_c}), 1u);
  for (const auto& e : log.Entries()) {
    if (e.msg.find("lease ") != std::string::npos) {
      EXPECT_EQ(e.level, CONNPOOL_LOG_WARN) << e.msg;
    }
  }

  // Released leases are no longer leaks.
  ASSERT_EQ(connpool_release(pool, a), CONNPOOL_OK);
  ASSERT_EQ(connpool_release(pool, d), CONNPOOL_OK);
  j = Stats(pool);
  EXPECT_EQ(cJSON_GetArraySize(At(j.get(), "leaks")), 0);
  connpool_pool_free(pool);
}

TEST(StatsJson, LeaseNumbersAreExactAbove2To53) {
  // A lease carries its pool's tag in its top 14 bits, so from the 8th pool of a process on
  // leases exceed 2^53, where a JSON number held in a double would be rounded.
  for (int i = 0; i < 9; ++i) {
    Backend b;
    connpool_pool_free(MakePool(&b, {}));
  }
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"leak_threshold_ms", "1"}, {"maintenance_interval_ms", "10"}});
  ASSERT_NE(pool, nullptr);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  ASSERT_GT(l, uint64_t{1} << 53);
  const std::string exact = "\"lease\":" + std::to_string(l) + ",";
  EXPECT_TRUE(Eventually([&] { return Take(connpool_pool_stats_json(pool)).find(exact) != std::string::npos; }))
      << Take(connpool_pool_stats_json(pool));
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  connpool_pool_free(pool);
}

TEST(StatsJson, NoLeaksReportedWhenThresholdIsOff) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"maintenance_interval_ms", "10"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  Json j = Stats(pool);
  EXPECT_EQ(Int(j.get(), "leak_threshold_ms"), 0);
  EXPECT_EQ(cJSON_GetArraySize(At(j.get(), "leaks")), 0);
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  connpool_pool_free(pool);
}

}  // namespace
