// SPDX-License-Identifier: Apache-2.0
// A consistent-hash ring for sharded pool groups (connpool_group_acquire_key).
//
// Each shard owns kVirtualNodes points on a 64-bit ring, placed by hashing the shard's *name*
// (not its position), so a ring built from the same names maps keys the same way in every
// process and in any insertion order. A key belongs to the first point at or after its hash.
// Adding a shard to N shards takes ~1/(N+1) of the keys, all of them moving to the new shard;
// no key moves between old shards. Removing is not offered: data lives on its shard, so a
// departed shard's keys must fail (ECLOSED) rather than silently land elsewhere.
//
// Not synchronised: the owner (Group) guards it with its mutex.
#ifndef CONNPOOL_CORE_CONSISTENT_HASH_H
#define CONNPOOL_CORE_CONSISTENT_HASH_H

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace connpool {

class HashRing {
 public:
  // 256 points per shard: the share of keys a shard owns then deviates from 1/N by about
  // 1/sqrt(256) = 6% (one standard deviation); the ring costs 4 KiB per shard.
  static constexpr int kVirtualNodes = 256;

  // Adds shard `id` (an opaque number the caller maps back to its member) named `name`.
  void Add(std::string_view name, uint32_t id);
  // The id owning `key`; the ring must not be empty.
  uint32_t Lookup(uint64_t key) const;
  bool empty() const { return points_.empty(); }
  size_t size() const { return points_.size(); }

  // The 64-bit mixers, exposed for tests: keys are scrambled first so that sequential keys
  // (1, 2, 3, ...) spread over the ring.
  static uint64_t Mix(uint64_t x);
  static uint64_t HashName(std::string_view name);

 private:
  struct Point {
    uint64_t hash;
    uint32_t id;
  };
  std::vector<Point> points_;  // sorted by hash (ties by id, so the order is deterministic)
};

}  // namespace connpool

#endif
