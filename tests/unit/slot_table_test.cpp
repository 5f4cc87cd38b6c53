// SPDX-License-Identifier: Apache-2.0
// SlotTable on its own: the word protocol without a pool (no clock, no factory, no threads
// except in the claim race test).
#include "pool/slot_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace connpool {
namespace {

// `n` slots reserved and made idle, as a pool's creates would leave them.
void Fill(SlotTable& t, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t idx = 0;
    bool is_new = false;
    ASSERT_TRUE(t.ReserveLocked(&idx, &is_new));
    ASSERT_TRUE(is_new);
    ASSERT_EQ(idx, i);
    t.BeginCreate(idx);
    t.MakeIdleOwnedLocked(idx);
  }
}

// Gives lease (idx, gen) back the fast way: the check, then the CAS. False if either refuses.
bool GiveBack(SlotTable& t, uint32_t idx, uint64_t gen) {
  SlotWord w;
  return t.HoldsLease(idx, gen, &w) && t.TryGiveBack(idx, w);
}

TEST(SlotTable, ReserveHandsOutIndicesThenReusesFreedOnes) {
  SlotTable t(3);
  EXPECT_EQ(t.Capacity(), 0u);
  uint32_t a, b, c, d;
  bool is_new = false;
  ASSERT_TRUE(t.ReserveLocked(&a, &is_new));
  EXPECT_TRUE(is_new);
  ASSERT_TRUE(t.ReserveLocked(&b, &is_new));
  ASSERT_TRUE(t.ReserveLocked(&c, &is_new));
  EXPECT_EQ(t.Capacity(), 3u);
  EXPECT_FALSE(t.ReserveLocked(&d, &is_new)) << "max_slots reached";
  t.FreeLocked(b);
  EXPECT_EQ(t.Read(b).state(), kEmpty);
  ASSERT_TRUE(t.ReserveLocked(&d, &is_new));
  EXPECT_EQ(d, b);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(t.Capacity(), 3u);
}

TEST(SlotTable, ChunksBeyondTheFirstAreUsable) {
  SlotTable t(SlotTable::kChunkSlots * 2 + 1);
  Fill(t, SlotTable::kChunkSlots * 2 + 1);
  EXPECT_EQ(t.Count().idle, SlotTable::kChunkSlots * 2 + 1);
  EXPECT_NE(&t.At(0), &t.At(SlotTable::kChunkSlots));
}

TEST(SlotTable, OneCacheLinePerSlot) {
  SlotTable t(2);
  Fill(t, 2);
  EXPECT_EQ(reinterpret_cast<char*>(&t.At(1)) - reinterpret_cast<char*>(&t.At(0)), 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&t.At(0)) % 64, 0u);
}

TEST(SlotTable, ClaimBumpsTheGenerationAndGiveBackKeepsIt) {
  SlotTable t(1);
  Fill(t, 1);
  uint32_t idx;
  uint64_t gen;
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  EXPECT_EQ(idx, 0u);
  EXPECT_EQ(gen, 1u);
  EXPECT_EQ(t.Read(0).state(), kLeased);
  uint32_t other;
  uint64_t other_gen;
  EXPECT_FALSE(t.ClaimIdle(false, &other, &other_gen)) << "nothing idle";
  ASSERT_TRUE(GiveBack(t, 0, gen));
  EXPECT_EQ(t.Read(0).state(), kIdle);
  EXPECT_EQ(t.Read(0).gen(), 1u);
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  EXPECT_EQ(gen, 2u);
  EXPECT_EQ(t.Count().generations, 2u);
}

TEST(SlotTable, StaleLeaseIsRefused) {
  SlotTable t(1);
  Fill(t, 1);
  uint32_t idx;
  uint64_t gen;
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  ASSERT_TRUE(GiveBack(t, idx, gen));
  // The same lease again: the slot is idle, and once leased anew, of another generation.
  SlotWord w;
  EXPECT_FALSE(t.HoldsLease(idx, gen, &w));
  EXPECT_FALSE(t.TryGiveBack(idx, w)) << "a give-back needs the leased word it checked";
  EXPECT_FALSE(t.TakeBack(idx, gen, &w));
  uint64_t gen2;
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen2));
  EXPECT_FALSE(t.HoldsLease(idx, gen, &w));
  EXPECT_FALSE(t.TakeBack(idx, gen, &w));
  EXPECT_TRUE(t.HoldsLease(idx, gen2, &w));
  // A word read before a racing give-back cannot be given back twice.
  SlotWord seen;
  ASSERT_TRUE(t.HoldsLease(idx, gen2, &seen));
  EXPECT_TRUE(t.TryGiveBack(idx, seen));
  EXPECT_FALSE(t.TryGiveBack(idx, seen));
}

