// SPDX-License-Identifier: Apache-2.0
// Label soak (not in the default run): the recovery measurement of docs/HEALTH.md after a
// 60 s outage with the default settings. Prints what it measured and checks the same bounds
// as PgOutageTest.RecoversWithinOneProbeIntervalAtOneAttemptPerSecond.
#include <gtest/gtest.h>

#include "pg_outage.h"

namespace connpool_it {
namespace {

TEST_F(PgOutageTest, SixtySecondOutage) {
  OutageResult r;
  RunOutage(60000, &r);
  if (HasFatalFailure()) return;
  std::printf("[ measured ] 60 s outage: %lld attempts in %.0f ms down (%.3f/s), %lld in all; "
              "recovery %.1f ms after pg_ctl start returned (slowest connect %.1f ms)\n",
              static_cast<long long>(r.attempts_down), r.down_ms, r.attempts_down * 1000.0 / r.down_ms,
              static_cast<long long>(r.attempts_total), r.recovery_ms, r.connect_ms);
  EXPECT_LE(r.attempts_down * 1000.0 / r.down_ms, 1.0);
  EXPECT_LT(r.recovery_ms, 1000 + r.connect_ms + 100);
}

}  // namespace
}  // namespace connpool_it
