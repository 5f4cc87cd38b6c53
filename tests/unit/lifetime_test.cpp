// SPDX-License-Identifier: Apache-2.0
// Lifetime (core/util/lifetime.h): the phase moves forward one step at a time, drain begins
// once, and deletion is granted exactly once, only when freed, unpinned and idle. The pool's
// use of it (pins across Close, the last release deleting) is covered by pool_lifecycle_test.
#include "util/lifetime.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>

namespace {

using connpool::Lifetime;
using connpool::Phase;
using connpool::PhaseName;

TEST(Lifetime, StartsOpenAndWalksEveryPhaseInOrder) {
  Lifetime l;
  EXPECT_EQ(l.phase(), Phase::kOpen);
  EXPECT_FALSE(l.draining());
  EXPECT_FALSE(l.stopping());
  EXPECT_FALSE(l.freed());
  EXPECT_FALSE(l.deleting());

  EXPECT_TRUE(l.BeginDrain());
  EXPECT_EQ(l.phase(), Phase::kDraining);
  EXPECT_TRUE(l.draining());
  EXPECT_FALSE(l.stopping());

  l.BeginStop();
  EXPECT_EQ(l.phase(), Phase::kStopping);
  EXPECT_TRUE(l.draining()) << "each phase implies the earlier ones";
  EXPECT_TRUE(l.stopping());
  EXPECT_FALSE(l.freed());

  l.MarkFreed();
  EXPECT_EQ(l.phase(), Phase::kFreed);
  EXPECT_TRUE(l.draining());
  EXPECT_TRUE(l.stopping());
  EXPECT_TRUE(l.freed());
  EXPECT_FALSE(l.deleting());

  EXPECT_TRUE(l.TryBeginDelete(false));
  EXPECT_EQ(l.phase(), Phase::kDeleting);
  EXPECT_TRUE(l.deleting());
  EXPECT_TRUE(l.freed());
}

TEST(Lifetime, OnlyTheFirstDrainBegins) {
  Lifetime l;
  EXPECT_TRUE(l.BeginDrain());
  EXPECT_FALSE(l.BeginDrain()) << "draining again waits again but redoes nothing";
  l.BeginStop();
  EXPECT_FALSE(l.BeginDrain()) << "Close drains first; that drain must not begin anew";
  EXPECT_EQ(l.phase(), Phase::kStopping);
}

TEST(Lifetime, DeletionNeedsFreedAndIsGrantedOnce) {
  Lifetime l;
  EXPECT_FALSE(l.TryBeginDelete(false)) << "an open object is never deleted";
  l.BeginDrain();
  EXPECT_FALSE(l.TryBeginDelete(false)) << "a drained pool lives on until connpool_pool_free";
  l.BeginStop();
  EXPECT_FALSE(l.TryBeginDelete(false)) << "Close is still joining threads";
  l.MarkFreed();
  EXPECT_FALSE(l.TryBeginDelete(true)) << "connections or creates still out";
  EXPECT_TRUE(l.TryBeginDelete(false));
  EXPECT_FALSE(l.TryBeginDelete(false)) << "only one thread may delete";
}

TEST(Lifetime, APinHoldsOffDeletionUntilTheLastUnpin) {
  Lifetime l;
  l.Pin();
  l.Pin(2);  // e.g. an acquire whose two failed claims pinned it
  EXPECT_EQ(l.pins(), 3);
  l.BeginDrain();
  l.BeginStop();
  l.MarkFreed();
  EXPECT_FALSE(l.TryBeginDelete(false));
  l.Unpin(2);
  EXPECT_EQ(l.pins(), 1);
  EXPECT_FALSE(l.TryBeginDelete(false)) << "one pin is still held";
  l.Unpin();
  EXPECT_EQ(l.pins(), 0);
  EXPECT_TRUE(l.TryBeginDelete(false)) << "the last one out deletes";
}

TEST(Lifetime, RunUnlockedPinnedReleasesTheLockAndPinsMeanwhile) {
  std::mutex mu;
  Lifetime l;  // guarded by mu
  std::unique_lock<std::mutex> lk(mu);
  l.BeginDrain();
  l.BeginStop();
  l.MarkFreed();
  bool ran = false;
  l.RunUnlockedPinned(lk, [&] {
    EXPECT_FALSE(lk.owns_lock());
    // What another thread finishing its work would see now: the lock is free, and the
    // object must not be deleted under the unlocked work.
    std::unique_lock<std::mutex> other(mu, std::try_to_lock);
    ASSERT_TRUE(other.owns_lock());
    EXPECT_EQ(l.pins(), 1);
    EXPECT_FALSE(l.TryBeginDelete(false));
    ran = true;
  });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(lk.owns_lock()) << "locked again on return";
  EXPECT_EQ(l.pins(), 0);
  EXPECT_TRUE(l.TryBeginDelete(false));
}

TEST(Lifetime, PhasesHaveNames) {
  EXPECT_EQ(std::string(PhaseName(Phase::kOpen)), "open");
  EXPECT_EQ(std::string(PhaseName(Phase::kDraining)), "draining");
  EXPECT_EQ(std::string(PhaseName(Phase::kStopping)), "stopping");
  EXPECT_EQ(std::string(PhaseName(Phase::kFreed)), "freed");
  EXPECT_EQ(std::string(PhaseName(Phase::kDeleting)), "deleting");
}

#ifndef NDEBUG
TEST(LifetimeDeathTest, SkippingAPhaseOrUnpinningTooMuchIsABug) {
  EXPECT_DEATH(
      {
        Lifetime l;
        l.BeginStop();  // Close always drains first
      },
      "one step at a time");
  EXPECT_DEATH(
      {
        Lifetime l;
        l.Unpin();
      },
      "more unpins than pins");
}
#endif

}  // namespace
