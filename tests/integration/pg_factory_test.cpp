// SPDX-License-Identifier: Apache-2.0
// connpool_pg_factory without a server: failure classification and argument handling.
// (Label unit: runs in every preset, sanitizers included.)
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <string>

#include "pg_factory.h"

namespace {

// Real libpq 15 messages (verbose, as the factory requests them), one per line.
TEST(PgFactoryClassify, AuthenticationFailuresAreFatal) {
  EXPECT_EQ(connpool_pg_classify_failure(
                "connection to server at \"127.0.0.1\", port 45678 failed: FATAL:  28P01: password "
                "authentication failed for user \"secure_user\"\nLOCATION:  auth_failed, auth.c:334\n"),
            CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("connection to server at \"127.0.0.1\", port 45678 failed: FATAL:  "
                                         "28000: role \"nosuch\" does not exist\n"),
            CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("connection to server at \"127.0.0.1\", port 45678 failed: FATAL:  "
                                         "3D000: database \"nodb\" does not exist\n"),
            CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("FATAL:  42501: permission denied for database \"x\"\n"),
            CONNPOOL_FACTORY_FATAL);
}

TEST(PgFactoryClassify, OutagesAreTransient) {
  EXPECT_EQ(connpool_pg_classify_failure("connection to server at \"127.0.0.1\", port 45679 failed: Connection "
                                         "refused\n\tIs the server running on that host and accepting TCP/IP "
                                         "connections?\n"),
            CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  "
                                         "57P03: the database system is starting up\n"),
            CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure("FATAL:  53300: sorry, too many clients already\n"),
            CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure("FATAL:  57P01: terminating connection due to administrator command"),
            CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure("server closed the connection unexpectedly"), CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure("timeout expired\n"), CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure(""), CONNPOOL_FACTORY_RETRY);
  EXPECT_EQ(connpool_pg_classify_failure(nullptr), CONNPOOL_FACTORY_RETRY);
}

TEST(PgFactoryClassify, EnglishFallbacksWithoutSqlstate) {
  EXPECT_EQ(connpool_pg_classify_failure("FATAL:  password authentication failed for user \"u\""),
            CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("FATAL:  role \"u\" does not exist"), CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure(
                "FATAL:  no pg_hba.conf entry for host \"10.0.0.1\", user \"u\", database \"d\", no encryption"),
            CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("fe_sendauth: no password supplied\n"), CONNPOOL_FACTORY_FATAL);
}

TEST(PgFactoryClassify, MalformedConnectionStringsAreFatal) {
  EXPECT_EQ(connpool_pg_classify_failure("invalid connection option \"bogus\"\n"), CONNPOOL_FACTORY_FATAL);
  EXPECT_EQ(connpool_pg_classify_failure("missing \"=\" after \"host\" in connection info string\n"),
            CONNPOOL_FACTORY_FATAL);
}

TEST(PgFactoryClassify, FindsTheSqlstate) {
  char state[6];
  EXPECT_EQ(connpool_pg_find_sqlstate("x failed: FATAL:  28P01: password authentication failed", state, sizeof state),
            1);
  EXPECT_STREQ(state, "28P01");
  // A translated severity word still has the two blanks and the code after it.
  EXPECT_EQ(connpool_pg_find_sqlstate("FATAL:  3D000: la base de donnees n'existe pas", state, sizeof state), 1);
  EXPECT_STREQ(state, "3D000");
  EXPECT_EQ(connpool_pg_find_sqlstate("Connection refused", state, sizeof state), 0);
  EXPECT_STREQ(state, "");
  EXPECT_EQ(connpool_pg_find_sqlstate("FATAL:  28P01 no colon", state, sizeof state), 0);
  EXPECT_EQ(connpool_pg_find_sqlstate("FATAL:  28P01: x", state, 5), 0);  // buffer too small
  EXPECT_EQ(connpool_pg_find_sqlstate(nullptr, state, sizeof state), 0);
}

TEST(PgFactory, NewRejectsNullAndFreesCleanly) {
  EXPECT_EQ(connpool_pg_factory_new(nullptr, 5), nullptr);
  connpool_factory_t* f = connpool_pg_factory_new("host=127.0.0.1 connect_timeout=1", 0);
  ASSERT_NE(f, nullptr);
  connpool_factory_free(f);  // never given to a pool: frees the context once
}

// A malformed connection string fails at the first create, as FATAL, with libpq's message.
TEST(PgFactory, MalformedConnectionStringMakesThePoolUnavailable) {
  connpool_factory_t* f = connpool_pg_factory_new("host=127.0.0.1 bogus_option=1", 1);
  ASSERT_NE(f, nullptr);
  connpool_pool_t* pool = nullptr;
  char err[256];
  ASSERT_EQ(connpool_pool_new(nullptr, f, &pool, err, sizeof err), CONNPOOL_OK) << err;
  connpool_lease_t lease;
  // Does not wait: the first create's FATAL turns the pool unavailable at once.
  int rc = connpool_acquire(pool, 10000, &lease, nullptr);
  EXPECT_EQ(rc, CONNPOOL_EUNAVAILABLE) << connpool_errname(rc);
  char* stats = connpool_pool_stats_json(pool);
  ASSERT_NE(stats, nullptr);
  EXPECT_NE(std::string(stats).find("invalid connection option"), std::string::npos) << stats;
  connpool_free(stats);
  connpool_pool_free(pool);
}

}  // namespace
