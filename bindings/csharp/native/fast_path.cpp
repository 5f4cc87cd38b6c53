// SPDX-License-Identifier: Apache-2.0
// fast_path.cpp - the C# binding's acquire/release hot path, compiled into
// libconnpool_csharp.so beside the SWIG wrapper and P/Invoked by src/FastPath.cs.
//
// Why not the SWIG wrappers: each generated call marshals a HandleRef and a bool and reads
// SWIG's pending-exception flag (a [ThreadStatic]). These two functions take only pointers and
// integers, return their status in the result, and throw nothing, so Mono's P/Invoke stub is
// a plain call plus its GC-safe transition. They are not part of libconnpool's ABI: only
// ConnPool.dll calls them, and the two ship together.
//
// `pool` is the connpool_binding::Pool* behind a NativePool (its swigCPtr). The caller keeps
// the NativePool reachable for the duration of the call.
#include <cstdint>

#include "connpool_facade.hpp"

#define CONNPOOL_CS_EXPORT extern "C" __attribute__((visibility("default")))

using connpool_binding::Pool;

// Pool::acquireHandleBlocking plus the lease, in one call. > 0: the connection's handle, its
// lease kept by handle in the facade and also written to *lease_out (the C# Lease keeps both,
// so a release can check it gives back this very lease). <= 0: minus the status in the low
// byte; for Pool::kSpilled the handle above it and the lease, which the facade did not keep,
// in *lease_out. Never throws.
CONNPOOL_CS_EXPORT int64_t connpool_cs_acquire(void* pool, int64_t timeout_ms, int32_t priority,
                                               int64_t* lease_out) {
  *lease_out = 0;
  try {
    Pool* p = static_cast<Pool*>(pool);
    const int64_t r = p->acquireHandleBlocking(timeout_ms, priority);
    if (r > 0)
      *lease_out = p->leaseOfHandle(r);
    else if ((-r & 0xff) == Pool::kSpilled)
      *lease_out = Pool::takeSpilledLease();
    return r;
  } catch (...) {
    return -static_cast<int64_t>(CONNPOOL_EINTERNAL);
  }
}

// Pool::releaseHandleLease: CONNPOOL_OK, or CONNPOOL_ESTALE when this lease was given back
// already (nothing happens then), or what connpool_release returned. Never throws.
CONNPOOL_CS_EXPORT int32_t connpool_cs_release(void* pool, int64_t handle, int64_t lease, int32_t broken) {
  try {
    return static_cast<Pool*>(pool)->releaseHandleLease(handle, lease, broken != 0);
  } catch (...) {
    return CONNPOOL_EINTERNAL;
  }
}
