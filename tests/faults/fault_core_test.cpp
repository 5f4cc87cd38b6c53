// SPDX-License-Identifier: Apache-2.0
// Stalled factory callbacks against the core on a FakeClock: which deadlines still hold while
// a callback hangs, who is blocked behind it, and what Close() (connpool_pool_free) does.
//
// Where callbacks run (core/pool/pool.h): create on the connector threads; the callbacks an
// acquire needs itself (validate of the connection it claimed, the create of an acquire with
// timeout 0) on helper threads while the acquire waits with its own deadline; keepalive
// validate on the maintenance thread; reset on the releasing thread; destroy wherever the
// connection is retired. These tests show which deadlines hold while a callback hangs (every
// acquire timeout does), who is blocked (only the thread the callback runs on), and that the
// connection behind a hung callback is neither lost nor handed out twice.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "faults/fault_backend.h"
#include "pool/pool.h"
#include "util/clock.h"

namespace connpool_faults {
namespace {

using connpool::Config;
using connpool::Health;
using connpool::Pool;
using connpool::Status;
using connpool_faults::Fault;

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

// Validate of a claimed connection runs on a helper thread: when it hangs, the acquirer's
// timeout still holds, nobody else waits for it, and the connection is not lost: when the
// validate finally answers "good", the pool takes it back as idle.
TEST_F(CoreFaults, StalledValidateDoesNotHoldItsAcquirerPastItsTimeout) {
  Make(Small(3));
  ASSERT_TRUE(Settled());
  Warm(1);
  b_.validate_latch.Close();
  Status st = Status::kEINTERNAL;
  std::thread acquirer([&] {
    uint64_t l;
    void* c;
    st = pool_->Acquire(0, /*timeout_ms=*/100, &l, &c);
    if (st == Status::kOK) pool_->Release(l, false);
  });
  ASSERT_TRUE(b_.validate_latch.WaitParked(1));
  EXPECT_FALSE(b_.validate_latch.IsParked(acquirer.get_id())) << "validate runs on a pool thread";
  clock_.AdvanceMs(150);  // past the acquirer's 100 ms
  acquirer.join();
  EXPECT_EQ(st, Status::kETIMEOUT) << "the acquire timeout bounds the validate";

  // Others are not blocked: an acquire that must create gets a fresh connection (not
  // validated), stats are answered. The stalled one still counts as in use.
  uint64_t l2;
  void* c2;
  ASSERT_EQ(pool_->Acquire(0, 0, &l2, &c2), Status::kOK);
  connpool::StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.in_use, 2u);
  EXPECT_EQ(s.idle, 0u);
  EXPECT_EQ(s.acquired, 1u + 1u) << "Warm's lease and l2; the abandoned claim is no lease";

  b_.validate_latch.Open();
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().idle == 1; })) << "validated late, kept";
  EXPECT_EQ(pool_->Snapshot().validation_failures, 0u);
  EXPECT_EQ(pool_->Release(l2, false), Status::kOK);
  EXPECT_EQ(b_.destroys.load(), 0);
}

