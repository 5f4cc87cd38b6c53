// SPDX-License-Identifier: Apache-2.0
// The pool through the C ABI with C callbacks: ownership, bad input, and the main paths.
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../common/log_capture.h"

namespace {

using connpool_test::LogCapture;  // tests/common/log_capture.h

struct Backend {
  std::atomic<int> created{0}, destroyed{0}, ctx_freed{0};
  std::atomic<int> create_rc{CONNPOOL_FACTORY_OK};
  std::atomic<bool> give_null{false};
};

int Create(void* ctx, void** out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  int rc = b->create_rc;
  if (rc != CONNPOOL_FACTORY_OK) {
    snprintf(err, errlen, "cannot connect: password=hunter2");
    return rc;
  }
  if (b->give_null) return CONNPOOL_FACTORY_OK;
  *out = malloc(16);
  b->created++;
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void* ctx, void* conn) {
  static_cast<Backend*>(ctx)->destroyed++;
  free(conn);
}
void CtxFree(void* ctx) { static_cast<Backend*>(ctx)->ctx_freed++; }
int ValidateOk(void*, void*) { return 0; }
int ResetOk(void*, void*) { return 0; }

connpool_factory_t* NewFactory(Backend* b) {
  connpool_factory_t* f = connpool_factory_new(b, CtxFree, Create, Destroy);
  connpool_factory_set_validate(f, ValidateOk);
  connpool_factory_set_reset(f, ResetOk);
  return f;
}

connpool_pool_t* NewPool(Backend* b, const char* json = nullptr) {
  connpool_config_t* cfg = nullptr;
  char err[256] = "";
  if (json != nullptr) {
    EXPECT_EQ(connpool_config_from_json(json, &cfg, err, sizeof err), CONNPOOL_OK) << err;
  }
  connpool_pool_t* p = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, NewFactory(b), &p, err, sizeof err), CONNPOOL_OK) << err;
  connpool_config_free(cfg);
  return p;
}

std::string Stats(connpool_pool_t* p) {
  char* s = connpool_pool_stats_json(p);
  std::string out = s ? s : "";
  connpool_free(s);
  return out;
}

}  // namespace

TEST(CapiFactory, NeedsCreateAndDestroyAndFreesItsContextOnce) {
  Backend b;
  EXPECT_EQ(connpool_factory_new(&b, CtxFree, nullptr, Destroy), nullptr);
  EXPECT_EQ(connpool_factory_new(&b, CtxFree, Create, nullptr), nullptr);
  EXPECT_EQ(b.ctx_freed.load(), 0) << "a refused factory leaves the context to the caller";
  connpool_factory_t* f = connpool_factory_new(&b, CtxFree, Create, Destroy);
  ASSERT_NE(f, nullptr);
  connpool_factory_set_validate(nullptr, ValidateOk);
  connpool_factory_set_reset(nullptr, ResetOk);
  connpool_factory_free(f);
  EXPECT_EQ(b.ctx_freed.load(), 1);
  connpool_factory_t* no_ctx_free = connpool_factory_new(&b, nullptr, Create, Destroy);
  connpool_factory_free(no_ctx_free);
}

