// Stalled factory callbacks against the core on a FakeClock: which deadlines still hold while
// a callback hangs, who is blocked behind it, and what Close() (connpool_pool_free) does.
//
// Where callbacks run (core/pool.h): create on the connector threads, except for an acquire
// with timeout 0 which creates on its own thread; validate on the acquiring thread (and on
// the maintenance thread for keepalive); reset on the releasing thread; destroy wherever the
// connection is retired. A callback that never returns therefore blocks exactly the thread it
// runs on. These tests pin that down, including the cases where an acquire timeout cannot
// hold (validate on the acquire path, and the create of an acquire with timeout 0).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "clock.h"
#include "faults/fault_backend.h"
#include "pool.h"

namespace connpool_faults {
namespace {

using connpool::Config;
using connpool::Health;
using connpool::Pool;
using connpool::Status;

class CoreFaults : public ::testing::Test {
 protected:
  void TearDown() override {
    b_.create_latch.Open();
    b_.validate_latch.Open();
    b_.reset_latch.Open();
    b_.destroy_latch.Open();
    if (pool_ != nullptr) pool_->Close();
    pool_ = nullptr;
    EXPECT_EQ(b_.creates.load(), b_.destroys.load()) << "connections leaked";
    EXPECT_EQ(b_.live(), 0);
    EXPECT_EQ(b_.ctx_frees.load(), 1) << "the factory is freed exactly once";
  }

  Pool* Make(Config cfg, bool maintenance_thread = false) {
    connpool::PoolOptions opts;
    opts.clock = &clock_;
    opts.maintenance_thread = maintenance_thread;
    opts.seed = 7;
    std::string err;
    EXPECT_EQ(Pool::Create(cfg, std::make_unique<FaultFactory>(&b_), opts, &pool_, &err), Status::kOK) << err;
    return pool_;
  }

  static Config Small(int64_t max_size) {
    Config c;
    c.max_size = max_size;
    c.acquire_timeout_ms = 1000;
    c.retry_initial_ms = 100;
    c.retry_max_ms = 1000;
    c.retry_jitter = 0;
    c.validate_on_acquire = static_cast<int64_t>(connpool::ValidateMode::kAlways);
    return c;
  }

  // Fills the pool with `n` idle connections (acquired together, then released).
  void Warm(int n) {
    std::vector<uint64_t> leases;
    for (int i = 0; i < n; ++i) {
      uint64_t l;
      void* c;
      ASSERT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kOK);
      leases.push_back(l);
    }
    for (uint64_t l : leases) ASSERT_EQ(pool_->Release(l, false), Status::kOK);
  }

  // The startup probe is done and nothing is being created.
  bool Settled() {
    return Eventually([&] { return pool_->state() != Health::kStarting && pool_->Snapshot().creating == 0; });
  }

