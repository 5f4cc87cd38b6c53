// SPDX-License-Identifier: Apache-2.0
// Fault injection through libconnpool.so, as users see it (real clock): factories that fail,
// return OK with NULL, return an undocumented code, throw, or stall on a latch the test holds.
// Timing checks only bound how long a call took; nothing sleeps to synchronise.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connpool/connpool.h"
#include "faults/fault_backend.h"

namespace connpool_faults {
namespace {

using Clock = std::chrono::steady_clock;

// Generous upper bound for "returned promptly" on a loaded 2-core machine under sanitizers.
constexpr int64_t kSlackMs = 5000;

connpool_pool_t* NewPool(FaultBackend* b, const std::vector<std::pair<const char*, const char*>>& settings,
                         bool with_validate = true, bool with_reset = true) {
  connpool_config_t* cfg = connpool_config_new();
  char err[256] = "";
  const std::pair<const char*, const char*> base[] = {
      {"retry_initial_ms", "10"}, {"retry_max_ms", "50"}, {"retry_jitter", "0"},
      {"maintenance_interval_ms", "10"}, {"unavailable_after_ms", "0"}};
  for (const auto& kv : base) EXPECT_EQ(connpool_config_set(cfg, kv.first, kv.second, err, sizeof err), CONNPOOL_OK) << err;
  for (const auto& kv : settings)
    EXPECT_EQ(connpool_config_set(cfg, kv.first, kv.second, err, sizeof err), CONNPOOL_OK) << kv.first << ": " << err;
  connpool_pool_t* pool = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, b->NewCFactory(with_validate, with_reset), &pool, err, sizeof err), CONNPOOL_OK) << err;
  connpool_config_free(cfg);
  return pool;
}

std::string Stats(connpool_pool_t* pool) {
  char* s = connpool_pool_stats_json(pool);
  std::string out = s ? s : "";
  connpool_free(s);
  return out;
}

// A number from the stats JSON: a top-level field, or one inside "connections"; -1 if absent.
int64_t Gauge(connpool_pool_t* pool, const char* name) {
  cJSON* root = cJSON_Parse(Stats(pool).c_str());
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(root, name);
  if (v == nullptr) v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "connections"), name);
  int64_t out = cJSON_IsNumber(v) ? static_cast<int64_t>(v->valuedouble) : -1;
  cJSON_Delete(root);
  return out;
}

void ExpectNoLeak(FaultBackend& b) {
  EXPECT_EQ(b.creates.load(), b.destroys.load()) << "connections leaked";
  EXPECT_EQ(b.live(), 0);
  EXPECT_EQ(b.ctx_frees.load(), 1);
}

// Every create fault is contained: a do-not-wait acquire reports EFACTORY (EUNAVAILABLE once
// a FATAL result made the pool unavailable), a waiting one ETIMEOUT, the secret in the
// message never reaches stats, and the pool recovers when the factory does.
TEST(CapiFaults, EveryCreateFaultIsContainedAndReported) {
  const Fault faults[] = {Fault::kFail, Fault::kNull, Fault::kUnknown, Fault::kThrow, Fault::kFatal};
  for (Fault f : faults) {
    SCOPED_TRACE(static_cast<int>(f));
    FaultBackend b;
    b.create = f;
    connpool_pool_t* pool = NewPool(&b, {{"max_size", "2"}});
    ASSERT_NE(pool, nullptr);
    ASSERT_TRUE(Eventually([&] { return b.create_calls.load() >= 1; }));
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    if (f == Fault::kFatal) {
      ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_UNAVAILABLE; }));
      EXPECT_EQ(connpool_acquire(pool, 0, &lease, &conn), CONNPOOL_EUNAVAILABLE);
      EXPECT_EQ(connpool_acquire(pool, 100, &lease, &conn), CONNPOOL_EUNAVAILABLE);
    } else {
      // Within the backoff a do-not-wait acquire may not create (ETIMEOUT); once it may, the
      // create runs on the caller and its failure is EFACTORY.
      ASSERT_TRUE(Eventually([&] { return connpool_acquire(pool, 0, &lease, &conn) == CONNPOOL_EFACTORY; }));
      EXPECT_EQ(connpool_acquire(pool, 50, &lease, &conn), CONNPOOL_ETIMEOUT);
    }
    EXPECT_EQ(lease, 0u);
    EXPECT_EQ(conn, nullptr);
    std::string stats = Stats(pool);
    EXPECT_EQ(stats.find("hunter2"), std::string::npos) << stats;
    cJSON* root = cJSON_Parse(stats.c_str());
    EXPECT_TRUE(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "last_error"))) << stats;
    cJSON_Delete(root);

    b.create = Fault::kNone;  // the backend is back: probing finds it
    ASSERT_EQ(connpool_pool_wait_ready(pool, 30000), CONNPOOL_OK) << Stats(pool);
    ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
    EXPECT_TRUE(b.alive(conn));
    EXPECT_EQ(connpool_release(pool, lease), CONNPOOL_OK);
    connpool_pool_free(pool);
    ExpectNoLeak(b);
  }
}

