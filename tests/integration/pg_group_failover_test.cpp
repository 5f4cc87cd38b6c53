// SPDX-License-Identifier: Apache-2.0
// Pool groups against two real PostgreSQL clusters on different ports, one as the primary's
// endpoint and one as the replica's (no replication needed: `SHOW port` tells which server
// answered). Read failover when the replica's server dies, write fail-fast once the primary
// is unavailable, and recovery of both.
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <string>

#include "pg_factory.h"
#include "pg_test_util.h"

namespace connpool_it {
namespace {

// Short, so the fail-fast cutoff is reached within a test's budget.
constexpr const char* kUnavailableAfterMs = "1000";

class PgGroupTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string err;
    ASSERT_TRUE(replica_pg_.Init(&err)) << err;
    ASSERT_TRUE(replica_pg_.Start(&err)) << err;
    StartServer();
    // validate_on_acquire=always: a connection to a server that died is caught on its next
    // acquire, so the scenario does not depend on how long a connection sat idle.
    const Settings common = {{"max_size", "4"}, {"validate_on_acquire", "always"},
                             {"unavailable_after_ms", kUnavailableAfterMs}};
    Settings p = common, r = common;
    p.push_back({"name", "primary"});
    r.push_back({"name", "replica"});
    primary_ = MakePool(p);
    replica_ = MakePool(r, replica_pg_.Dsn());
    ASSERT_NE(primary_, nullptr);
    ASSERT_NE(replica_, nullptr);
    ASSERT_EQ(connpool_pool_wait_ready(primary_, 10000), CONNPOOL_OK);
    ASSERT_EQ(connpool_pool_wait_ready(replica_, 10000), CONNPOOL_OK);
    ASSERT_EQ(connpool_group_new("orders", &group_), CONNPOOL_OK);
    ASSERT_EQ(connpool_group_add(group_, "main", CONNPOOL_ROLE_PRIMARY, primary_), CONNPOOL_OK);
    ASSERT_EQ(connpool_group_add(group_, "r1", CONNPOOL_ROLE_REPLICA, replica_), CONNPOOL_OK);
  }
  void TearDown() override {
    connpool_group_free(group_);  // before the pools, though either order is safe
    PgTest::TearDown();
    if (HasFailure()) std::fprintf(stderr, "replica server:\n%s\n", replica_pg_.LogTail().c_str());
    replica_pg_.Destroy();
  }

  struct Outcome {
    int rc = -1;
    connpool_pool_t* member = nullptr;
    std::string port;  // the server that answered SHOW port; "" when no lease
    double ms = 0;     // how long the group acquire took
  };
  // One group acquire, one query on the lease, release to the member.
  Outcome Run(int intent, int64_t timeout_ms) {
    Outcome o;
    connpool_lease_t lease;
    void* conn;
    const int64_t t0 = NowNs();
    o.rc = connpool_group_acquire(group_, intent, timeout_ms, &o.member, &lease, &conn);
    o.ms = MsBetween(t0, NowNs());
    if (o.rc != CONNPOOL_OK) return o;
    std::string err;
    bool ok = RunSql(conn, "SHOW port", &o.port, &err);
    EXPECT_TRUE(ok) << "a dead connection was handed out: " << err;
    EXPECT_EQ(ok ? connpool_release(o.member, lease) : connpool_release_broken(o.member, lease), CONNPOOL_OK);
    return o;
  }
  std::string GroupStats() {
    char* s = connpool_group_stats_json(group_);
    std::string out = s ? s : "";
    connpool_free(s);
    return out;
  }

  PgCluster replica_pg_;
  connpool_pool_t* primary_ = nullptr;
  connpool_pool_t* replica_ = nullptr;
  connpool_group_t* group_ = nullptr;
};

