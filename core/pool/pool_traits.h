// SPDX-License-Identifier: Apache-2.0
// PoolTraits - what a pool is, decided once in Pool's constructor and never changed: which
// clock it reads, its lease tag, which callbacks and release path it needs.
//
// Why a struct of its own: these are read without a lock on every path (the fast path reads
// several per call), and keeping them together and const says so in one place instead of in
// seven separate `const` members of Pool.
#ifndef CONNPOOL_CORE_POOL_POOL_TRAITS_H
#define CONNPOOL_CORE_POOL_POOL_TRAITS_H

#include <cstdint>

namespace connpool {

struct PoolTraits {
  bool steady_clock;      // the pool's clock is the SteadyClock: Pool::CoarseNowNs() reads it inline
  uint64_t tag;           // in every lease of this pool (slot.h, MakeLease), so a lease of another pool is stale
  int64_t created_ns;     // when the pool was made (uptime, the health machine's start)
  bool has_validate;      // the factory has a validate callback
  bool reset_on_release;  // config reset_on_release and the factory has a reset callback
  // Release must own the slot before deciding (a reset callback or max_uses in play).
  bool exclusive_release;
  bool mux;  // max_leases_per_conn > 1: leases share connections (shared_leases.h)
};

}  // namespace connpool

#endif
