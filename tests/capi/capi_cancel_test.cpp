// SPDX-License-Identifier: Apache-2.0
// Cancel tokens, connpool_acquire_cancellable and connpool_pool_explain through the C ABI
// (DESIGN.md section 2a). Waiting acquires are observed through the stats' "waiters", never by
// sleeping.
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Backend {
  std::atomic<int> created{0}, destroyed{0};
  std::atomic<int> create_rc{CONNPOOL_FACTORY_OK};
};

int Create(void* ctx, void** out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  if (b->create_rc != CONNPOOL_FACTORY_OK) {
    snprintf(err, errlen, "cannot connect: password=hunter2");
    return b->create_rc;
  }
  *out = malloc(16);
  b->created++;
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void* ctx, void* conn) {
  static_cast<Backend*>(ctx)->destroyed++;
  free(conn);
}

connpool_pool_t* NewPool(Backend* b, const char* json) {
  connpool_config_t* cfg = nullptr;
  char err[256] = "";
  EXPECT_EQ(connpool_config_from_json(json, &cfg, err, sizeof err), CONNPOOL_OK) << err;
  connpool_pool_t* p = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, connpool_factory_new(b, nullptr, Create, Destroy), &p, err, sizeof err),
            CONNPOOL_OK)
      << err;
  connpool_config_free(cfg);
  return p;
}

// A top-level or "counters"/"connections" integer field of the stats JSON.
long Field(connpool_pool_t* p, const char* key) {
  char* s = connpool_pool_stats_json(p);
  std::string j(s);
  connpool_free(s);
  std::string k = std::string("\"") + key + "\":";
  size_t at = j.find(k);
  if (at == std::string::npos) return -1;
  return std::strtol(j.c_str() + at + k.size(), nullptr, 10);
}

// Polls (yielding, bounded) until `n` acquires wait in the pool.
bool WaitForWaiters(connpool_pool_t* p, long n) {
  for (int i = 0; i < 2'000'000; ++i) {
    if (Field(p, "waiters") == n) return true;
    std::this_thread::yield();
  }
  return false;
}

void ExpectBooksBalance(connpool_pool_t* p) {
  EXPECT_EQ(Field(p, "created"), Field(p, "destroyed") + Field(p, "idle") + Field(p, "in_use"));
}

TEST(CapiCancel, TokenLifecycleAndNulls) {
  connpool_cancel_t* c = connpool_cancel_new();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(connpool_cancel_triggered(c), 0);
  connpool_cancel_trigger(c);
  EXPECT_EQ(connpool_cancel_triggered(c), 1);
  connpool_cancel_trigger(c);  // idempotent
  EXPECT_EQ(connpool_cancel_triggered(c), 1);
  connpool_cancel_free(c);
  connpool_cancel_trigger(nullptr);
  EXPECT_EQ(connpool_cancel_triggered(nullptr), 0);
  connpool_cancel_free(nullptr);
  EXPECT_STREQ(connpool_errname(CONNPOOL_ECANCELED), "CONNPOOL_ECANCELED");
  EXPECT_STREQ(connpool_errname(CONNPOOL_PENDING), "CONNPOOL_PENDING");
  EXPECT_EQ(CONNPOOL_ECANCELED, 10);
  EXPECT_EQ(CONNPOOL_PENDING, 11);
}

