// SPDX-License-Identifier: Apache-2.0
// One outage of a real PostgreSQL server, measured: the create attempts the pool made while
// the server was down and how soon after pg_ctl start returned an acquire succeeded again.
// Shared by the default integration run (a 5 s outage) and the soak label (60 s).
#ifndef CONNPOOL_TESTS_INTEGRATION_PG_OUTAGE_H
#define CONNPOOL_TESTS_INTEGRATION_PG_OUTAGE_H

#include <cstdint>

#include "pg_test_util.h"

namespace connpool_it {

struct OutageResult {
  double down_ms = 0;            // outage seen by the pool, no create in flight -> pg_ctl start began
  int64_t attempts_down = 0;     // creates (failed or not) completed in that window
  int64_t attempts_total = 0;    // from pg_ctl stop began to the first successful acquire
  double recovery_ms = 0;        // pg_ctl start returned -> first acquire + query that worked
  double connect_ms = 0;         // the slowest successful create the pool saw (create_us.max)
};

class PgOutageTest : public PgTest {
 protected:
  // With the default retry_* and probe_interval_ms and a query load of 4 threads, stops the
  // server for `outage_ms`, starts it, and measures. Fails the test on harness errors.
  void RunOutage(int64_t outage_ms, OutageResult* out);
};

}  // namespace connpool_it

#endif
