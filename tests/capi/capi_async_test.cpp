// SPDX-License-Identifier: Apache-2.0
// connpool_acquire_async through the C ABI, one test per sentence of DESIGN.md section 2a:
// served at once without a callback; queued in the one FIFO with blocking acquires; called
// back exactly once, never on the caller's stack, never nested, with the outcome of a release,
// a timeout, a cancel, drain, free or the unavailable cutoff; refused at once otherwise. Waits
// are observed through the stats' "waiters" and the callbacks' own signals, never by sleeping.
#include <connpool/connpool.h>
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Backend {
  std::atomic<int> created{0}, destroyed{0};
  std::atomic<int> create_rc{CONNPOOL_FACTORY_OK};
  std::atomic<int> validations{0};
  std::thread::id validate_thread;
};

int Create(void* ctx, void** out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  if (b->create_rc != CONNPOOL_FACTORY_OK) {
    snprintf(err, errlen, "cannot connect");
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
int Validate(void* ctx, void*) {
  auto* b = static_cast<Backend*>(ctx);
  b->validate_thread = std::this_thread::get_id();
  b->validations++;
  return 0;
}

connpool_pool_t* NewPool(Backend* b, const char* json, bool validate = false) {
  connpool_config_t* cfg = nullptr;
  char err[256] = "";
  EXPECT_EQ(connpool_config_from_json(json, &cfg, err, sizeof err), CONNPOOL_OK) << err;
  connpool_factory_t* f = connpool_factory_new(b, nullptr, Create, Destroy);
  if (validate) connpool_factory_set_validate(f, Validate);
  connpool_pool_t* p = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, f, &p, err, sizeof err), CONNPOOL_OK) << err;
  connpool_config_free(cfg);
  return p;
}

long Field(connpool_pool_t* p, const char* key) {
  char* s = connpool_pool_stats_json(p);
  std::string j(s);
  connpool_free(s);
  std::string k = std::string("\"") + key + "\":";
  size_t at = j.find(k);
  if (at == std::string::npos) return -1;
  return std::strtol(j.c_str() + at + k.size(), nullptr, 10);
}

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

// What the callbacks of one test saw. Every callback signals `cv`; tests wait on it with a
// generous bound (a callback that never comes fails the test instead of hanging it).
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> statuses;  // in the order the callbacks ran
  std::vector<std::string> order;
  std::thread::id thread;
  connpool_pool_t* pool = nullptr;
  bool release = true;  // release an OK lease inside the callback
  std::vector<connpool_lease_t> kept;
  // Callbacks that have returned from their work, the release of their lease included: a test
  // that reads in_use after WaitFor must not see the last callback's lease still out.
  size_t finished = 0;

  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(30), [&] { return finished >= n; });
  }
  size_t Count() {
    std::lock_guard<std::mutex> lk(mu);
    return statuses.size();
  }
};

thread_local int t_depth = 0;
std::atomic<int> g_max_depth{0};

void OnAcquired(void* ud, int status, connpool_lease_t lease, void* conn) {
  auto* o = static_cast<Outcomes*>(ud);
  int depth = ++t_depth;
  int seen = g_max_depth.load();
  while (depth > seen && !g_max_depth.compare_exchange_weak(seen, depth)) {
  }
  if (status == CONNPOOL_OK) {
    EXPECT_NE(lease, 0u);
    EXPECT_NE(conn, nullptr);
  } else {
    EXPECT_EQ(lease, 0u);
    EXPECT_EQ(conn, nullptr);
  }
  bool release = status == CONNPOOL_OK && o->release;
  {
    std::lock_guard<std::mutex> lk(o->mu);
    o->statuses.push_back(status);
    o->order.push_back("async");
    o->thread = std::this_thread::get_id();
    if (status == CONNPOOL_OK && !release) o->kept.push_back(lease);
  }
  // Released outside our lock: the release may serve the next pending acquire, whose callback
  // must then run after this one returns, not inside it.
  if (release) {
    EXPECT_EQ(connpool_release(o->pool, lease), CONNPOOL_OK);
  }
  {
    std::lock_guard<std::mutex> lk(o->mu);
    ++o->finished;
  }
  o->cv.notify_all();
  --t_depth;
}