TEST(CapiCancel, BadInputIsEinval) {
  connpool_lease_t lease = 7;
  void* conn = &lease;
  EXPECT_EQ(connpool_acquire_cancellable(nullptr, 0, 0, nullptr, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(conn, nullptr);
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size": 1})");
  EXPECT_EQ(connpool_acquire_cancellable(p, 0, 0, nullptr, nullptr, nullptr), CONNPOOL_EINVAL);
  char buf[8];
  EXPECT_EQ(connpool_pool_explain(nullptr, CONNPOOL_ETIMEOUT, buf, sizeof buf), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_explain(p, CONNPOOL_ETIMEOUT, nullptr, 10), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_explain(p, CONNPOOL_ETIMEOUT, buf, 0), CONNPOOL_EINVAL);
  connpool_pool_free(p);
}

TEST(CapiCancel, PreTriggeredTokenIsCanceledEvenWithAnIdleConnection) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size": 2, "min_idle": 1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  connpool_lease_t lease = 0;
  // A NULL token is connpool_acquire_priority.
  ASSERT_EQ(connpool_acquire_cancellable(p, 0, 1000, nullptr, &lease, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  connpool_cancel_t* c = connpool_cancel_new();
  ASSERT_EQ(connpool_acquire_cancellable(p, 0, 1000, c, &lease, nullptr), CONNPOOL_OK);  // untriggered
  ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  connpool_cancel_trigger(c);
  ASSERT_GE(Field(p, "idle"), 1);
  EXPECT_EQ(connpool_acquire_cancellable(p, 0, 1000, c, &lease, nullptr), CONNPOOL_ECANCELED);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(Field(p, "canceled"), 1);
  EXPECT_EQ(Field(p, "in_use"), 0);
  connpool_cancel_free(c);
  connpool_pool_free(p);
}

// One token, several waiters on two pools (one of them multiplexed): a trigger ends them all.
TEST(CapiCancel, TriggerWhileWaitingEndsEveryWaitWithTheToken) {
  Backend b1, b2;
  connpool_pool_t* p1 = NewPool(&b1, R"({"max_size": 1})");
  connpool_pool_t* p2 = NewPool(&b2, R"({"max_size": 1, "max_leases_per_conn": 2})");
  connpool_lease_t held1 = 0, held2a = 0, held2b = 0;
  ASSERT_EQ(connpool_acquire(p1, 5000, &held1, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire(p2, 5000, &held2a, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire(p2, 5000, &held2b, nullptr), CONNPOOL_OK);
  connpool_cancel_t* c = connpool_cancel_new();
  std::atomic<int> rc[4];
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&, i] {
      connpool_lease_t l = 0;
      rc[i] = connpool_acquire_cancellable(i < 2 ? p1 : p2, i, 60'000, c, &l, nullptr);
    });
  ASSERT_TRUE(WaitForWaiters(p1, 2));
  ASSERT_TRUE(WaitForWaiters(p2, 2));
  connpool_cancel_trigger(c);
  for (auto& t : ts) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rc[i], CONNPOOL_ECANCELED) << i;
  EXPECT_EQ(Field(p1, "waiters"), 0);
  EXPECT_EQ(Field(p2, "waiters"), 0);
  EXPECT_EQ(Field(p1, "canceled"), 2);
  EXPECT_EQ(Field(p2, "canceled"), 2);
  // The pools serve as before.
  EXPECT_EQ(connpool_release(p1, held1), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p2, held2a), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p2, held2b), CONNPOOL_OK);
  connpool_lease_t l = 0;
  EXPECT_EQ(connpool_acquire(p1, 0, &l, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p1, l), CONNPOOL_OK);
  connpool_cancel_free(c);
  connpool_pool_free(p1);
  connpool_pool_free(p2);
}

