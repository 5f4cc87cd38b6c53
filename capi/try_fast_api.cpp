// SPDX-License-Identifier: Apache-2.0
// connpool_try_acquire_fast, connpool_acquire_claimed, connpool_try_release_fast: the
// lock-free tries (core/pool/fast_tries.cpp says what they decline and why).
//
// The two tries may run where blocking is forbidden (a Mono raw internal call), so their
// bodies here add nothing that could: argument checks and the core call. Catch is Guard
// (capi_util.h) for functions without an error buffer; it costs nothing unless something
// throws, which the tries never do (they allocate nothing).
#include <new>

#include "connpool/connpool.h"
#include "pool/pool.h"

using connpool::Pool;
using connpool::ToInt;

namespace {

Pool* AsPool(connpool_pool_t* p) { return reinterpret_cast<Pool*>(p); }

template <typename F>
int Catch(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return CONNPOOL_ENOMEM;
  } catch (...) {
    return CONNPOOL_EINTERNAL;
  }
}

}  // namespace

extern "C" {

CONNPOOL_API int connpool_try_acquire_fast(connpool_pool_t* pool, int priority, connpool_lease_t* lease_out,
                                           void** conn_out) {
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
  if (pool == nullptr || lease_out == nullptr) return CONNPOOL_EINVAL;
  return Catch([&]() -> int { return ToInt(AsPool(pool)->TryAcquireFast(priority, lease_out, conn_out)); });
}

CONNPOOL_API int connpool_acquire_claimed(connpool_pool_t* pool, int priority, int64_t timeout_ms,
                                          connpool_lease_t claim, connpool_lease_t* lease_out, void** conn_out) {
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
  if (pool == nullptr || lease_out == nullptr) return CONNPOOL_EINVAL;
  return Catch([&]() -> int {
    return ToInt(AsPool(pool)->AcquireClaimed(claim, priority, timeout_ms, lease_out, conn_out));
  });
}

CONNPOOL_API int connpool_try_release_fast(connpool_pool_t* pool, connpool_lease_t lease) {
  if (pool == nullptr) return CONNPOOL_EINVAL;
  return Catch([&]() -> int { return ToInt(AsPool(pool)->TryReleaseFast(lease)); });
}

}  // extern "C"
