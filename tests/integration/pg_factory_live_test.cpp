// SPDX-License-Identifier: Apache-2.0
// connpool_pg_factory against a live server: reset really cleans a session, validation
// catches a backend killed under an idle connection, and postgres_demo works end to end.
#include <connpool/connpool.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

#include "pg_factory.h"
#include "pg_test_util.h"

namespace connpool_it {
namespace {

TEST_F(PgTest, ResetRollsBackAndDiscardsSessionState) {
  StartServer();
  connpool_pool_t* pool = MakePool({{"name", "reset"}, {"max_size", "1"}, {"reset_on_release", "true"}});
  ASSERT_NE(pool, nullptr);
  connpool_lease_t lease;
  void* conn;
  ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
  std::string pid1;
  ASSERT_TRUE(RunSql(conn, "SELECT pg_backend_pid()", &pid1));
  ASSERT_TRUE(RunSql(conn, "SET statement_timeout = '1234ms'"));
  ASSERT_TRUE(RunSql(conn, "CREATE TEMP TABLE scratch (x int)"));
  ASSERT_TRUE(RunSql(conn, "PREPARE p AS SELECT 1"));
  ASSERT_TRUE(RunSql(conn, "BEGIN"));
  EXPECT_FALSE(RunSql(conn, "SELECT 1/0"));  // leaves the transaction aborted
  EXPECT_EQ(PQtransactionStatus(static_cast<PGconn*>(conn)), PQTRANS_INERROR);
  ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);

  ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
  std::string pid2, timeout, temp, prepared, app;
  ASSERT_TRUE(RunSql(conn, "SELECT pg_backend_pid()", &pid2));
  EXPECT_EQ(pid1, pid2) << "reset should keep the connection";
  EXPECT_EQ(PQtransactionStatus(static_cast<PGconn*>(conn)), PQTRANS_IDLE);
  ASSERT_TRUE(RunSql(conn, "SHOW statement_timeout", &timeout));
  EXPECT_EQ(timeout, "0");
  ASSERT_TRUE(RunSql(conn, "SELECT count(*) FROM pg_class WHERE relname = 'scratch' AND relpersistence = 't'", &temp));
  EXPECT_EQ(temp, "0");
  ASSERT_TRUE(RunSql(conn, "SELECT count(*) FROM pg_prepared_statements", &prepared));
  EXPECT_EQ(prepared, "0");
  ASSERT_TRUE(RunSql(conn, "SHOW application_name", &app));
  EXPECT_EQ(app, "connpool");
  connpool_release(pool, lease);
  EXPECT_EQ(ReadStats(pool).counter("reset_failures"), 0);
}

TEST_F(PgTest, BackendTerminatedUnderAnIdleConnectionIsNeverHandedOut) {
  StartServer();
  connpool_pool_t* pool = MakePool({{"name", "terminated"},
                                    {"max_size", "1"},
                                    {"validate_on_acquire", "idle"},
                                    {"validation_idle_ms", "0"}});
  ASSERT_NE(pool, nullptr);
  connpool_lease_t lease;
  void* conn;
  std::string pid1, pid2, err;
  ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
  ASSERT_TRUE(RunSql(conn, "SELECT pg_backend_pid()", &pid1));
  ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);

  ASSERT_TRUE(pg_.Exec("SELECT pg_terminate_backend(" + pid1 + ")", &err)) << err;
  // The backend is gone once the server no longer lists it.
  ASSERT_TRUE(WaitUntil([&] { return pg_.ClientBackends(&err) == 0; }, 5000)) << err;

  ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK) << ReadStats(pool).raw;
  ASSERT_TRUE(RunSql(conn, "SELECT pg_backend_pid()", &pid2, &err)) << "dead connection handed out: " << err;
  EXPECT_NE(pid1, pid2);
  connpool_release(pool, lease);
  PoolStats s = ReadStats(pool);
  EXPECT_EQ(s.counter("validation_failures"), 1) << s.raw;
  EXPECT_EQ(s.state, "ready") << "a failed validation alone does not degrade the pool\n" << s.raw;
  ExpectNoLeaks(pool);
}

TEST_F(PgTest, PostgresDemoRunsAgainstALiveServer) {
  StartServer();
  const std::string cmd = std::string("CONNPOOL_PG_DSN='") + pg_.Dsn() + "' '" CONNPOOL_PG_DEMO "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  std::printf("%s", out.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("queries: 400 ok, 0 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("health: ready (HTTP 200)"), std::string::npos) << out;
  EXPECT_NE(out.find("\"state\":\"ready\""), std::string::npos) << out;
}

}  // namespace
}  // namespace connpool_it
