// SPDX-License-Identifier: Apache-2.0
// Scenario 3: permanent create failures (wrong password, unknown role) make the pool
// unavailable at once (DESIGN.md §4: FATAL), the error in stats is clear, and the password
// never appears in stats, metrics or logs. The password is in the DSN as password=..., so
// every text path the pool has would have to redact it.
#include <connpool/connpool.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../common/log_capture.h"
#include "pg_factory.h"
#include "pg_test_util.h"

namespace connpool_it {
namespace {

constexpr double kRetryMaxMs = 500, kRetryJitter = 0.2;  // kResilience

using connpool_test::LogCapture;  // tests/common/log_capture.h

std::string RandomSecret(const char* prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd()) + std::to_string(rd());
}

std::string Metrics(connpool_pool_t* pool) {
  char* m = connpool_pool_metrics_text(pool);
  std::string s = m ? m : "";
  connpool_free(m);
  return s;
}

// Waits for `pool` to turn unavailable; returns the time it took (ms), or -1.
double MsUntilUnavailable(connpool_pool_t* pool, int64_t since_ns) {
  if (!WaitUntil([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_UNAVAILABLE; }, 10000, 1)) return -1;
  return MsBetween(since_ns, NowNs());
}

TEST_F(PgTest, WrongPasswordIsFatalFailsFastAndIsNeverEchoed) {
  StartServer();
  const std::string user = PgCluster::kSecureUser;

  // The right password works, so pg_hba.conf really demands one for this role.
  {
    connpool_pool_t* good = MakePool({{"name", "secure_ok"}}, pg_.Dsn(user, pg_.secure_password()));
    ASSERT_EQ(connpool_pool_wait_ready(good, 10000), CONNPOOL_OK) << ReadStats(good).raw;
    connpool_lease_t lease;
    void* conn;
    ASSERT_EQ(connpool_acquire(good, 5000, &lease, &conn), CONNPOOL_OK);
    std::string who;
    ASSERT_TRUE(RunSql(conn, "SELECT current_user", &who));
    EXPECT_EQ(who, user);
    connpool_release(good, lease);
    FreePool(good);
  }

  LogCapture logs;
  const std::string wrong = RandomSecret("WrongHorse");
  const int64_t t0 = NowNs();
  connpool_pool_t* pool = MakePool({{"name", "badpw"}, {"min_idle", "1"}}, pg_.Dsn(user, wrong));
  ASSERT_NE(pool, nullptr);
  const double ms = MsUntilUnavailable(pool, t0);
  ASSERT_GE(ms, 0) << ReadStats(pool).raw;
  Timing("wrong password: pool_new -> unavailable", ms);
  EXPECT_LT(ms, 1000.0);  // one failed create, no waiting for unavailable_after_ms

  // Acquires fail fast, whatever their timeout.
  connpool_lease_t lease;
  void* conn;
  int64_t t1 = NowNs();
  EXPECT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_EUNAVAILABLE);
  Timing("wrong password: acquire(5000 ms) -> EUNAVAILABLE", MsBetween(t1, NowNs()));
  EXPECT_LT(MsBetween(t1, NowNs()), 50.0);
  EXPECT_EQ(connpool_pool_http_status(pool), 503);

