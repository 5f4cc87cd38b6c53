// SPDX-License-Identifier: Apache-2.0
// AdaptiveFeed: running totals become per-pass differences for the sizer, the first pass has
// no interval, a total that went backwards counts as no change, and the last decision and the
// last change are kept apart.
#include "sizing/adaptive_feed.h"

#include <gtest/gtest.h>

namespace connpool {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

AdaptiveFeed::Now Bounds(int64_t min_idle, int64_t max_size, uint64_t waiters = 0, uint64_t in_use = 0) {
  AdaptiveFeed::Now n;
  n.min_idle = min_idle;
  n.max_size = max_size;
  n.waiters = waiters;
  n.in_use = in_use;
  return n;
}

TEST(AdaptiveFeed, NoPassYetRecordsNothing) {
  AdaptiveFeed feed(10, 2);
  EXPECT_LT(feed.last_decision().at_ns, 0);
  EXPECT_LT(feed.last_change().at_ns, 0);
  EXPECT_EQ(feed.sizer().floor(), 2);
}

TEST(AdaptiveFeed, CalmPassesHoldAndRecordTheDecisionButNoChange) {
  AdaptiveFeed feed(10, 2);
  AdaptiveFeed::Totals t;
  for (int pass = 1; pass <= 3; ++pass) {
    t.acquired += 100;
    t.completed += 100;
    const AdaptiveSizer::Decision d = feed.Step(pass * kSecond, t, Bounds(2, 16));
    EXPECT_EQ(d.from, d.to);
    EXPECT_EQ(feed.last_decision().at_ns, pass * kSecond);
  }
  EXPECT_LT(feed.last_change().at_ns, 0) << "nothing moved the floor";
}

// The feed passes the sizer what happened in the pass, not since the start: a pool that was
// busy long ago and calm now must read as calm. Checked through the sizer's own rule: the same
// totals fed twice mean "nothing happened", so a hot first pass followed by an unchanged total
// must not keep raising.
TEST(AdaptiveFeed, DifferencesNotTotalsReachTheSizer) {
  AdaptiveFeed hot(1, 1);
  AdaptiveFeed::Totals t;
  t.acquired = 1000;
  t.wait_us = 1000 * 50'000;  // every acquire waited 50 ms, far over the 1 ms target
  t.completed = 1000;
  int64_t now = kSecond;
  for (int pass = 0; pass < 4; ++pass, now += kSecond) hot.Step(now, t, Bounds(0, 16, 8, 1));
  const int64_t floor = hot.sizer().floor();
  // The same totals again: zero acquires and zero waiting this pass, and nobody queued.
  for (int pass = 0; pass < 4; ++pass, now += kSecond) {
    const AdaptiveSizer::Decision d = hot.Step(now, t, Bounds(0, 16));
    EXPECT_NE(d.action, AdaptiveSizer::Action::kRaise) << "pass " << pass << ": " << d.reason;
  }
  EXPECT_LE(hot.sizer().floor(), floor);
}

TEST(AdaptiveFeed, ATotalThatWentBackwardsCountsAsNothing) {
  AdaptiveFeed feed(10, 2);
  AdaptiveFeed::Totals t;
  t.acquired = 500;
  t.completed = 500;
  feed.Step(kSecond, t, Bounds(2, 16));
  AdaptiveFeed::Totals lower;  // all zero: a difference must not wrap to 2^64 - 500
  const AdaptiveSizer::Decision d = feed.Step(2 * kSecond, lower, Bounds(2, 16));
  EXPECT_NE(d.action, AdaptiveSizer::Action::kRaise) << d.reason;
  EXPECT_LE(feed.sizer().floor(), 16);
}

}  // namespace
}  // namespace connpool