  connpool::FakeClock clock_;
  FaultBackend b_;
  Pool* pool_ = nullptr;
};

// An acquire runs validate on its own thread, after it has claimed the connection and
// without looking at its deadline: a validate that hangs holds that acquire past its timeout
// (current behaviour, pinned here). Nobody else waits for it: other callers are served and
// stats are answered meanwhile.
TEST_F(CoreFaults, StalledValidateHoldsItsAcquirerPastItsTimeoutButBlocksNobodyElse) {
  Make(Small(3));
  ASSERT_TRUE(Settled());
  Warm(1);
  b_.validate_latch.Close();
  Status st = Status::kEINTERNAL;
  std::atomic<bool> returned{false};
  std::thread acquirer([&] {
    uint64_t l;
    void* c;
    st = pool_->Acquire(0, /*timeout_ms=*/100, &l, &c);
    returned = true;
    if (st == Status::kOK) pool_->Release(l, false);
  });
  ASSERT_TRUE(b_.validate_latch.WaitParked(1));
  clock_.AdvanceMs(10'000);  // far past the acquirer's 100 ms

  // Others are not blocked: an acquire that must create gets a fresh connection (not
  // validated), stats are answered.
  uint64_t l2;
  void* c2;
  ASSERT_EQ(pool_->Acquire(0, 0, &l2, &c2), Status::kOK);
  connpool::StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.in_use, 2u);
  EXPECT_FALSE(returned.load()) << "the stalled acquirer is inside validate";

  b_.validate_latch.Open();
  acquirer.join();
  EXPECT_EQ(st, Status::kOK) << "returned a lease 10 s after a 100 ms timeout: the timeout does not bound validate";
  EXPECT_EQ(pool_->Release(l2, false), Status::kOK);
}

// A release runs reset on its own thread. While reset hangs the connection is neither idle nor
// lent, so a waiter does not get it, but the waiter's timeout holds: it is not blocked behind
// the reset.
TEST_F(CoreFaults, StalledResetBlocksOnlyTheReleaserAndWaitersStillTimeOut) {
  Make(Small(1));
  ASSERT_TRUE(Settled());
  uint64_t held;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &held, &c), Status::kOK);

  Status waited = Status::kEINTERNAL;
  std::thread waiter([&] {
    uint64_t l;
    void* cc;
    waited = pool_->Acquire(0, 100, &l, &cc);
    if (waited == Status::kOK) pool_->Release(l, false);
  });
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().waiters == 1; }));

  b_.reset_latch.Close();
  std::atomic<bool> released{false};
  std::thread releaser([&] {
    EXPECT_EQ(pool_->Release(held, false), Status::kOK);
    released = true;
  });
  ASSERT_TRUE(b_.reset_latch.WaitParked(1));
  clock_.AdvanceMs(200);
  waiter.join();
  EXPECT_EQ(waited, Status::kETIMEOUT) << "the waiter's deadline holds while reset hangs";
  EXPECT_FALSE(released.load());

  b_.reset_latch.Open();
  releaser.join();
  EXPECT_TRUE(released.load());
  uint64_t l;
  ASSERT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kOK) << "the reset connection is idle again";
  EXPECT_EQ(pool_->Release(l, false), Status::kOK);
}

// A create on a connector thread never holds up a waiting acquire's deadline.
TEST_F(CoreFaults, StalledConnectorCreateDoesNotHoldUpAcquireTimeouts) {
  b_.create_latch.Close();
  Make(Small(2));
  ASSERT_TRUE(b_.create_latch.WaitParked(1)) << "the startup probe runs on a connector";
  Status results[3];
  std::vector<std::thread> waiters;
  for (Status& r : results)
    waiters.emplace_back([&r, this] {
      uint64_t l;
      void* c;
      r = pool_->Acquire(0, 50, &l, &c);
      if (r == Status::kOK) pool_->Release(l, false);
    });
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().waiters == 3; }));
  clock_.AdvanceMs(60);
  for (std::thread& t : waiters) t.join();
  for (Status r : results) EXPECT_EQ(r, Status::kETIMEOUT);
  EXPECT_EQ(pool_->WaitReady(0), Status::kETIMEOUT);
  b_.create_latch.Open();
  EXPECT_EQ(pool_->WaitReady(-1), Status::kOK);
}

// Timeout 0 means "do not wait", but an acquire that must create runs the create itself (so
// that a failure can be reported as EFACTORY): a create that hangs holds that acquire for as
// long as it hangs (current behaviour, pinned here). An idle connection is still served to
// everybody else meanwhile.
TEST_F(CoreFaults, TimeoutZeroAcquireRunsItsCreateAndWaitsAsLongAsItHangs) {
  Make(Small(3));
  ASSERT_TRUE(Settled());
  Warm(1);
  uint64_t first;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &first, &c), Status::kOK);

  b_.create_latch.Close();
  Status st = Status::kEINTERNAL;
  std::atomic<bool> returned{false};
  std::thread::id creator_thread;
  std::thread creator([&] {
    uint64_t l;
    void* cc;
    st = pool_->Acquire(0, 0, &l, &cc);
    returned = true;
    if (st == Status::kOK) pool_->Release(l, false);
  });
  creator_thread = creator.get_id();
  ASSERT_TRUE(b_.create_latch.WaitParked(1));
  EXPECT_TRUE(b_.create_latch.IsParked(creator_thread)) << "the create runs on the acquiring thread";
  clock_.AdvanceMs(60'000);
  EXPECT_FALSE(returned.load());

  // Not blocked behind it: the held connection, released, is served at once.
  ASSERT_EQ(pool_->Release(first, false), Status::kOK);
  uint64_t again;
  ASSERT_EQ(pool_->Acquire(0, 0, &again, &c), Status::kOK);
  ASSERT_EQ(pool_->Release(again, false), Status::kOK);

  b_.create_latch.Open();
  creator.join();
  EXPECT_EQ(st, Status::kOK);
}

