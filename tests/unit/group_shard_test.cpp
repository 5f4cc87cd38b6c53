// SPDX-License-Identifier: Apache-2.0
// Sharded groups: the consistent-hash ring's balance and key movement, and key routing
// through a group (owner only, fail fast, no silent re-homing).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "group/consistent_hash.h"
#include "unit/group_fixture.h"

namespace connpool::testing {
namespace {

constexpr uint64_t kKeys = 200000;

std::vector<uint32_t> Owners(const HashRing& ring) {
  std::vector<uint32_t> out(kKeys);
  for (uint64_t k = 0; k < kKeys; ++k) out[k] = ring.Lookup(k);
  return out;
}

HashRing Ring(int shards) {
  HashRing r;
  for (int i = 0; i < shards; ++i) r.Add("shard-" + std::to_string(i), static_cast<uint32_t>(i));
  return r;
}

// Sequential keys (the worst case for a naive hash) spread evenly: with 256 virtual nodes a
// shard's share deviates from 1/N by ~6% (1 sigma); the bound is 20% so only a broken ring
// (no mixing, too few points, a wrap-around bug) fails, and the data is deterministic.
TEST(HashRingTest, KeysAreBalancedAcrossShards) {
  for (int n : {2, 3, 4, 8, 16}) {
    std::vector<uint32_t> owners = Owners(Ring(n));
    std::vector<uint64_t> count(n);
    for (uint32_t o : owners) count[o]++;
    const double expected = static_cast<double>(kKeys) / n;
    for (int i = 0; i < n; ++i) {
      EXPECT_GT(count[i], expected * 0.80) << n << " shards, shard " << i;
      EXPECT_LT(count[i], expected * 1.20) << n << " shards, shard " << i;
    }
  }
}

// Adding a shard to N moves ~1/(N+1) of the keys, every one of them to the new shard.
TEST(HashRingTest, AddingAShardMovesAboutOneNthOfTheKeysOnlyToIt) {
  for (int n : {1, 2, 4, 8}) {
    HashRing before = Ring(n);
    HashRing after = Ring(n);
    after.Add("shard-" + std::to_string(n), static_cast<uint32_t>(n));
    std::vector<uint32_t> a = Owners(before), b = Owners(after);
    uint64_t moved = 0;
    for (uint64_t k = 0; k < kKeys; ++k) {
      if (a[k] == b[k]) continue;
      ++moved;
      ASSERT_EQ(b[k], static_cast<uint32_t>(n)) << "key " << k << " moved between old shards";
    }
    const double share = static_cast<double>(moved) / kKeys, ideal = 1.0 / (n + 1);
    EXPECT_GT(share, ideal * 0.75) << n << " -> " << n + 1;
    EXPECT_LT(share, ideal * 1.25) << n << " -> " << n + 1;
  }
}

// Points come from names, so the mapping is the same in every process and insertion order.
TEST(HashRingTest, MappingDependsOnNamesNotInsertionOrder) {
  HashRing fwd, rev;
  const char* names[] = {"eu", "us", "ap"};
  for (uint32_t i = 0; i < 3; ++i) fwd.Add(names[i], i);
  for (int i = 2; i >= 0; --i) rev.Add(names[i], static_cast<uint32_t>(i));
  for (uint64_t k = 0; k < 10000; ++k) ASSERT_EQ(fwd.Lookup(k * 7919), rev.Lookup(k * 7919));
  // Pinned values: a change here re-homes users' keys, which must be a deliberate decision.
  EXPECT_EQ(HashRing::Mix(0), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(HashRing::Mix(1), 0x910A2DEC89025CC1ull);
}

TEST(HashRingTest, ExtremeKeysWrapAround) {
  HashRing r = Ring(3);
  for (uint64_t k : {uint64_t{0}, UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63}) EXPECT_LT(r.Lookup(k), 3u);
}

using ShardGroupTest = GroupTest;

TEST_F(ShardGroupTest, KeysGoToTheirOwnerAndNeverElsewhere) {
  NewGroup("users");
  std::vector<Pool*> pools;
  HashRing expected;
  for (int i = 0; i < 3; ++i) {
    std::string name = "shard-" + std::to_string(i);
    Member& m = NewPool(name, SmallConfig(4));
    AddMember(name.c_str(), Role::kShard, m);
    pools.push_back(m.pool);
    expected.Add(name, static_cast<uint32_t>(i));
  }
  std::map<Pool*, int> hits;
  for (uint64_t key = 0; key < 300; ++key) {
    Pool* m = nullptr;
    uint64_t l;
    void* c;
    std::string err;
    ASSERT_EQ(group_->AcquireKey(key, 0, &m, &l, &c, &err), Status::kOK) << err;
    EXPECT_EQ(m, pools[expected.Lookup(key)]) << key;
    hits[m]++;
    EXPECT_EQ(m->Release(l, false), Status::kOK);
  }
  EXPECT_EQ(hits.size(), 3u);
  // Reads and writes do not use shards.
  Pool* m;
  uint64_t l;
  void* c;
  std::string err;
  EXPECT_EQ(group_->Acquire(CONNPOOL_INTENT_READ, 0, &m, &l, &c, &err), Status::kEINVAL);

  // An unavailable shard fails fast for its keys only; other shards' keys are unaffected.
  MakeUnavailable(members_[1]);
  for (uint64_t key = 0; key < 100; ++key) {
    Pool* got = nullptr;
    Status st = group_->AcquireKey(key, 1'000'000, &got, &l, &c, &err);  // frozen clock: no waiting
    if (expected.Lookup(key) == 1) {
      EXPECT_EQ(st, Status::kEUNAVAILABLE) << key;
      EXPECT_EQ(got, nullptr);
    } else {
      ASSERT_EQ(st, Status::kOK) << key;
      EXPECT_EQ(got->Release(l, false), Status::kOK);
    }
  }
  // A freed shard's keys are ECLOSED: they never move to a shard that lacks their data.
  FreePool(members_[2]);
  for (uint64_t key = 0; key < 100; ++key) {
    Pool* got = nullptr;
    Status st = group_->AcquireKey(key, 0, &got, &l, &c, &err);
    if (expected.Lookup(key) == 2) {
      EXPECT_EQ(st, Status::kECLOSED) << key;
    }
    if (st == Status::kOK) {
      EXPECT_EQ(got->Release(l, false), Status::kOK);
    }
  }
}

}  // namespace
}  // namespace connpool::testing