TEST_F(PgGroupTest, ReadsFailOverToThePrimaryWhenTheReplicaDiesAndComeBack) {
  const std::string primary_port = std::to_string(pg_.port());
  const std::string replica_port = std::to_string(replica_pg_.port());
  Outcome o = Run(CONNPOOL_INTENT_READ, 2000);
  ASSERT_EQ(o.rc, CONNPOOL_OK) << connpool_errname(o.rc);
  EXPECT_EQ(o.member, replica_);
  EXPECT_EQ(o.port, replica_port);

  std::string err;
  ASSERT_TRUE(replica_pg_.Stop(&err)) << err;
  // The replica still says ready; its connection is dead. The read finds out and is served
  // by the primary, far inside its timeout (no waiting on the dead replica).
  o = Run(CONNPOOL_INTENT_READ, 5000);
  ASSERT_EQ(o.rc, CONNPOOL_OK) << connpool_errname(o.rc) << "\n" << GroupStats();
  EXPECT_EQ(o.member, primary_);
  EXPECT_EQ(o.port, primary_port);
  Timing("group read failover (replica server just died)", o.ms);
  EXPECT_LT(o.ms, 2500) << "waited on the dead replica";

  // Reads keep working while the replica degrades and then turns unavailable (skipped).
  int reads = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        Outcome r = Run(CONNPOOL_INTENT_READ, 5000);
        EXPECT_EQ(r.rc, CONNPOOL_OK) << connpool_errname(r.rc);
        EXPECT_EQ(r.port, primary_port);
        ++reads;
        return connpool_pool_state(replica_) == CONNPOOL_STATE_UNAVAILABLE;
      },
      15000, 20))
      << ReadStats(replica_).raw;
  o = Run(CONNPOOL_INTENT_READ, 5000);
  ASSERT_EQ(o.rc, CONNPOOL_OK);
  EXPECT_EQ(o.port, primary_port);
  Timing("group read with the replica unavailable", o.ms);
  std::string stats = GroupStats();
  EXPECT_NE(stats.find("\"readable\":true"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("\"read_fallbacks\":0,"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("\"skipped_unavailable\":0,"), std::string::npos) << stats;

  // The replica's server returns: its pool recovers in the background and reads go back.
  ASSERT_TRUE(replica_pg_.Start(&err)) << err;
  ASSERT_EQ(connpool_pool_wait_ready(replica_, 10000), CONNPOOL_OK) << ReadStats(replica_).raw;
  o = Run(CONNPOOL_INTENT_READ, 5000);
  ASSERT_EQ(o.rc, CONNPOOL_OK);
  EXPECT_EQ(o.member, replica_);
  EXPECT_EQ(o.port, replica_port);
  ExpectNoLeaks(primary_);
}

TEST_F(PgGroupTest, WritesFailFastOnceThePrimaryIsUnavailableAndRecover) {
  const std::string primary_port = std::to_string(pg_.port());
  const std::string replica_port = std::to_string(replica_pg_.port());
  Outcome o = Run(CONNPOOL_INTENT_WRITE, 2000);
  ASSERT_EQ(o.rc, CONNPOOL_OK) << connpool_errname(o.rc);
  EXPECT_EQ(o.port, primary_port);

  StopServer();
  // Writes (timeout 0: no waiting) fail while the primary is degraded, then fail fast with
  // EUNAVAILABLE once it has been failing for unavailable_after_ms.
  ASSERT_TRUE(WaitUntil(
      [&] {
        Outcome w = Run(CONNPOOL_INTENT_WRITE, 0);
        EXPECT_NE(w.rc, CONNPOOL_OK);
        return w.rc == CONNPOOL_EUNAVAILABLE;
      },
      15000, 20))
      << ReadStats(primary_).raw;
  EXPECT_EQ(connpool_pool_state(primary_), CONNPOOL_STATE_UNAVAILABLE);
  // Now a write with a long timeout answers at once.
  o = Run(CONNPOOL_INTENT_WRITE, 5000);
  EXPECT_EQ(o.rc, CONNPOOL_EUNAVAILABLE) << connpool_errname(o.rc);
  EXPECT_EQ(o.member, nullptr);
  Timing("group write with the primary unavailable", o.ms);
  EXPECT_LT(o.ms, 250) << "a write waited on an unavailable primary";
  std::string stats = GroupStats();
  EXPECT_NE(stats.find("\"writable\":false"), std::string::npos) << stats;
  // Reads are unaffected: the replica serves them.
  o = Run(CONNPOOL_INTENT_READ, 2000);
  ASSERT_EQ(o.rc, CONNPOOL_OK);
  EXPECT_EQ(o.port, replica_port);

  // Recovery: the server returns, the pool's background probe reconnects, writes work.
  StartServer();
  ASSERT_EQ(connpool_pool_wait_ready(primary_, 10000), CONNPOOL_OK) << ReadStats(primary_).raw;
  o = Run(CONNPOOL_INTENT_WRITE, 5000);
  ASSERT_EQ(o.rc, CONNPOOL_OK) << connpool_errname(o.rc);
  EXPECT_EQ(o.port, primary_port);
  EXPECT_NE(GroupStats().find("\"writable\":true"), std::string::npos);
  ExpectNoLeaks(primary_);
}

// A pool freed while it is in the group, with real connections: the group keeps serving
// from the rest and the server sees every connection of the freed pool closed.
TEST_F(PgGroupTest, FreeingTheReplicaPoolWhileGroupedIsSafe) {
  Outcome o = Run(CONNPOOL_INTENT_READ, 2000);
  ASSERT_EQ(o.member, replica_);
  FreePool(replica_);
  replica_ = nullptr;
  o = Run(CONNPOOL_INTENT_READ, 2000);
  ASSERT_EQ(o.rc, CONNPOOL_OK);
  EXPECT_EQ(o.member, primary_);
  std::string err;
  EXPECT_TRUE(WaitUntil([&] { return replica_pg_.ClientBackends(&err) == 0; }, 10000)) << err;
}

}  // namespace
}  // namespace connpool_it