// connpool_pool_free (Close) waits for a keepalive validate running on the maintenance thread
// (the header: "waiting for any create/validate callback already running there to return").
TEST_F(CoreFaults, CloseWaitsForAKeepaliveValidateOnTheMaintenanceThread) {
  Config cfg = Small(2);
  cfg.validate_interval_ms = 100;
  cfg.maintenance_interval_ms = 100;
  Make(cfg, /*maintenance_thread=*/true);
  ASSERT_TRUE(Settled());
  Warm(1);
  b_.validate_latch.Close();
  clock_.AdvanceMs(500);
  ASSERT_TRUE(b_.validate_latch.WaitParked(1));

  Pool* p = pool_;
  pool_ = nullptr;
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    p->Close();
    closed = true;
  });
  ASSERT_TRUE(Eventually([&] { return p->state() == Health::kDraining || p->state() == Health::kClosed; }));
  EXPECT_FALSE(closed.load()) << "Close() joins the maintenance thread, which is inside validate";
  EXPECT_EQ(b_.ctx_frees.load(), 0);
  b_.validate_latch.Open();
  closer.join();
  EXPECT_EQ(b_.ctx_frees.load(), 1);
}

// Close() while a release is inside reset: Close returns (it does not wait for callbacks on
// user threads), the pool stays alive for that lease, and the release then destroys the
// connection, returns OK and frees the pool.
TEST_F(CoreFaults, CloseDuringAStalledResetFreesThePoolWhenTheReleaseEnds) {
  Make(Small(2));
  ASSERT_TRUE(Settled());
  uint64_t held;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &held, &c), Status::kOK);
  b_.reset_latch.Close();
  Status released = Status::kEINTERNAL;
  Pool* p = pool_;
  std::thread releaser([&] { released = p->Release(held, false); });
  ASSERT_TRUE(b_.reset_latch.WaitParked(1));
  pool_ = nullptr;
  p->Close();
  EXPECT_EQ(b_.ctx_frees.load(), 0) << "a lease is still being returned";
  b_.reset_latch.Open();
  releaser.join();
  EXPECT_EQ(released, Status::kOK);
  EXPECT_EQ(b_.ctx_frees.load(), 1);
}

// Close() while an acquire is inside validate (the acquire began before Close): the pool must
// stay alive until that acquire has returned, which should then be ECLOSED with the
// connection destroyed. Under AddressSanitizer this shows whether the acquire touches the pool
// after the retirement that freed it.
TEST_F(CoreFaults, CloseDuringAStalledValidateOnTheAcquirePath) {
  Make(Small(2));
  ASSERT_TRUE(Settled());
  Warm(1);
  b_.validate_latch.Close();
  Status st = Status::kEINTERNAL;
  Pool* p = pool_;
  std::thread acquirer([&] {
    uint64_t l;
    void* cc;
    st = p->Acquire(0, 1000, &l, &cc);
    if (st == Status::kOK) p->Release(l, false);
  });
  ASSERT_TRUE(b_.validate_latch.WaitParked(1));
  pool_ = nullptr;
  p->Close();  // returns: the acquirer's validate runs on the acquirer's thread
  b_.validate_latch.Open();
  acquirer.join();
  EXPECT_EQ(st, Status::kECLOSED);
  EXPECT_EQ(b_.ctx_frees.load(), 1);
}

}  // namespace
}  // namespace connpool_faults