TEST(CapiPool, NewTakesTheFactoryEvenOnFailure) {
  Backend b;
  char err[256];
  connpool_pool_t* p = reinterpret_cast<connpool_pool_t*>(0x1);
  EXPECT_EQ(connpool_pool_new(nullptr, nullptr, &p, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(connpool_pool_new(nullptr, NewFactory(&b), nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(b.ctx_freed.load(), 1);
  connpool_config_t* cfg = connpool_config_new();
  connpool_config_set(cfg, "min_idle", "20", nullptr, 0);  // above max_size 10
  EXPECT_EQ(connpool_pool_new(cfg, NewFactory(&b), &p, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("min_idle"), std::string::npos) << err;
  EXPECT_EQ(b.ctx_freed.load(), 2);
  connpool_config_free(cfg);
}

TEST(CapiPool, BadArgumentsAreRefused) {
  Backend b;
  connpool_pool_t* p = NewPool(&b);
  connpool_lease_t l = 123;
  void* c = reinterpret_cast<void*>(0x1);
  EXPECT_EQ(connpool_acquire(nullptr, 0, &l, &c), CONNPOOL_EINVAL);
  EXPECT_EQ(l, 0u);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(connpool_acquire(p, 0, nullptr, &c), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_acquire_priority(nullptr, 1, 0, &l, &c), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_release(nullptr, 1), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_release_broken(nullptr, 1), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_release(p, 0), CONNPOOL_ESTALE);
  EXPECT_EQ(connpool_release(p, 0xdeadbeefdeadbeefull), CONNPOOL_ESTALE);
  EXPECT_EQ(connpool_pool_drain(nullptr, 0), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_wait_ready(nullptr, 0), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_stats_json(nullptr), nullptr);
  EXPECT_EQ(connpool_pool_metrics_text(nullptr), nullptr);
  connpool_pool_free(p);
  EXPECT_EQ(b.ctx_freed.load(), 1);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

TEST(CapiPool, AcquireReleaseStatsAndClose) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"name": "orders", "max_size": 2})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_state(p), CONNPOOL_STATE_READY);
  EXPECT_EQ(connpool_pool_http_status(p), 200);
  connpool_lease_t a, bb, cc;
  void *ca, *cb;
  ASSERT_EQ(connpool_acquire(p, 1000, &a, &ca), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire_priority(p, 3, 1000, &bb, &cb), CONNPOOL_OK);
  EXPECT_NE(ca, cb);
  EXPECT_EQ(connpool_acquire(p, 20, &cc, nullptr), CONNPOOL_ETIMEOUT);
  std::string s = Stats(p);
  EXPECT_NE(s.find("\"name\":\"orders\""), std::string::npos) << s;
  EXPECT_NE(s.find("\"in_use\":2"), std::string::npos) << s;
  EXPECT_NE(s.find("\"timeouts\":1"), std::string::npos) << s;
  char* m = connpool_pool_metrics_text(p);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(std::string(m).find("connpool_up{pool=\"orders\"} 1"), std::string::npos) << m;
  connpool_free(m);
  EXPECT_EQ(connpool_release(p, a), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p, a), CONNPOOL_ESTALE);
  EXPECT_EQ(connpool_release_broken(p, bb), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_drain(p, 1000), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_state(p), CONNPOOL_STATE_CLOSED);
  EXPECT_EQ(connpool_acquire(p, 0, &cc, nullptr), CONNPOOL_ECLOSED);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
  EXPECT_EQ(b.ctx_freed.load(), 1);
}

TEST(CapiPool, FreeWithALeaseOutFreesOnTheLastRelease) {
  Backend b;
  connpool_pool_t* p = NewPool(&b);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(p, 5000, &l, nullptr), CONNPOOL_OK);
  connpool_pool_free(p);
  EXPECT_EQ(b.ctx_freed.load(), 0);
  EXPECT_EQ(connpool_release(p, l), CONNPOOL_OK);
  EXPECT_EQ(b.ctx_freed.load(), 1);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

TEST(CapiPool, FactoryFailuresMapToStatusCodes) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size": 3, "retry_initial_ms": 60000, "retry_max_ms": 60000})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  connpool_lease_t held;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  b.give_null = true;
  connpool_lease_t l;
  EXPECT_EQ(connpool_acquire(p, 0, &l, nullptr), CONNPOOL_EFACTORY) << "OK with a NULL connection";
  EXPECT_EQ(connpool_pool_state(p), CONNPOOL_STATE_DEGRADED);
  std::string s = Stats(p);
  EXPECT_NE(s.find("NULL"), std::string::npos) << s;
  connpool_release(p, held);
  connpool_pool_free(p);

  Backend fatal;
  fatal.create_rc = CONNPOOL_FACTORY_FATAL;
  p = NewPool(&fatal, R"({"max_size": 2})");
  EXPECT_EQ(connpool_pool_wait_ready(p, 0), CONNPOOL_ETIMEOUT);
  for (int i = 0; i < 100000 && connpool_pool_state(p) != CONNPOOL_STATE_UNAVAILABLE; ++i) {
    connpool_acquire(p, 0, &l, nullptr);  // polls until the background create has failed
  }
  EXPECT_EQ(connpool_pool_state(p), CONNPOOL_STATE_UNAVAILABLE);
  EXPECT_EQ(connpool_pool_http_status(p), 503);
  EXPECT_EQ(connpool_acquire(p, 10000, &l, nullptr), CONNPOOL_EUNAVAILABLE);
  s = Stats(p);
  EXPECT_EQ(s.find("hunter2"), std::string::npos) << s;
  EXPECT_NE(s.find("\"code\":7"), std::string::npos) << s;
  connpool_pool_free(p);

  Backend odd;
  odd.create_rc = 42;  // not a CONNPOOL_FACTORY_* value: treated as a transient failure
  p = NewPool(&odd, R"({"max_size": 1, "retry_initial_ms": 1, "retry_max_ms": 1})");
  EXPECT_EQ(connpool_acquire(p, 50, &l, nullptr), CONNPOOL_ETIMEOUT);
  EXPECT_NE(Stats(p).find("unknown code 42"), std::string::npos);
  connpool_pool_free(p);
}