TEST(SlotTable, TakeBackOwnsTheSlotUntilItTurnsIdle) {
  SlotTable t(1);
  Fill(t, 1);
  uint32_t idx;
  uint64_t gen;
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  SlotWord w;
  ASSERT_TRUE(t.TakeBack(idx, gen, &w));
  EXPECT_EQ(w.state(), kReturning);
  EXPECT_EQ(t.Read(idx).state(), kReturning);
  EXPECT_FALSE(t.TakeBack(idx, gen, &w)) << "taken back once only";
  uint32_t other;
  uint64_t other_gen;
  EXPECT_FALSE(t.ClaimIdle(false, &other, &other_gen));
  EXPECT_TRUE(t.TryIdleFromReturning(idx, gen));
  EXPECT_EQ(t.Read(idx).state(), kIdle);
}

TEST(SlotTable, AWaitersScanMarksLeasesSoTheirGiveBackFails) {
  SlotTable t(2);
  Fill(t, 2);
  uint32_t a, b;
  uint64_t ga, gb;
  ASSERT_TRUE(t.ClaimIdle(false, &a, &ga));
  ASSERT_TRUE(t.ClaimIdle(false, &b, &gb));
  SlotWord wa, wb;
  ASSERT_TRUE(t.HoldsLease(a, ga, &wa));
  ASSERT_TRUE(t.TakeBack(b, gb, &wb));  // b is being returned the exclusive way
  uint32_t idx;
  uint64_t gen;
  EXPECT_FALSE(t.ClaimIdle(true, &idx, &gen));
  EXPECT_TRUE(t.Read(a).flagged());
  EXPECT_TRUE(t.Read(b).flagged());
  EXPECT_FALSE(t.TryGiveBack(a, wa)) << "the word changed under the releaser";
  SlotWord again;
  EXPECT_TRUE(t.HoldsLease(a, ga, &again)) << "a mark does not end the lease";
  EXPECT_FALSE(t.TryGiveBack(a, again)) << "a marked slot never goes back the fast way";
  EXPECT_FALSE(t.TryIdleFromReturning(b, gb));
  // Its owner hands it on under the mutex, which clears the mark.
  EXPECT_EQ(t.LeaseOwnedLocked(b), gb + 1);
  EXPECT_FALSE(t.Read(b).flagged());
}

TEST(SlotTable, DrainMarksEverySlotAndReservesTheIdleOnes) {
  SlotTable t(3);
  Fill(t, 3);
  uint32_t leased;
  uint64_t gen;
  ASSERT_TRUE(t.ClaimIdle(false, &leased, &gen));
  SlotWord w;
  ASSERT_TRUE(t.HoldsLease(leased, gen, &w));
  std::vector<uint32_t> idle;
  t.MarkAllClosingLocked(&idle);
  EXPECT_EQ(idle.size(), 2u);
  for (uint32_t i : idle) EXPECT_EQ(t.Read(i).state(), kReserved);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_TRUE(t.IsClosing(i));
  EXPECT_FALSE(t.TryGiveBack(leased, w));
  uint32_t idx;
  EXPECT_FALSE(t.ClaimIdle(false, &idx, &gen));
  // Freed slots keep the mark, so a create that finishes after the drain began sees it too.
  t.FreeLocked(idle[0]);
  EXPECT_TRUE(t.IsClosing(idle[0]));
}

TEST(SlotTable, ReserveIdleTakesOnlyUnmarkedIdleSlots) {
  SlotTable t(2);
  Fill(t, 2);
  uint32_t idx;
  uint64_t gen;
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  const uint32_t other = 1 - idx;
  EXPECT_FALSE(t.ReserveIdle(idx)) << "leased";
  EXPECT_TRUE(t.ReserveIdle(other));
  EXPECT_FALSE(t.ReserveIdle(other)) << "already reserved";
  EXPECT_EQ(t.Read(other).gen(), 0u) << "a reservation is no lease";
  t.MakeIdleOwnedLocked(other);
  EXPECT_EQ(t.Read(other).state(), kIdle);
}