// Validate and reset that fail or throw destroy the connection (never lend it again); a
// throwing destroy is contained. The books balance at the end.
TEST(CapiFaults, ValidateResetAndDestroyFaultsDestroyTheConnection) {
  for (Fault f : {Fault::kFail, Fault::kThrow}) {
    SCOPED_TRACE(static_cast<int>(f));
    FaultBackend b;
    connpool_pool_t* pool = NewPool(&b, {{"max_size", "2"}, {"validate_on_acquire", "always"}});
    ASSERT_EQ(connpool_pool_wait_ready(pool, 30000), CONNPOOL_OK);
    connpool_lease_t lease;
    void* conn;
    ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
    ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);

    b.validate = f;  // the idle connection fails its check: destroyed, a fresh one is lent
    void* before = conn;
    ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
    EXPECT_FALSE(b.alive(before));
    EXPECT_TRUE(b.alive(conn));
    b.validate = Fault::kNone;

    b.reset = f;  // reset fails on release: destroyed
    ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);
    EXPECT_FALSE(b.alive(conn));
    b.reset = Fault::kNone;

    b.destroy_throws = true;
    ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
    EXPECT_EQ(connpool_release_broken(pool, lease), CONNPOOL_OK);
    EXPECT_FALSE(b.alive(conn));
    connpool_pool_free(pool);
    ExpectNoLeak(b);
  }
}

// Creates run on the connector threads: while they hang, waiting acquires still end at their
// timeout, and wait_ready too.
TEST(CapiFaults, AcquireTimeoutsHoldWhileCreatesAreStalled) {
  FaultBackend b;
  b.create_latch.Close();
  connpool_pool_t* pool = NewPool(&b, {{"max_size", "4"}, {"connect_concurrency", "2"}});
  ASSERT_TRUE(b.create_latch.WaitParked(1));
  constexpr int kThreads = 4;
  constexpr int64_t kTimeoutMs = 150;
  int results[kThreads];
  int64_t elapsed[kThreads];
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      connpool_lease_t l;
      auto t0 = Clock::now();
      results[i] = connpool_acquire(pool, kTimeoutMs, &l, nullptr);
      elapsed[i] = MsSince(t0);
      if (results[i] == CONNPOOL_OK) connpool_release(pool, l);
    });
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(results[i], CONNPOOL_ETIMEOUT);
    EXPECT_GE(elapsed[i], kTimeoutMs);
    EXPECT_LT(elapsed[i], kTimeoutMs + kSlackMs);
  }
  auto t0 = Clock::now();
  EXPECT_EQ(connpool_pool_wait_ready(pool, 100), CONNPOOL_ETIMEOUT);
  EXPECT_LT(MsSince(t0), 100 + kSlackMs);
  EXPECT_LE(b.create_latch.parked(), 2u) << "connect_concurrency bounds the creates in flight";

  b.create_latch.Open();
  EXPECT_EQ(connpool_pool_wait_ready(pool, 30000), CONNPOOL_OK);
  connpool_pool_free(pool);
  ExpectNoLeak(b);
}

// A create hanging on a connector does not block callers an idle connection can serve.
TEST(CapiFaults, IdleConnectionIsServedWhileACreateIsStalled) {
  FaultBackend b;
  connpool_pool_t* pool = NewPool(&b, {{"max_size", "4"}, {"min_idle", "2"}, {"validate_on_acquire", "never"}});
  ASSERT_TRUE(Eventually([&] { return Gauge(pool, "idle") == 2; }));
  b.create_latch.Close();
  connpool_lease_t a;
  ASSERT_EQ(connpool_acquire(pool, 0, &a, nullptr), CONNPOOL_OK);
  // One idle left, below min_idle: a connector starts a refill, which hangs.
  ASSERT_TRUE(b.create_latch.WaitParked(1));

  int rc = -1;
  int64_t ms = -1;
  std::thread other([&] {
    connpool_lease_t l;
    auto t0 = Clock::now();
    rc = connpool_acquire(pool, 10000, &l, nullptr);
    ms = MsSince(t0);
    if (rc == CONNPOOL_OK) connpool_release(pool, l);
  });
  other.join();
  EXPECT_EQ(rc, CONNPOOL_OK);
  EXPECT_LT(ms, kSlackMs) << "served from idle, not queued behind the create";
  EXPECT_FALSE(Stats(pool).empty()) << "stats are answered while a create hangs";

  EXPECT_EQ(connpool_release(pool, a), CONNPOOL_OK);
  b.create_latch.Open();
  connpool_pool_free(pool);
  ExpectNoLeak(b);
}

