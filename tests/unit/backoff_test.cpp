// SPDX-License-Identifier: Apache-2.0
#include "health/backoff.h"

#include <gtest/gtest.h>

namespace connpool {
namespace {

TEST(Backoff, DoublesFromInitialToCap) {
  BackoffPolicy p;  // 1 s, x2, 60 s
  const int64_t expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (uint64_t n = 1; n <= 8; ++n) EXPECT_EQ(p.BaseDelayMs(n), expected[n - 1]) << "failure " << n;
  EXPECT_EQ(p.BaseDelayMs(0), 0);
  EXPECT_EQ(p.BaseDelayMs(1'000'000), 60000);  // no overflow after hours of failures
}

TEST(Backoff, JitterStaysWithinBounds) {
  BackoffPolicy p;  // +-20 %
  for (uint64_t n = 1; n <= 10; ++n) {
    double base = static_cast<double>(p.BaseDelayMs(n));
    EXPECT_EQ(p.DelayMs(n, 0.0), static_cast<int64_t>(base * 0.8));
    EXPECT_EQ(p.DelayMs(n, 0.5), static_cast<int64_t>(base));
    EXPECT_LE(p.DelayMs(n, 0.999999), static_cast<int64_t>(base * 1.2));
    EXPECT_GE(p.DelayMs(n, 0.999999), static_cast<int64_t>(base * 1.19));
  }
}

TEST(Backoff, CustomMultiplierAndNoJitter) {
  BackoffPolicy p{100, 1000, 3.0, 0.0};
  EXPECT_EQ(p.DelayMs(1, 0.9), 100);
  EXPECT_EQ(p.DelayMs(2, 0.1), 300);
  EXPECT_EQ(p.DelayMs(3, 0.5), 900);
  EXPECT_EQ(p.DelayMs(4, 0.5), 1000);
}

}  // namespace
}  // namespace connpool