TEST(CapiCancel, TimeoutAndDrainStillEndACancellableWait) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size": 1})");
  connpool_lease_t held = 0, l = 0;
  ASSERT_EQ(connpool_acquire(p, 5000, &held, nullptr), CONNPOOL_OK);
  connpool_cancel_t* c = connpool_cancel_new();
  EXPECT_EQ(connpool_acquire_cancellable(p, 0, 20, c, &l, nullptr), CONNPOOL_ETIMEOUT);
  std::atomic<int> rc{-1};
  std::thread t([&] { rc = connpool_acquire_cancellable(p, 0, 60'000, c, &l, nullptr); });
  ASSERT_TRUE(WaitForWaiters(p, 1));
  EXPECT_EQ(connpool_pool_drain(p, 0), CONNPOOL_ETIMEOUT);  // our lease is still out
  t.join();
  EXPECT_EQ(rc, CONNPOOL_ECLOSED);
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
  EXPECT_EQ(Field(p, "canceled"), 0);
  connpool_cancel_free(c);
  connpool_pool_free(p);
}

// A release and a trigger race for the same waiter: it gets the connection (and gives it back)
// or is canceled, and then the connection is idle. Never lost, never lent twice.
TEST(CapiCancel, HandOffRacingACancelNeverLosesOrDoublesAConnection) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size": 1})");
  int ok = 0, canceled = 0;
  for (int round = 0; round < 300; ++round) {
    connpool_lease_t held = 0;
    ASSERT_EQ(connpool_acquire(p, 5000, &held, nullptr), CONNPOOL_OK);
    connpool_cancel_t* c = connpool_cancel_new();
    std::atomic<int> rc{-1};
    connpool_lease_t got = 0;
    std::thread waiter([&] { rc = connpool_acquire_cancellable(p, 0, 60'000, c, &got, nullptr); });
    ASSERT_TRUE(WaitForWaiters(p, 1));
    std::atomic<bool> go{false};
    std::thread releaser([&] {
      while (!go) std::this_thread::yield();
      EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
    });
    std::thread trigger([&] {
      while (!go) std::this_thread::yield();
      connpool_cancel_trigger(c);
    });
    go = true;
    releaser.join();
    trigger.join();
    waiter.join();
    if (rc == CONNPOOL_OK) {
      ++ok;
      EXPECT_EQ(connpool_release(p, got), CONNPOOL_OK);
      EXPECT_EQ(connpool_release(p, got), CONNPOOL_ESTALE);  // lent once
    } else {
      ASSERT_EQ(rc, CONNPOOL_ECANCELED);
      ++canceled;
    }
    connpool_cancel_free(c);
    ASSERT_EQ(Field(p, "in_use"), 0) << round;
    ASSERT_EQ(Field(p, "waiters"), 0) << round;
    ExpectBooksBalance(p);
  }
  EXPECT_EQ(ok + canceled, 300);
  EXPECT_EQ(Field(p, "canceled"), canceled);
  EXPECT_EQ(Field(p, "created"), 1);  // the one connection went round, never lost
  std::printf("hand-off won %d, cancel won %d of 300 races\n", ok, canceled);
  connpool_pool_free(p);
}

TEST(CapiCancel, ExplainNamesThePoolItsCountsAndTheRedactedLastError) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"name": "orders", "max_size": 1})");
  connpool_lease_t held = 0, l = 0;
  ASSERT_EQ(connpool_acquire(p, 5000, &held, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire(p, 10, &l, nullptr), CONNPOOL_ETIMEOUT);
  char line[512];
  ASSERT_EQ(connpool_pool_explain(p, CONNPOOL_ETIMEOUT, line, sizeof line), CONNPOOL_OK);
  std::string s(line);
  EXPECT_NE(s.find("pool 'orders'"), std::string::npos) << s;
  EXPECT_NE(s.find("CONNPOOL_ETIMEOUT"), std::string::npos) << s;
  EXPECT_NE(s.find("total 1 (idle 0, in use 1, creating 0), max 1, waiters 0"), std::string::npos) << s;
  EXPECT_NE(s.find("no create error"), std::string::npos) << s;
  char tiny[8];
  ASSERT_EQ(connpool_pool_explain(p, CONNPOOL_ETIMEOUT, tiny, sizeof tiny), CONNPOOL_OK);
  EXPECT_EQ(std::strlen(tiny), 7u);  // truncated, NUL-terminated
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
  connpool_pool_free(p);

  Backend down;
  down.create_rc = CONNPOOL_FACTORY_FATAL;
  p = NewPool(&down, R"({"max_size": 1})");
  int rc = CONNPOOL_OK;
  for (int i = 0; i < 2'000'000 && rc != CONNPOOL_EUNAVAILABLE; ++i) {
    rc = connpool_acquire(p, 0, &l, nullptr);
    std::this_thread::yield();
  }
  ASSERT_EQ(rc, CONNPOOL_EUNAVAILABLE);
  ASSERT_EQ(connpool_pool_explain(p, rc, line, sizeof line), CONNPOOL_OK);
  s = line;
  EXPECT_NE(s.find("(unavailable): CONNPOOL_EUNAVAILABLE"), std::string::npos) << s;
  EXPECT_NE(s.find("last create error"), std::string::npos) << s;
  EXPECT_NE(s.find("cannot connect"), std::string::npos) << s;
  EXPECT_EQ(s.find("hunter2"), std::string::npos) << s;
  connpool_pool_free(p);
}

}  // namespace