// validation_timeout_ms bounds a validate even for a patient acquire: past it the connection
// counts as failed (destroyed when the callback returns, whatever it says) and the acquire
// goes on to another connection within its own deadline.
TEST_F(CoreFaults, ValidateSlowerThanValidationTimeoutFailsAndTheAcquireMovesOn) {
  Config cfg = Small(3);
  cfg.acquire_timeout_ms = 10'000;
  cfg.validation_timeout_ms = 50;
  Make(cfg);
  ASSERT_TRUE(Settled());
  Warm(1);
  b_.validate_latch.Close();
  Status st = Status::kEINTERNAL;
  uint64_t got = 0;
  std::thread acquirer([&] {
    void* c;
    st = pool_->Acquire(0, -1, &got, &c);
  });
  ASSERT_TRUE(b_.validate_latch.WaitParked(1));
  clock_.AdvanceMs(60);
  acquirer.join();  // a connector creates a fresh connection for it (not validated)
  EXPECT_EQ(st, Status::kOK);
  connpool::StatsSnapshot s = pool_->Snapshot();
  EXPECT_EQ(s.validation_failures, 1u);
  EXPECT_EQ(s.in_use, 2u) << "the new lease and the connection still inside validate";

  b_.validate_latch.Open();  // answers "good", too late: destroyed anyway
  ASSERT_TRUE(Eventually([&] { return b_.destroys.load() == 1; }));
  s = pool_->Snapshot();
  EXPECT_EQ(s.in_use, 1u);
  EXPECT_EQ(s.total, 1u);
  EXPECT_EQ(s.destroyed, 1u);
  EXPECT_EQ(pool_->Release(got, false), Status::kOK);
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

// Timeout 0 means "do not wait for another caller's connection"; an acquire that must create
// has its create run on a helper thread and waits for it at most acquire_timeout_ms. A create
// that hangs past that ends the acquire with ETIMEOUT; when it completes the pool keeps the
// connection. An idle connection is still served to everybody else meanwhile.
TEST_F(CoreFaults, TimeoutZeroAcquireWaitsForItsStalledCreateAtMostAcquireTimeout) {
  Make(Small(3));  // acquire_timeout_ms = 1000
  ASSERT_TRUE(Settled());
  Warm(1);
  uint64_t first;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &first, &c), Status::kOK);

  b_.create_latch.Close();
  Status st = Status::kEINTERNAL;
  std::thread creator([&] {
    uint64_t l;
    void* cc;
    st = pool_->Acquire(0, 0, &l, &cc);
    if (st == Status::kOK) pool_->Release(l, false);
  });
  ASSERT_TRUE(b_.create_latch.WaitParked(1));
  EXPECT_FALSE(b_.create_latch.IsParked(creator.get_id())) << "the create runs on a pool thread";

  // Not blocked behind it: the held connection, released, is served at once.
  ASSERT_EQ(pool_->Release(first, false), Status::kOK);
  uint64_t again;
  ASSERT_EQ(pool_->Acquire(0, 0, &again, &c), Status::kOK);
  ASSERT_EQ(pool_->Release(again, false), Status::kOK);

  clock_.AdvanceMs(1'000);
  creator.join();
  EXPECT_EQ(st, Status::kETIMEOUT);
  EXPECT_EQ(pool_->Snapshot().creating, 1u);

  b_.create_latch.Open();
  ASSERT_TRUE(Eventually([&] { return pool_->Snapshot().idle == 2; })) << "the late connection is kept";
  EXPECT_EQ(pool_->Snapshot().creating, 0u);
}

// A create that fails for a timeout-0 acquire is still reported to that acquire as EFACTORY.
TEST_F(CoreFaults, TimeoutZeroAcquireReportsItsFailedCreate) {
  Make(Small(3));
  ASSERT_TRUE(Settled());
  uint64_t held;
  void* c;
  ASSERT_EQ(pool_->Acquire(0, 0, &held, &c), Status::kOK);  // the startup probe's connection
  b_.create = Fault::kFail;
  uint64_t l;
  EXPECT_EQ(pool_->Acquire(0, 0, &l, &c), Status::kEFACTORY);
  b_.create = Fault::kNone;
  EXPECT_EQ(pool_->Release(held, false), Status::kOK);
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

// Close() while an acquire waits on its validate (the acquire began before Close): the acquire
// returns ECLOSED at once, Close() waits for the helper thread inside validate (as for a
// connector inside create), and then everything is freed. Under AddressSanitizer this shows
// that nobody touches the pool after the retirement that frees it.
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
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    p->Close();
    closed = true;
  });
  acquirer.join();
  EXPECT_EQ(st, Status::kECLOSED) << "the acquire does not wait for the validate once closing";
  EXPECT_FALSE(closed.load()) << "Close() joins the helper, which is inside validate";
  b_.validate_latch.Open();
  closer.join();
  EXPECT_EQ(b_.ctx_frees.load(), 1);
}

}  // namespace
}  // namespace connpool_faults