  PoolStats s = ReadStats(pool);
  EXPECT_EQ(s.state, "unavailable") << s.raw;
  EXPECT_EQ(s.http_status, 503);
  ASSERT_TRUE(s.has_last_error) << s.raw;
  EXPECT_EQ(s.last_error_code, CONNPOOL_EFACTORY) << s.raw;
  EXPECT_NE(s.last_error.find("password authentication failed for user \"secure_user\""), std::string::npos)
      << s.last_error;
  EXPECT_NE(s.last_error.find("28P01"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("LOCATION"), std::string::npos) << s.last_error;
  std::printf("[ error    ] last_error: %s\n", s.last_error.c_str());
  // A FATAL failure keeps probing, at the maximum backoff.
  EXPECT_GE(s.next_attempt_in_ms, 0) << s.raw;
  EXPECT_LE(s.next_attempt_in_ms, static_cast<int64_t>(kRetryMaxMs * (1 + kRetryJitter)) + 1) << s.raw;

  // The secret appears nowhere.
  EXPECT_EQ(s.raw.find(wrong), std::string::npos) << s.raw;
  EXPECT_EQ(Metrics(pool).find(wrong), std::string::npos);
  // The pool logs state changes after releasing its lock, so the line may trail the state.
  EXPECT_TRUE(WaitUntil([&] { return logs.AnyContains("unavailable"); }, 2000))
      << "expected a log line about the state change";
  for (const std::string& line : logs.Lines()) EXPECT_EQ(line.find(wrong), std::string::npos) << line;

  // Once the server accepts that password, the next probe recovers the pool by itself.
  std::string err;
  ASSERT_TRUE(pg_.Exec("ALTER ROLE secure_user PASSWORD '" + wrong + "'", &err)) << err;
  const int64_t t2 = NowNs();
  ASSERT_TRUE(WaitUntil([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_READY; }, 10000))
      << ReadStats(pool).raw;
  Timing("password fixed on the server -> ready", MsBetween(t2, NowNs()));
  EXPECT_LT(MsBetween(t2, NowNs()), kRetryMaxMs * (1 + kRetryJitter) + 1000);
  ASSERT_EQ(connpool_acquire(pool, 5000, &lease, &conn), CONNPOOL_OK);
  EXPECT_TRUE(RunSql(conn, "SELECT 1"));
  connpool_release(pool, lease);
  for (const std::string& line : logs.Lines()) EXPECT_EQ(line.find(wrong), std::string::npos) << line;
  ExpectNoLeaks(pool);
}

TEST_F(PgTest, UnknownRoleIsFatal) {
  StartServer();
  const int64_t t0 = NowNs();
  connpool_pool_t* pool = MakePool({{"name", "norole"}}, pg_.Dsn("no_such_role", RandomSecret("pw")));
  ASSERT_NE(pool, nullptr);
  const double ms = MsUntilUnavailable(pool, t0);
  ASSERT_GE(ms, 0) << ReadStats(pool).raw;
  Timing("unknown role: pool_new -> unavailable", ms);
  EXPECT_LT(ms, 1000.0);
  PoolStats s = ReadStats(pool);
  EXPECT_NE(s.last_error.find("role \"no_such_role\" does not exist"), std::string::npos) << s.raw;
  EXPECT_NE(s.last_error.find("28000"), std::string::npos) << s.raw;
}

// A careless factory that puts its whole connection string into the error text: the pool's
// redaction must keep the password out of stats, metrics and logs all the same.
struct EchoingFactory {
  std::string dsn;
  static int Create(void* ctx, void** conn_out, char* err, size_t errlen) {
    auto* self = static_cast<EchoingFactory*>(ctx);
    PGconn* c = PQconnectdb(self->dsn.c_str());
    if (PQstatus(c) == CONNECTION_OK) {
      *conn_out = c;
      return CONNPOOL_FACTORY_OK;
    }
    std::snprintf(err, errlen, "cannot connect with '%s': %s", self->dsn.c_str(), PQerrorMessage(c));
    int rc = connpool_pg_classify_failure(PQerrorMessage(c));
    PQfinish(c);
    return rc;
  }
  static void Destroy(void*, void* conn) { PQfinish(static_cast<PGconn*>(conn)); }
  static void Free(void* ctx) { delete static_cast<EchoingFactory*>(ctx); }
};

TEST_F(PgTest, PoolRedactsAPasswordTheFactoryEchoes) {
  StartServer();
  LogCapture logs;
  const std::string wrong = RandomSecret("Leaky");
  auto* ctx = new EchoingFactory{pg_.Dsn(PgCluster::kSecureUser, wrong)};
  connpool_factory_t* f =
      connpool_factory_new(ctx, &EchoingFactory::Free, &EchoingFactory::Create, &EchoingFactory::Destroy);
  ASSERT_NE(f, nullptr);
  connpool_pool_t* pool = MakePoolWithFactory({{"name", "echo"}}, f);
  ASSERT_NE(pool, nullptr);
  ASSERT_GE(MsUntilUnavailable(pool, NowNs()), 0) << ReadStats(pool).raw;
  PoolStats s = ReadStats(pool);
  std::printf("[ error    ] last_error: %s\n", s.last_error.c_str());
  EXPECT_NE(s.last_error.find("password="), std::string::npos) << "the echo should still be there, redacted: "
                                                               << s.last_error;
  EXPECT_NE(s.last_error.find("password authentication failed"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.raw.find(wrong), std::string::npos) << s.raw;
  EXPECT_EQ(Metrics(pool).find(wrong), std::string::npos);
  for (const std::string& line : logs.Lines()) EXPECT_EQ(line.find(wrong), std::string::npos) << line;
}

}  // namespace
}  // namespace connpool_it