TEST(SlotTable, ClaimStartsAtThisThreadsHint) {
  SlotTable t(8);
  Fill(t, 8);
  std::vector<uint32_t> held;
  uint32_t idx;
  uint64_t gen;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
    held.push_back(idx);
  }
  // Give back the last one claimed: the next claim must find that very slot again.
  const uint32_t last = held.back();
  ASSERT_TRUE(GiveBack(t, last, gen));
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  EXPECT_EQ(idx, last);
  // SetHint moves it (a slot handed over by a releaser).
  ASSERT_TRUE(GiveBack(t, idx, gen));
  ASSERT_TRUE(GiveBack(t, held[0], 1));
  t.SetHint(held[0]);
  ASSERT_TRUE(t.ClaimIdle(false, &idx, &gen));
  EXPECT_EQ(idx, held[0]);
}

TEST(SlotTable, CountAndForEachSeeEveryState) {
  SlotTable t(6);
  Fill(t, 5);
  uint32_t extra;
  bool is_new;
  ASSERT_TRUE(t.ReserveLocked(&extra, &is_new));
  t.BeginCreate(extra);  // creating
  uint32_t a, b, c;
  uint64_t ga, gb, gc;
  ASSERT_TRUE(t.ClaimIdle(false, &a, &ga));  // leased
  ASSERT_TRUE(t.ClaimIdle(false, &b, &gb));
  SlotWord w;
  ASSERT_TRUE(t.TakeBack(b, gb, &w));  // returning
  ASSERT_TRUE(t.ClaimIdle(false, &c, &gc));
  ASSERT_TRUE(t.TakeBack(c, gc, &w));
  t.FreeLocked(c);  // empty
  uint32_t r = 0;
  for (uint32_t i = 0; i < 5; ++i)
    if (t.Read(i).state() == kIdle) r = i;
  ASSERT_TRUE(t.ReserveIdle(r));  // reserved; one idle left
  const SlotTable::Counts n = t.Count();
  EXPECT_EQ(n.empty, 1u);
  EXPECT_EQ(n.creating, 1u);
  EXPECT_EQ(n.idle, 1u);
  EXPECT_EQ(n.leased, 1u);
  EXPECT_EQ(n.returning, 1u);
  EXPECT_EQ(n.reserved, 1u);
  EXPECT_EQ(n.in_use(), 2u);
  EXPECT_EQ(n.idle_or_reserved(), 2u);
  EXPECT_EQ(n.generations, 3u);
  uint32_t visited = 0;
  t.ForEach([&](uint32_t i, SlotWord sw, const Slot& s) {
    EXPECT_EQ(&s, &t.At(i));
    EXPECT_EQ(sw.w, t.Read(i).w);
    ++visited;
  });
  EXPECT_EQ(visited, 6u);
}

// Many threads claim and give back a few slots as fast as they can: no slot may ever be held
// by two of them at once, and every claim is one generation (so the sum equals the claims).
// Fails if a claim's CAS were replaced by a load and a store, or the give-back lost a race.
TEST(SlotTable, ConcurrentClaimsNeverShareASlot) {
  constexpr uint32_t kSlots = 3;
  constexpr int kThreads = 6;
  constexpr int kCycles = 20000;
  SlotTable t(kSlots);
  Fill(t, kSlots);
  std::atomic<int> holders[kSlots] = {};
  std::atomic<bool> shared{false};
  std::atomic<uint64_t> claims{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCycles; ++i) {
        uint32_t idx;
        uint64_t gen;
        if (!t.ClaimIdle(false, &idx, &gen)) {
          std::this_thread::yield();
          continue;
        }
        claims.fetch_add(1, std::memory_order_relaxed);
        if (holders[idx].fetch_add(1, std::memory_order_acq_rel) != 0) shared = true;
        holders[idx].fetch_sub(1, std::memory_order_acq_rel);
        if (!GiveBack(t, idx, gen)) shared = true;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_FALSE(shared.load());
  EXPECT_EQ(t.Count().generations, claims.load());
  EXPECT_EQ(t.Count().idle, kSlots);
}

}  // namespace
}  // namespace connpool
