// SPDX-License-Identifier: Apache-2.0
#include "group/consistent_hash.h"

#include <algorithm>

namespace connpool {

uint64_t HashRing::Mix(uint64_t x) {
  // splitmix64's finaliser: a bijection with full avalanche, so distinct keys never collide.
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t HashRing::HashName(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64, then mixed: FNV alone clusters short names
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return Mix(h);
}

void HashRing::Add(std::string_view name, uint32_t id) {
  const uint64_t base = HashName(name);
  points_.reserve(points_.size() + kVirtualNodes);
  for (int v = 0; v < kVirtualNodes; ++v)
    points_.push_back({Mix(base ^ Mix(static_cast<uint64_t>(v))), id});
  std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.id < b.id;
  });
}

uint32_t HashRing::Lookup(uint64_t key) const {
  const uint64_t h = Mix(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const Point& p, uint64_t v) { return p.hash < v; });
  if (it == points_.end()) it = points_.begin();  // past the last point: wrap around
  return it->id;
}

}  // namespace connpool
