// SPDX-License-Identifier: Apache-2.0
#include "stats/histogram.h"

#include <gtest/gtest.h>

namespace connpool {
namespace {

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 16; ++v) h.Record(v);
  HistogramSummary s = h.Summarize();
  EXPECT_EQ(s.count, 16u);
  EXPECT_EQ(s.max, 15u);
  EXPECT_EQ(s.p50, 7u);
}

TEST(Histogram, RelativeErrorBounded) {
  for (uint64_t v : {17ull, 100ull, 1000ull, 123456ull, 9999999ull}) {
    Histogram h;
    h.Record(v);
    h.Record(1);  // so max does not clamp the percentile
    uint64_t upper = Histogram::BucketUpper(Histogram::BucketOf(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper - v), static_cast<double>(v) * 0.0625) << v;
  }
}

TEST(Histogram, ExtraZerosAndPercentiles) {
  Histogram h;
  h.RecordN(1000, 10);
  HistogramSummary s = h.Summarize(990);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_EQ(s.p50, 0u);
  EXPECT_EQ(s.p99, 0u);
  EXPECT_GE(s.p999, 1000u);
  EXPECT_EQ(s.max, 1000u);
  EXPECT_EQ(h.CountAtMost(999, 990), 990u);
  EXPECT_EQ(h.CountAtMost(2000, 990), 1000u);
}

TEST(Histogram, ClampsHugeValues) {
  Histogram h;
  h.Record(~uint64_t{0});
  EXPECT_EQ(Histogram::BucketOf(~uint64_t{0}), Histogram::kBuckets - 1);
  EXPECT_EQ(h.Summarize().count, 1u);
}

}  // namespace
}  // namespace connpool