// connpool_pool_free waits for a create running on a connector thread (as its documentation
// says), wakes waiters at once with ECLOSED, and then frees everything, including the
// connection the stalled create finally returns.
TEST(CapiFaults, PoolFreeWaitsForAStalledCreateThenFreesEverything) {
  FaultBackend b;
  b.create_latch.Close();
  connpool_pool_t* pool = NewPool(&b, {{"max_size", "2"}});
  ASSERT_TRUE(b.create_latch.WaitParked(1));
  int waited = -1;
  std::thread waiter([&] {
    connpool_lease_t l;
    waited = connpool_acquire(pool, 60000, &l, nullptr);
  });
  ASSERT_TRUE(Eventually([&] { return Gauge(pool, "waiters") == 1; }));

  std::atomic<bool> freed{false};
  std::thread closer([&] {
    connpool_pool_free(pool);
    freed = true;
  });
  waiter.join();
  EXPECT_EQ(waited, CONNPOOL_ECLOSED) << "pool_free wakes waiters at once";
  EXPECT_FALSE(freed.load()) << "pool_free waits for the create in flight";
  EXPECT_EQ(b.ctx_frees.load(), 0);
  b.create_latch.Open();
  closer.join();
  EXPECT_TRUE(freed.load());
  ExpectNoLeak(b);
}

// Random faults flipped by a chaos thread under concurrent load: every status is one the call
// documents, no lease or connection is lent twice, and nothing leaks. Bounded by operations,
// not by time.
TEST(CapiFaults, RandomFaultsUnderConcurrentLoadLeakNothing) {
  FaultBackend b;
  connpool_pool_t* pool = NewPool(&b, {{"max_size", "3"}, {"min_idle", "1"}, {"validate_on_acquire", "always"},
                                      {"max_uses", "5"}, {"max_waiters", "3"}});
  constexpr int kThreads = 4, kOps = 400;
  // Start from a proven backend, so that the load below meets connections, not only backoff.
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10'000), CONNPOOL_OK);
  std::atomic<bool> stop{false};
  std::thread chaos([&] {
    std::mt19937 rng(12345);
    const Fault creates[] = {Fault::kNone, Fault::kNone, Fault::kFail, Fault::kNull, Fault::kThrow, Fault::kUnknown};
    const Fault checks[] = {Fault::kNone, Fault::kNone, Fault::kNone, Fault::kFail, Fault::kThrow};
    while (!stop.load()) {
      b.create = creates[rng() % 6];
      b.validate = checks[rng() % 5];
      b.reset = checks[rng() % 5];
      b.destroy_throws = rng() % 4 == 0;
      std::this_thread::yield();
    }
  });
  std::mutex mu;
  std::set<void*> lent;  // guarded by mu: connections currently lent out
  std::atomic<int> bad_status{0}, lent_twice{0}, ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kOps; ++i) {
        connpool_lease_t l;
        void* c;
        // Timeouts of 0-20 ms: validate (always) runs on a pool helper thread, and on two busy
        // cores a 1 ms wait for it is often too short to ever be served.
        int rc = rng() % 2 ? connpool_acquire(pool, static_cast<int64_t>(rng() % 21), &l, &c)
                           : connpool_acquire_priority(pool, static_cast<int>(rng() % 3), 0, &l, &c);
        if (rc == CONNPOOL_OK) {
          ok++;
          {
            std::lock_guard<std::mutex> lk(mu);
            if (!lent.insert(c).second) lent_twice++;
          }
          if (!b.alive(c)) lent_twice++;  // lent after it was destroyed
          std::this_thread::yield();      // hold it a moment, as a caller would
          {
            std::lock_guard<std::mutex> lk(mu);
            lent.erase(c);
          }
          if ((rng() % 5 == 0 ? connpool_release_broken(pool, l) : connpool_release(pool, l)) != CONNPOOL_OK)
            bad_status++;
          if (connpool_release(pool, l) != CONNPOOL_ESTALE) bad_status++;
        } else if (rc != CONNPOOL_ETIMEOUT && rc != CONNPOOL_EFACTORY && rc != CONNPOOL_EOVERLOAD &&
                   rc != CONNPOOL_EUNAVAILABLE) {
          bad_status++;
        }
      }
    });
  for (std::thread& w : workers) w.join();
  stop = true;
  chaos.join();
  EXPECT_EQ(bad_status.load(), 0);
  EXPECT_EQ(lent_twice.load(), 0);
  EXPECT_GT(ok.load(), 0);
  b.create = Fault::kNone;
  b.validate = Fault::kNone;
  b.reset = Fault::kNone;
  b.destroy_throws = false;
  // Once the faults stop, the pool serves again: the chaos wedged nothing.
  connpool_lease_t l;
  void* c;
  ASSERT_EQ(connpool_acquire(pool, 10'000, &l, &c), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  connpool_pool_free(pool);
  ExpectNoLeak(b);
}

}  // namespace
}  // namespace connpool_faults
