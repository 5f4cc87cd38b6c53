// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "pool/slot.h"

namespace connpool {
namespace {

TEST(Lease, RoundTripsEveryField) {
  uint64_t l = MakeLease(kLeaseTagMask, kLeaseIndexMask, kLeaseGenMask);
  EXPECT_EQ(LeaseTag(l), kLeaseTagMask);
  EXPECT_EQ(LeaseIndex(l), kLeaseIndexMask);
  EXPECT_EQ(LeaseGen(l), kLeaseGenMask);
  l = MakeLease(1, 99999, 12345);
  EXPECT_EQ(LeaseTag(l), 1u);
  EXPECT_EQ(LeaseIndex(l), 99999u);
  EXPECT_EQ(LeaseGen(l), 12345u);
}

TEST(Lease, NeverZeroForAValidTag) { EXPECT_NE(MakeLease(1, 0, 0), 0u); }

TEST(Lease, IndexCoversMaxPoolSize) { EXPECT_GE(kLeaseIndexMask + 1, static_cast<uint64_t>(100000)); }

TEST(SlotWord, PacksStateFlagsAndGeneration) {
  uint64_t w = MakeWord(7, kClosing, kIdle);
  EXPECT_EQ(StateOf(w), kIdle);
  EXPECT_EQ(FlagsOf(w), kClosing);
  EXPECT_EQ(GenOf(w), 7u);
}

}  // namespace
}  // namespace connpool