TEST(CapiAsync, RefusalsNeverCallTheCallback) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1,"max_waiters":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t lease = 7;
  void* conn = &o;
  EXPECT_EQ(connpool_acquire_async(nullptr, 0, 100, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(connpool_acquire_async(p, 0, 100, nullptr, nullptr, &o, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_acquire_async(p, 0, 100, nullptr, OnAcquired, &o, nullptr, &conn), CONNPOOL_EINVAL);

  connpool_cancel_t* c = connpool_cancel_new();
  connpool_cancel_trigger(c);  // already triggered: refused although a connection is idle
  EXPECT_EQ(connpool_acquire_async(p, 0, 100, c, OnAcquired, &o, &lease, &conn), CONNPOOL_ECANCELED);
  EXPECT_EQ(Field(p, "canceled"), 1);

  connpool_lease_t held;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  // Timeout 0 and nothing free: refused, not queued (and no create for it: max_size is reached).
  EXPECT_EQ(connpool_acquire_async(p, 0, 0, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_ETIMEOUT);
  // One pending acquire fills max_waiters; the next is refused with EOVERLOAD.
  o.release = false;
  ASSERT_EQ(connpool_acquire_async(p, 0, 10'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(Field(p, "waiters"), 1);
  EXPECT_EQ(connpool_acquire_async(p, 0, 10'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_EOVERLOAD);
  connpool_lease_t blocked;
  EXPECT_EQ(connpool_acquire(p, 1000, &blocked, nullptr), CONNPOOL_EOVERLOAD) << "blocking and async share max_waiters";
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p, o.kept[0]), CONNPOOL_OK);
  EXPECT_EQ(o.Count(), 1u) << "refused acquires must never be called back";

  connpool_pool_drain(p, 1000);
  EXPECT_EQ(connpool_acquire_async(p, 0, 100, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_ECLOSED);
  connpool_pool_free(p);
  connpool_cancel_free(c);
  EXPECT_EQ(o.Count(), 1u);
}

TEST(CapiAsync, AFreeConnectionIsReturnedAtOnceWithoutACallback) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":2,"min_idle":2,"validate_on_acquire":"never"})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  for (int i = 0; i < 1000; ++i) {
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    ASSERT_EQ(connpool_acquire_async(p, 0, 100, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_OK);
    ASSERT_NE(lease, 0u);
    ASSERT_NE(conn, nullptr);
    ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  }
  EXPECT_EQ(o.Count(), 0u);
  EXPECT_EQ(Field(p, "acquired"), 1000);
  connpool_pool_free(p);
}

TEST(CapiAsync, AConnectionDueForValidationIsCheckedOnAPoolThread) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1,"validate_on_acquire":"always"})", true);
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t lease;
  void* conn;
  // The idle connection must be validated, and a factory callback never runs on this thread.
  ASSERT_EQ(connpool_acquire_async(p, 0, 5000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_OK);
  EXPECT_EQ(b.validations.load(), 1);
  EXPECT_NE(b.validate_thread, std::this_thread::get_id());
  EXPECT_NE(o.thread, std::this_thread::get_id());
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

TEST(CapiAsync, ReleaseServesAPendingAcquireOnAnotherThread) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t held, lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire_async(p, 0, 10'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(Field(p, "waiters"), 1);
  EXPECT_EQ(o.Count(), 0u);
  ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_OK);
  EXPECT_NE(o.thread, std::this_thread::get_id());
  EXPECT_EQ(Field(p, "waiters"), 0);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
  EXPECT_EQ(o.Count(), 1u);
}

TEST(CapiAsync, TimeoutAndCancelEndAPendingAcquire) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t held, lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire_async(p, 0, 20, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_ETIMEOUT);
  EXPECT_EQ(Field(p, "timeouts"), 1);

  connpool_cancel_t* c = connpool_cancel_new();
  ASSERT_EQ(connpool_acquire_async(p, 0, 60'000, c, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(Field(p, "waiters"), 1);
  auto t0 = std::chrono::steady_clock::now();
  connpool_cancel_trigger(c);
  ASSERT_TRUE(o.WaitFor(2));
  EXPECT_EQ(o.statuses[1], CONNPOOL_ECANCELED);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "the cancel, not the timeout";
  EXPECT_EQ(Field(p, "canceled"), 1);
  EXPECT_EQ(Field(p, "waiters"), 0);
  connpool_cancel_free(c);
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
  ExpectBooksBalance(p);
  connpool_pool_free(p);
}

// Blocking and async acquires share one FIFO per priority: served in arrival order, and a
// higher priority first.
TEST(CapiAsync, OneFifoForBothKinds) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t held, lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  auto blocking = [&](const char* name, int priority) {
    return std::thread([&o, p, name, priority] {
      connpool_lease_t l;
      ASSERT_EQ(connpool_acquire_priority(p, priority, 30'000, &l, nullptr), CONNPOOL_OK);
      {
        std::lock_guard<std::mutex> lk(o.mu);
        o.order.push_back(name);
        o.statuses.push_back(CONNPOOL_OK);
      }
      EXPECT_EQ(connpool_release(p, l), CONNPOOL_OK);
      {
        std::lock_guard<std::mutex> lk(o.mu);
        ++o.finished;
      }
      o.cv.notify_all();
    });
  };
  std::thread first = blocking("blocking-1", 0);
  ASSERT_TRUE(WaitForWaiters(p, 1));
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  std::thread second = blocking("blocking-2", 0);
  ASSERT_TRUE(WaitForWaiters(p, 3));
  std::thread urgent = blocking("urgent", 5);
  ASSERT_TRUE(WaitForWaiters(p, 4));
  ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(4));
  first.join();
  second.join();
  urgent.join();
  EXPECT_EQ(o.order, (std::vector<std::string>{"urgent", "blocking-1", "async", "blocking-2"}));
  ExpectBooksBalance(p);
  connpool_pool_free(p);
}

TEST(CapiAsync, DrainAndFreeCallEveryPendingCallbackBeforeReturning) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t held, lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(connpool_acquire_async(p, 0, 60'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(connpool_pool_drain(p, 0), CONNPOOL_ETIMEOUT);  // the held lease is still out
  EXPECT_EQ(o.Count(), 5u) << "drain returned before every pending callback ran";
  for (int st : o.statuses) EXPECT_EQ(st, CONNPOOL_ECLOSED);
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);
  connpool_pool_free(p);

  Backend b2;
  connpool_pool_t* p2 = NewPool(&b2, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p2, 5000), CONNPOOL_OK);
  Outcomes o2;
  o2.pool = p2;
  ASSERT_EQ(connpool_acquire(p2, 1000, &held, nullptr), CONNPOOL_OK);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(connpool_acquire_async(p2, 0, 60'000, nullptr, OnAcquired, &o2, &lease, &conn), CONNPOOL_PENDING);
  connpool_pool_free(p2);  // with a lease out: the pool lives on until it comes back
  EXPECT_EQ(o2.Count(), 5u) << "free returned before every pending callback ran";
  for (int st : o2.statuses) EXPECT_EQ(st, CONNPOOL_ECLOSED);
  EXPECT_EQ(connpool_release(p2, held), CONNPOOL_OK);  // the last lease: the pool goes
  EXPECT_EQ(b2.created.load(), b2.destroyed.load());
}

TEST(CapiAsync, TheUnavailableCutoffEndsPendingAcquires) {
  Backend b;
  b.create_rc = CONNPOOL_FACTORY_RETRY;
  connpool_pool_t* p = NewPool(
      &b, R"({"max_size":1,"min_idle":1,"startup_retry":200,"retry_initial_ms":10,"retry_max_ms":20})");
  Outcomes o;
  o.pool = p;
  connpool_lease_t lease;
  void* conn;
  int rc = connpool_acquire_async(p, 0, 60'000, nullptr, OnAcquired, &o, &lease, &conn);
  ASSERT_TRUE(rc == CONNPOOL_PENDING || rc == CONNPOOL_EUNAVAILABLE) << connpool_errname(rc);
  if (rc == CONNPOOL_PENDING) {
    ASSERT_TRUE(o.WaitFor(1));
    EXPECT_EQ(o.statuses[0], CONNPOOL_EUNAVAILABLE);
  }
  EXPECT_EQ(connpool_acquire_async(p, 0, 60'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_EUNAVAILABLE);
  EXPECT_EQ(o.Count(), rc == CONNPOOL_PENDING ? 1u : 0u);
  connpool_pool_free(p);
}

size_t ThreadCount() {
  size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

// 10,000 pending acquires cost no thread each, and when each callback releases its lease (which
// serves the next one) the callbacks run one after another, never nested in each other.
TEST(CapiAsync, TenThousandPendingUseNoThreadsAndNeverNest) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  connpool_lease_t held, lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  // The dispatcher starts with the first pending acquire; count from there.
  ASSERT_EQ(connpool_acquire_async(p, 0, 120'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  const size_t threads = ThreadCount();
  constexpr int kPending = 10'000;
  for (int i = 1; i < kPending; ++i)
    ASSERT_EQ(connpool_acquire_async(p, 0, 120'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(Field(p, "waiters"), kPending);
  EXPECT_EQ(ThreadCount(), threads);
  g_max_depth = 0;
  ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(kPending));
  EXPECT_EQ(g_max_depth.load(), 1) << "a callback ran inside another callback's stack";
  for (int st : o.statuses) ASSERT_EQ(st, CONNPOOL_OK);
  EXPECT_EQ(Field(p, "waiters"), 0);
  EXPECT_EQ(Field(p, "in_use"), 0);
  EXPECT_EQ(ThreadCount(), threads);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

// A cancel racing a hand-off: each acquire is called back once, with the connection (then
// released) or ECANCELED (then the connection went to idle); none is lost or doubled.
TEST(CapiAsync, CancelRacingAHandOffLosesNothing) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  constexpr int kRounds = 300;
  for (int r = 0; r < kRounds; ++r) {
    connpool_lease_t held, lease;
    void* conn;
    ASSERT_EQ(connpool_acquire(p, 5000, &held, nullptr), CONNPOOL_OK);
    connpool_cancel_t* c = connpool_cancel_new();
    ASSERT_EQ(connpool_acquire_async(p, 0, 60'000, c, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
    std::thread canceler([c] { connpool_cancel_trigger(c); });
    ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);
    canceler.join();
    ASSERT_TRUE(o.WaitFor(static_cast<size_t>(r) + 1));
    connpool_cancel_free(c);  // the callback has run: the token is no longer in use
  }
  EXPECT_EQ(o.Count(), static_cast<size_t>(kRounds));
  int served = 0, canceled = 0;
  for (int st : o.statuses) {
    if (st == CONNPOOL_OK) ++served;
    else if (st == CONNPOOL_ECANCELED) ++canceled;
    else ADD_FAILURE() << connpool_errname(st);
  }
  EXPECT_EQ(served + canceled, kRounds);
  EXPECT_EQ(Field(p, "canceled"), canceled);
  EXPECT_EQ(Field(p, "in_use"), 0);
  EXPECT_EQ(Field(p, "total"), 1);
  ExpectBooksBalance(p);
  std::printf("hand-off won %d, cancel won %d of %d\n", served, canceled, kRounds);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

// Shared connections (max_leases_per_conn > 1): a share with room or an idle connection is
// served at once; beyond that, pending acquires queue in the same FIFO, and a share given back
// (or a new connection) serves them through the dispatcher, as for one-lease connections.
TEST(CapiAsync, SharedConnectionPoolsServeSharesAtOnceAndQueueTheRest) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":1,"min_idle":1,"max_leases_per_conn":3})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  o.release = false;
  std::vector<connpool_lease_t> shares;
  void* first_conn = nullptr;
  for (int i = 0; i < 3; ++i) {
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    ASSERT_EQ(connpool_acquire_async(p, 0, 1000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_OK) << i;
    if (first_conn == nullptr) first_conn = conn;
    EXPECT_EQ(conn, first_conn) << "every share is of the one connection";
    shares.push_back(lease);
  }
  EXPECT_EQ(Field(p, "in_use"), 3);
  // Full: the next two wait, a blocking acquire times out behind them (FIFO, shared max_waiters).
  connpool_lease_t lease = 0;
  void* conn = nullptr;
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  connpool_cancel_t* c = connpool_cancel_new();
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, c, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  EXPECT_EQ(Field(p, "waiters"), 2);
  connpool_cancel_trigger(c);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_ECANCELED);
  EXPECT_EQ(Field(p, "waiters"), 1);
  // A share given back serves the first pending acquire with a share of the same connection.
  EXPECT_EQ(connpool_release(p, shares[0]), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(2));
  EXPECT_EQ(o.statuses[1], CONNPOOL_OK);
  EXPECT_NE(o.thread, std::this_thread::get_id());
  EXPECT_EQ(Field(p, "in_use"), 3);
  EXPECT_EQ(Field(p, "total"), 1);
  // A timeout while full.
  ASSERT_EQ(connpool_acquire_async(p, 0, 20, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  ASSERT_TRUE(o.WaitFor(3));
  EXPECT_EQ(o.statuses[2], CONNPOOL_ETIMEOUT);
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  for (size_t i = 1; i < shares.size(); ++i) EXPECT_EQ(connpool_release(p, shares[i]), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(4));
  EXPECT_EQ(o.statuses[3], CONNPOOL_OK);
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_OK)
      << "a share with room again (2 of 3 out)";
  const connpool_lease_t extra = lease;
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  std::vector<connpool_lease_t> kept;
  {
    std::lock_guard<std::mutex> lk(o.mu);
    kept = o.kept;
  }
  ASSERT_EQ(kept.size(), 2u);
  for (connpool_lease_t k : kept) EXPECT_EQ(connpool_release(p, k), CONNPOOL_OK);
  ASSERT_TRUE(o.WaitFor(5));
  EXPECT_EQ(o.statuses[4], CONNPOOL_OK);
  EXPECT_EQ(Field(p, "in_use"), 2);
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_OK);
  const connpool_lease_t extra2 = lease;
  // Pending at free: called back with ECLOSED before free returns.
  ASSERT_EQ(connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  connpool_pool_free(p);
  EXPECT_EQ(o.Count(), 6u);
  EXPECT_EQ(o.statuses[5], CONNPOOL_ECLOSED);
  // Shares out at free stay valid; the connection is destroyed when the last comes back.
  for (connpool_lease_t k : {extra, extra2, o.kept.back()}) EXPECT_EQ(connpool_release(p, k), CONNPOOL_OK);
  connpool_cancel_free(c);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
  EXPECT_EQ(b.created.load(), 1);
}

// A shared pool's idle connection that is due for validation is checked on the dispatcher, then
// shared: the acquire is pending, never validated on the caller's stack.
TEST(CapiAsync, SharedConnectionPoolsCheckAnIdleConnectionOffTheCallersStack) {
  Backend b;
  connpool_pool_t* p =
      NewPool(&b, R"({"max_size":1,"min_idle":1,"max_leases_per_conn":2,"validate_on_acquire":"always"})", true);
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;
  o.release = false;
  connpool_lease_t lease = 0;
  void* conn = nullptr;
  ASSERT_EQ(connpool_acquire_async(p, 0, 5000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_PENDING);
  ASSERT_TRUE(o.WaitFor(1));
  EXPECT_EQ(o.statuses[0], CONNPOOL_OK);
  EXPECT_EQ(b.validations.load(), 1);
  EXPECT_NE(b.validate_thread, std::this_thread::get_id());
  // The second share needs no check: the connection is out already.
  ASSERT_EQ(connpool_acquire_async(p, 0, 5000, nullptr, OnAcquired, &o, &lease, &conn), CONNPOOL_OK);
  EXPECT_EQ(Field(p, "in_use"), 2);
  EXPECT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(p, o.kept[0]), CONNPOOL_OK);
  EXPECT_EQ(Field(p, "in_use"), 0);
  ExpectBooksBalance(p);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

// Many shares coming and going while asynchronous acquires wait: every pending acquire is called
// back once, and the books balance.
TEST(CapiAsync, SharedConnectionPoolsUnderChurnLoseNothing) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, R"({"max_size":2,"min_idle":2,"max_leases_per_conn":2})");
  ASSERT_EQ(connpool_pool_wait_ready(p, 5000), CONNPOOL_OK);
  Outcomes o;
  o.pool = p;  // each OK callback releases its share at once
  constexpr int kAsync = 2000;
  int inline_served = 0;
  std::thread blocking([p] {
    for (int i = 0; i < 2000; ++i) {
      connpool_lease_t l;
      if (connpool_acquire(p, 30'000, &l, nullptr) == CONNPOOL_OK) connpool_release(p, l);
    }
  });
  for (int i = 0; i < kAsync; ++i) {
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    int rc = connpool_acquire_async(p, 0, 30'000, nullptr, OnAcquired, &o, &lease, &conn);
    if (rc == CONNPOOL_OK) {
      ++inline_served;
      EXPECT_EQ(connpool_release(p, lease), CONNPOOL_OK);
    } else {
      ASSERT_EQ(rc, CONNPOOL_PENDING);
    }
  }
  blocking.join();
  ASSERT_TRUE(o.WaitFor(static_cast<size_t>(kAsync - inline_served)));
  for (int st : o.statuses) EXPECT_EQ(st, CONNPOOL_OK);
  EXPECT_EQ(Field(p, "in_use"), 0);
  EXPECT_EQ(Field(p, "waiters"), 0);
  ExpectBooksBalance(p);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

}  // namespace
