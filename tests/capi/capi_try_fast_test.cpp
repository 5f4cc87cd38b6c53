// SPDX-License-Identifier: Apache-2.0
// connpool_try_acquire_fast, connpool_acquire_claimed and connpool_try_release_fast: what
// they take and give back by one CAS, everything they decline (and that declining changes and
// counts nothing), claims finished on the ordinary path, and no hand-off lost when tries and
// ordinary calls mix across threads.
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "../common/eventually.h"

namespace {

using connpool_test::Eventually;  // tests/common/eventually.h

struct Conn {
  std::atomic<int> holders{0};  // leases on it now: more than 1 is a doubled connection
};

struct Backend {
  std::atomic<int> created{0}, destroyed{0}, validated{0}, resets{0};
  std::atomic<int> validate_rc{0};
};

int Create(void* ctx, void** out, char*, size_t) {
  *out = new Conn;
  static_cast<Backend*>(ctx)->created++;
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void* ctx, void* conn) {
  static_cast<Backend*>(ctx)->destroyed++;
  delete static_cast<Conn*>(conn);
}
int Validate(void* ctx, void*) {
  auto* b = static_cast<Backend*>(ctx);
  const int rc = b->validate_rc.load();  // before counting: a test changes it once counted
  b->validated++;
  return rc;
}
int Reset(void* ctx, void*) {
  static_cast<Backend*>(ctx)->resets++;
  return 0;
}

long long Stat(connpool_pool_t* p, const char* key);

// A pool of `size` connections, all idle before it is returned.
connpool_pool_t* NewPool(Backend* b, int size, const std::string& extra = "", bool with_reset = false) {
  const std::string json = "{\"max_size\": " + std::to_string(size) + ", \"min_idle\": " + std::to_string(size) +
                           ", \"validate_on_acquire\": \"never\", \"reset_on_release\": false" + extra + "}";
  connpool_config_t* cfg = nullptr;
  char err[256] = "";
  EXPECT_EQ(connpool_config_from_json(json.c_str(), &cfg, err, sizeof err), CONNPOOL_OK) << err;
  connpool_factory_t* f = connpool_factory_new(b, nullptr, Create, Destroy);
  connpool_factory_set_validate(f, Validate);
  if (with_reset) connpool_factory_set_reset(f, Reset);
  connpool_pool_t* p = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, f, &p, err, sizeof err), CONNPOOL_OK) << err;
  connpool_config_free(cfg);
  EXPECT_EQ(connpool_pool_wait_ready(p, 10000), CONNPOOL_OK);
  // min_idle filled by the connectors, every create recorded (not only returned: a create still
  // in flight would be finished, or destroyed by a drain, later on a connector thread).
  EXPECT_TRUE(Eventually([&] { return Stat(p, "idle") >= size; })) << "min_idle never filled";
  return p;
}

// The first number after "key": in the stats JSON (every key used here occurs once).
long long Stat(connpool_pool_t* p, const char* key) {
  char* s = connpool_pool_stats_json(p);
  const std::string json = s != nullptr ? s : "";
  connpool_free(s);
  const std::string k = std::string("\"") + key + "\":";
  const size_t at = json.find(k);
  EXPECT_NE(at, std::string::npos) << key << " in " << json;
  return at == std::string::npos ? -1 : std::strtoll(json.c_str() + at + k.size(), nullptr, 10);
}

// Releases as the C# binding does: the try first, the ordinary call if it declines.
void GiveBack(connpool_pool_t* p, connpool_lease_t lease) {
  const int rc = connpool_try_release_fast(p, lease);
  if (rc != CONNPOOL_OK) {
    ASSERT_EQ(rc, CONNPOOL_ETIMEOUT);
    ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  }
}

}  // namespace

TEST(CapiTryFast, ClaimsAndGivesBackByOneCas) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 2);
  constexpr int kCycles = 1000;
  int given_back_fast = 0;
  for (int i = 0; i < kCycles; ++i) {
    connpool_lease_t lease = 0;
    void* conn = nullptr;
    ASSERT_EQ(connpool_try_acquire_fast(p, 0, &lease, &conn), CONNPOOL_OK);
    ASSERT_NE(lease, 0u);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(Stat(p, "in_use"), 1);
    const int rc = connpool_try_release_fast(p, lease);
    // A thread's first 16 leases per coarse tick are timed precisely, and their release is
    // left to connpool_release, which records the hold.
    if (rc == CONNPOOL_OK) {
      ++given_back_fast;
    } else {
      ASSERT_EQ(rc, CONNPOOL_ETIMEOUT);
      ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
    }
  }
  EXPECT_GT(given_back_fast, 0);
  EXPECT_EQ(Stat(p, "in_use"), 0);
  EXPECT_EQ(Stat(p, "idle"), 2);
  EXPECT_EQ(Stat(p, "acquired"), kCycles);
  EXPECT_EQ(Stat(p, "stale_releases"), 0);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

