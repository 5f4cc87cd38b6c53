// SPDX-License-Identifier: Apache-2.0
// Regression tests for core bugs first shown against a real server (each failed until its
// fix landed).
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include "pg_test_util.h"

namespace connpool_it {
namespace {

// DESIGN.md §4: "unavailable: ... the background keeps probing with backoff; the first
// success returns to ready". With retry_max_ms = 200 an unavailable pool should probe at
// least every ~240 ms, so once the server is back it is ready within about that.
//
// Was a bug (Pool::CanCreateNowLocked returned early while unavailable without setting the
// connectors' wake-up time, so probes happened only on maintenance ticks); fixed, and pinned
// on a fake clock by HealthTest.UnavailablePoolProbesOnItsBackoffSchedule as well.
TEST_F(PgTest, UnavailablePoolProbesOnItsBackoffNotOnMaintenanceTicks) {
  StartServer();
  connpool_pool_t* pool = MakePool({{"name", "probe_schedule"},
                                    {"max_size", "2"},
                                    {"min_idle", "1"},
                                    {"validate_on_acquire", "always"},
                                    {"retry_initial_ms", "50"},
                                    {"retry_max_ms", "200"},
                                    {"unavailable_after_ms", "500"},
                                    {"maintenance_interval_ms", "60000"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK) << ReadStats(pool).raw;

  StopServer();
  // An acquire finds the idle connection dead; its replacement's create fails: degraded,
  // then unavailable 500 ms into the outage.
  connpool_lease_t lease;
  void* conn;
  int rc = connpool_acquire(pool, 3000, &lease, &conn);
  EXPECT_TRUE(rc == CONNPOOL_ETIMEOUT || rc == CONNPOOL_EUNAVAILABLE) << connpool_errname(rc);
  ASSERT_TRUE(WaitUntil([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_UNAVAILABLE; }, 5000))
      << ReadStats(pool).raw;

  StartServer();
  const int64_t t0 = NowNs();
  const bool ready = WaitUntil([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_READY; }, 5000);
  Timing("unavailable, server back -> ready (expected <= ~1240 ms)", MsBetween(t0, NowNs()));
  EXPECT_TRUE(ready) << "an unavailable pool did not probe within 5 s although retry_max_ms = 200\n"
                     << ReadStats(pool).raw;
}

}  // namespace
}  // namespace connpool_it