TEST(CapiPool, LogsTransitionsOnceWithoutSecrets) {
  LogCapture log;
  Backend b;
  b.create_rc = CONNPOOL_FACTORY_FATAL;
  connpool_pool_t* p = NewPool(&b, R"({"name": "billing"})");
  connpool_lease_t l;
  for (int i = 0; i < 100000 && connpool_pool_state(p) != CONNPOOL_STATE_UNAVAILABLE; ++i) connpool_acquire(p, 0, &l, nullptr);
  connpool_pool_free(p);
  log.Stop();
  int unavailable = 0;
  for (const std::string& m : log.Lines()) {
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
    if (m.find("starting -> unavailable") != std::string::npos) ++unavailable;
  }
  EXPECT_EQ(unavailable, 1) << "logged once, not once per attempt";
}

TEST(CapiPool, ResizeGrowsShrinksAndExplainsBadInputInTheLog) {
  LogCapture log;
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"name": "sized", "max_size": 1})");
  EXPECT_EQ(connpool_pool_resize(nullptr, 0, 2), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_resize(p, 0, 0), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_resize(p, -1, 2), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_pool_resize(p, 3, 2), CONNPOOL_EINVAL);
  EXPECT_NE(Stats(p).find("\"max_size\":1,"), std::string::npos) << "refused resizes change nothing";
  connpool_lease_t l1 = 0, l2 = 0;
  ASSERT_EQ(connpool_acquire(p, 1000, &l1, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_acquire(p, 0, &l2, nullptr), CONNPOOL_ETIMEOUT);
  ASSERT_EQ(connpool_pool_resize(p, 0, 2), CONNPOOL_OK);
  EXPECT_NE(Stats(p).find("\"max_size\":2,"), std::string::npos) << Stats(p);
  ASSERT_EQ(connpool_acquire(p, 1000, &l2, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_pool_resize(p, 0, 1), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p, l1), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p, l2), CONNPOOL_OK);
  EXPECT_NE(Stats(p).find("\"closed_shrink\":1"), std::string::npos) << Stats(p);
  EXPECT_EQ(connpool_pool_drain(p, 0), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_resize(p, 0, 3), CONNPOOL_ECLOSED);
  connpool_pool_free(p);
  log.Stop();
  EXPECT_TRUE(log.AnyContains("connpool_pool_resize: pool is NULL"));
  EXPECT_TRUE(log.AnyContains("connpool_pool_resize: max_size 0 is out of range (allowed: 1..100000)"));
  EXPECT_TRUE(log.AnyContains("connpool_pool_resize: min_idle -1 is out of range (allowed: 0..100000)"));
  EXPECT_TRUE(log.AnyContains("connpool_pool_resize: min_idle (3) must not exceed max_size (2)"));
  EXPECT_TRUE(log.AnyContains("pool 'sized': resized min_idle 0 -> 0, max_size 1 -> 2"));
}

// connpool_pool_resize_ex (1.2): the same checks, the reason in the caller's buffer, nothing
// in the log; a short buffer truncates, a NULL one is allowed.
TEST(CapiPool, ResizeExWritesTheReasonIntoTheCallersBuffer) {
  LogCapture log;
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"name": "sized_ex", "max_size": 1})");
  char err[256] = "stale";
  EXPECT_EQ(connpool_pool_resize_ex(nullptr, 0, 2, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_pool_resize: pool is NULL");
  EXPECT_EQ(connpool_pool_resize_ex(p, 0, 0, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_pool_resize: max_size 0 is out of range (allowed: 1..100000)");
  EXPECT_EQ(connpool_pool_resize_ex(p, -1, 2, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_pool_resize: min_idle -1 is out of range (allowed: 0..100000)");
  EXPECT_EQ(connpool_pool_resize_ex(p, 3, 2, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_pool_resize: min_idle (3) must not exceed max_size (2)");
  char small[12];
  EXPECT_EQ(connpool_pool_resize_ex(p, 3, 2, small, sizeof small), CONNPOOL_EINVAL);
  EXPECT_STREQ(small, "connpool_po") << "truncated, NUL-terminated";
  EXPECT_EQ(connpool_pool_resize_ex(p, 3, 2, nullptr, 0), CONNPOOL_EINVAL);
  EXPECT_NE(Stats(p).find("\"max_size\":1,"), std::string::npos) << "refused resizes change nothing";
  ASSERT_EQ(connpool_pool_resize_ex(p, 0, 2, err, sizeof err), CONNPOOL_OK);
  EXPECT_STREQ(err, "") << "OK clears the buffer";
  EXPECT_NE(Stats(p).find("\"max_size\":2,"), std::string::npos) << Stats(p);
  // A deadline: the start-up create runs on a helper thread, which may still be finishing.
  EXPECT_EQ(connpool_pool_drain(p, 10000), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_resize_ex(p, 0, 3, err, sizeof err), CONNPOOL_ECLOSED);
  EXPECT_STREQ(err, "connpool_pool_resize: the pool is draining or closed");
  connpool_pool_free(p);
  log.Stop();
  for (const std::string& m : log.Lines()) EXPECT_EQ(m.find("connpool_pool_resize:"), std::string::npos) << m;
}