TEST(CapiTryFast, ConnOutMayBeNullAndNullsAreInvalid) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t lease = 7;
  void* conn = &b;
  EXPECT_EQ(connpool_try_acquire_fast(nullptr, 0, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(connpool_try_acquire_fast(p, 0, nullptr, nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_try_release_fast(nullptr, 1), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_acquire_claimed(nullptr, 0, 0, 1, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_acquire_claimed(p, 0, 0, 1, nullptr, nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(Stat(p, "in_use"), 0) << "nothing claimed by a refused call";
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &lease, nullptr), CONNPOOL_OK);
  GiveBack(p, lease);
  connpool_pool_free(p);
}

TEST(CapiTryFast, StaleAndDoubleReleasesAreDeclinedAndLeftToRelease) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t lease = 0;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &lease, nullptr), CONNPOOL_OK);
  GiveBack(p, lease);
  // Released already, forged, or 0: declined without counting; connpool_release says ESTALE.
  for (connpool_lease_t stale : {lease, lease + 1, lease ^ (connpool_lease_t{1} << 40), connpool_lease_t{0}}) {
    EXPECT_EQ(connpool_try_release_fast(p, stale), CONNPOOL_ETIMEOUT) << stale;
  }
  EXPECT_EQ(Stat(p, "stale_releases"), 0);
  EXPECT_EQ(connpool_release(p, lease), CONNPOOL_ESTALE);
  EXPECT_EQ(Stat(p, "stale_releases"), 1);
  // A lease of another pool never matches.
  Backend b2;
  connpool_pool_t* other = NewPool(&b2, 1);
  connpool_lease_t theirs = 0;
  ASSERT_EQ(connpool_acquire(other, 1000, &theirs, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_try_release_fast(p, theirs), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(Stat(other, "in_use"), 1);
  GiveBack(other, theirs);
  EXPECT_EQ(Stat(p, "idle"), 1);
  connpool_pool_free(other);
  connpool_pool_free(p);
}

TEST(CapiTryFast, NothingIdleIsDeclinedWithoutCountingATimeout) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t held = 0, lease = 5;
  ASSERT_EQ(connpool_acquire(p, 1000, &held, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_try_acquire_fast(p, 0, &lease, nullptr), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(Stat(p, "timeouts"), 0);
  EXPECT_EQ(Stat(p, "acquired"), 1);
  ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);
  connpool_pool_free(p);
}

TEST(CapiTryFast, DrainingPoolIsLeftToTheOrdinaryCalls) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 2);
  connpool_lease_t out = 0, lease = 0;
  ASSERT_EQ(connpool_acquire(p, 1000, &out, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_drain(p, 0), CONNPOOL_ETIMEOUT);  // one lease still out
  EXPECT_EQ(connpool_try_acquire_fast(p, 0, &lease, nullptr), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(Stat(p, "closed_rejected"), 0);
  EXPECT_EQ(connpool_acquire(p, 0, &lease, nullptr), CONNPOOL_ECLOSED);
  EXPECT_EQ(Stat(p, "closed_rejected"), 1);
  // The lease out is marked closing: its give-back destroys the connection, so it is declined.
  EXPECT_EQ(connpool_try_release_fast(p, out), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(Stat(p, "in_use"), 1);
  EXPECT_EQ(connpool_release(p, out), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_state(p), CONNPOOL_STATE_CLOSED);
  EXPECT_EQ(b.destroyed.load(), 2);
  connpool_pool_free(p);
}

TEST(CapiTryFast, FreedPoolWithALeaseOutStillTakesItBack) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t out = 0;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &out, nullptr), CONNPOOL_OK);
  connpool_pool_free(p);  // stays alive internally until `out` is back
  EXPECT_EQ(connpool_try_release_fast(p, out), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(connpool_release(p, out), CONNPOOL_OK);  // the last lease: frees the pool
  EXPECT_EQ(b.destroyed.load(), 1);
}

TEST(CapiTryFast, QueuedWaiterGetsTheConnectionByHandOff) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t held = 0;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &held, nullptr), CONNPOOL_OK);
  std::atomic<int> waiter_rc{-1};
  std::thread waiter([&] {
    connpool_lease_t lease = 0;
    waiter_rc = connpool_acquire(p, 30000, &lease, nullptr);
    if (waiter_rc == CONNPOOL_OK) {
      EXPECT_EQ(connpool_release(p, lease), CONNPOOL_OK);
    }
  });
  EXPECT_TRUE(Eventually([&] { return Stat(p, "waiters") == 1; })) << "never queued";
  EXPECT_EQ(connpool_try_release_fast(p, held), CONNPOOL_ETIMEOUT) << "a waiter is queued";
  EXPECT_EQ(Stat(p, "in_use"), 1) << "declined: the lease is still out";
  EXPECT_EQ(connpool_release(p, held), CONNPOOL_OK);  // hands it to the waiter
  waiter.join();
  EXPECT_EQ(waiter_rc.load(), CONNPOOL_OK);
  EXPECT_EQ(Stat(p, "acquired"), 2);
  connpool_pool_free(p);
}

// The case the waiters' count is for: a hand-off clears the slot's kWanted mark, so the
// connection handed to the first waiter comes back unmarked while a second one still waits.
TEST(CapiTryFast, WaiterQueuedBehindAHandOffIsNotSkipped) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1);
  connpool_lease_t held = 0;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &held, nullptr), CONNPOOL_OK);
  std::atomic<connpool_lease_t> first{0}, second{0};
  auto wait_for = [&](std::atomic<connpool_lease_t>* out) {
    connpool_lease_t lease = 0;
    EXPECT_EQ(connpool_acquire(p, 30000, &lease, nullptr), CONNPOOL_OK);
    out->store(lease);
  };
  std::thread w1(wait_for, &first);
  EXPECT_TRUE(Eventually([&] { return Stat(p, "waiters") == 1; })) << "never queued";
  std::thread w2(wait_for, &second);  // queued behind w1 (FIFO)
  EXPECT_TRUE(Eventually([&] { return Stat(p, "waiters") == 2; })) << "never queued";
  ASSERT_EQ(connpool_release(p, held), CONNPOOL_OK);  // hands it to w1
  w1.join();
  ASSERT_NE(first.load(), 0u);
  EXPECT_EQ(Stat(p, "waiters"), 1);
  EXPECT_EQ(connpool_try_release_fast(p, first.load()), CONNPOOL_ETIMEOUT) << "w2 would be skipped";
  ASSERT_EQ(connpool_release(p, first.load()), CONNPOOL_OK);  // hands it to w2
  w2.join();
  ASSERT_NE(second.load(), 0u);
  GiveBack(p, second.load());
  EXPECT_EQ(Stat(p, "acquired"), 3);
  connpool_pool_free(p);
}

TEST(CapiTryFast, ResetIsLeftToRelease) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1, ", \"reset_on_release\": true", /*with_reset=*/true);
  for (int i = 0; i < 100; ++i) {
    connpool_lease_t lease = 0;
    ASSERT_EQ(connpool_try_acquire_fast(p, 0, &lease, nullptr), CONNPOOL_OK);
    EXPECT_EQ(connpool_try_release_fast(p, lease), CONNPOOL_ETIMEOUT);
    ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  }
  EXPECT_EQ(b.resets.load(), 100);
  connpool_pool_free(p);
}

TEST(CapiTryFast, DueValidationIsAClaimThatAcquireClaimedFinishes) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1, ", \"validate_on_acquire\": \"always\"");
  connpool_lease_t claim = 0, lease = 0;
  void* conn = &b;
  ASSERT_EQ(connpool_try_acquire_fast(p, 3, &claim, &conn), CONNPOOL_PENDING);
  EXPECT_NE(claim, 0u);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(b.validated.load(), 0) << "the try never calls the factory";
  EXPECT_EQ(Stat(p, "in_use"), 1) << "a claim counts as a lease out";
  ASSERT_EQ(connpool_acquire_claimed(p, 3, 1000, claim, &lease, &conn), CONNPOOL_OK);
  EXPECT_EQ(lease, claim);
  EXPECT_NE(conn, nullptr);
  EXPECT_EQ(b.validated.load(), 1);
  // Finished once: the same claim again, or an ordinary lease, is not a claim.
  connpool_lease_t again = 0;
  EXPECT_EQ(connpool_acquire_claimed(p, 3, 1000, claim, &again, nullptr), CONNPOOL_ESTALE);
  EXPECT_EQ(again, 0u);
  EXPECT_EQ(b.validated.load(), 1);
  ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  EXPECT_EQ(connpool_acquire_claimed(p, 0, 1000, lease, &again, nullptr), CONNPOOL_ESTALE) << "released";
  ASSERT_EQ(connpool_acquire(p, 1000, &lease, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_acquire_claimed(p, 0, 1000, lease, &again, nullptr), CONNPOOL_ESTALE) << "a lease";
  ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  EXPECT_EQ(Stat(p, "acquired"), 2);
  connpool_pool_free(p);
}

TEST(CapiTryFast, ClaimFailingItsValidationGoesOnToAnotherConnection) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1, ", \"validate_on_acquire\": \"always\"");
  connpool_lease_t claim = 0, lease = 0;
  void* conn = nullptr;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &claim, nullptr), CONNPOOL_PENDING);
  b.validate_rc = 1;  // broken: retired, and the acquire waits for a replacement
  std::thread heal([&] {
    while (b.validated.load() == 0) std::this_thread::yield();
    b.validate_rc = 0;
  });
  ASSERT_EQ(connpool_acquire_claimed(p, 0, 10000, claim, &lease, &conn), CONNPOOL_OK);
  heal.join();
  EXPECT_NE(lease, claim);
  EXPECT_NE(conn, nullptr);
  EXPECT_GE(Stat(p, "validation_failures"), 1);
  EXPECT_GE(b.destroyed.load(), 1);
  ASSERT_EQ(connpool_release(p, lease), CONNPOOL_OK);
  EXPECT_EQ(Stat(p, "in_use"), 0);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

TEST(CapiTryFast, ClaimGivenBackBrokenIsNotLeaked) {
  Backend b;
  connpool_pool_t* p = NewPool(&b, 1, ", \"validate_on_acquire\": \"always\"");
  connpool_lease_t claim = 0;
  ASSERT_EQ(connpool_try_acquire_fast(p, 0, &claim, nullptr), CONNPOOL_PENDING);
  ASSERT_EQ(connpool_release_broken(p, claim), CONNPOOL_OK);
  EXPECT_EQ(Stat(p, "in_use"), 0);
  connpool_lease_t again = 0;
  EXPECT_EQ(connpool_acquire_claimed(p, 0, 1000, claim, &again, nullptr), CONNPOOL_ESTALE);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}

// Threads mixing tries and ordinary calls on a pool with fewer connections than threads: a
// release that slipped past a queued waiter would leave it waiting out its 20 s timeout, and
// a connection handed to two callers would show two holders.
TEST(CapiTryFast, NoHandOffLostOrDoubledAcrossThreads) {
  Backend b;
  constexpr int kSize = 1, kThreads = 6, kCycles = 5000;
  connpool_pool_t* p = NewPool(&b, kSize);
  std::atomic<int> failures{0}, doubled{0}, pending{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCycles; ++i) {
        connpool_lease_t lease = 0;
        void* conn = nullptr;
        int rc = (i + t) % 3 == 0 ? CONNPOOL_ETIMEOUT : connpool_try_acquire_fast(p, 0, &lease, &conn);
        if (rc == CONNPOOL_PENDING) {
          pending++;
          rc = connpool_acquire_claimed(p, 0, 20000, lease, &lease, &conn);
        } else if (rc == CONNPOOL_ETIMEOUT) {
          rc = connpool_acquire(p, 20000, &lease, &conn);
        }
        if (rc != CONNPOOL_OK) {
          failures++;
          continue;
        }
        Conn* c = static_cast<Conn*>(conn);
        if (c->holders.fetch_add(1) != 0) doubled++;
        if (i % 2 == 0) std::this_thread::yield();  // let the others queue
        c->holders.fetch_sub(1);
        // Every release tries first, as the C# binding's do: an ordinary release that saw
        // the waiter would otherwise hand off in its place and hide a lost one.
        if (connpool_try_release_fast(p, lease) != CONNPOOL_OK && connpool_release(p, lease) != CONNPOOL_OK)
          failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(doubled.load(), 0);
  EXPECT_EQ(pending.load(), 0) << "no validation, lifetime or drain: no claim needs finishing";
  EXPECT_EQ(Stat(p, "acquired"), kThreads * kCycles);
  EXPECT_EQ(Stat(p, "in_use"), 0);
  EXPECT_EQ(Stat(p, "idle"), kSize);
  EXPECT_EQ(Stat(p, "waiters"), 0);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
}
