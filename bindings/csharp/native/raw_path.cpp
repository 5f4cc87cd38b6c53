// SPDX-License-Identifier: Apache-2.0
// raw_path.cpp - the C# binding's acquire/release hot path as Mono raw internal calls
// (src/RawPath.cs), with fast_path.cpp's P/Invokes as the fallback for everything else.
//
// Why: under Mono's default suspend mode (hybrid/cooperative) every P/Invoke switches the
// thread to GC-safe mode and back, and those two transitions cost more than the pool's own
// acquire+release (issue 16: 171-191 ns per cycle, 96-109 ns with preemptive suspend). A raw
// internal call is a plain C call from JIT code: no wrapper, no transition.
//
// The price, and the rules this file keeps because of it:
//   * A raw call runs in GC-unsafe mode: until it returns, a collection cannot stop the world,
//     so every thread of the process that needs one waits for it. So these functions may only
//     run code that never blocks, never takes a lock that might wait, never calls back into
//     managed or user code, never allocates (managed or native) and returns quickly: the
//     lock-free tries of libconnpool (connpool_try_acquire_fast / connpool_try_release_fast,
//     which decline instead of doing anything else), the facade's lease table without making a
//     chunk, and the entry gate's TryEnter/TryLeave. Anything more is left to the P/Invoke
//     path, from GC-safe mode: ConnPool.dll calls it when these report that they declined, hold
//     a claim to finish, or must leave the gate.
//   * mono_dangerous_add_raw_internal_call is, as its name says, not a stable Mono API: it
//     exists in Mono 6.x (the embedding API's raw variant of mono_add_internal_call). It is
//     looked up with dlsym in the running process; when it is absent, or CONNPOOL_CS_NO_RAW=1,
//     ConnPool.dll never calls the raw methods and every call takes the P/Invoke path.
//   * A raw call cannot throw: there is no wrapper to turn a C++ exception into a managed one,
//     so these functions are noexcept and call only functions that do not throw.
//   * Thread.Abort between a claim (or a gate entry) and its finish would leak it; ConnPool.dll
//     makes each raw call and its follow-up P/Invoke in one finally block, where the CLI defers
//     an abort.
//
// The thread-local these touch (the gate's stripe) uses the initial-exec TLS model
// (CMakeLists.txt): a general-dynamic access in a dlopen'ed library may allocate its TLS block
// on a thread's first call, and costs a __tls_get_addr call on every one.
#include <dlfcn.h>

#include <cstdint>

#include "connpool_facade.hpp"

#define CONNPOOL_CS_EXPORT extern "C" __attribute__((visibility("default")))

using connpool_binding::Pool;

namespace {

// RawPath.TryAcquire(IntPtr pool, int priority, out long lease, out int leave): Pool::tryAcquireRaw.
int64_t RawTryAcquire(void* pool, int32_t priority, int64_t* lease_out, int32_t* leave_out) noexcept {
  return static_cast<Pool*>(pool)->tryAcquireRaw(priority, lease_out, leave_out);
}

// RawPath.TryRelease(IntPtr pool, long handle, long lease): Pool::tryReleaseRaw.
int32_t RawTryRelease(void* pool, int64_t handle, int64_t lease) noexcept {
  return static_cast<Pool*>(pool)->tryReleaseRaw(handle, lease);
}

}  // namespace

// Registers RawPath's internal calls with the running Mono, before any method that calls them
// is compiled (ConnPool.dll calls this from RawPath's static constructor): Mono resolves an
// internal call when it compiles its caller, so they must exist even when they will never be
// called. `raw` 1 and a Mono with raw internal calls: registered raw, returns 1 (use them).
// Otherwise registered through the stable mono_add_internal_call (with Mono's wrapper, so they
// would be safe, if slower, to call) and returns 0: ConnPool.dll does not call them. -1: not
// Mono at all.
CONNPOOL_CS_EXPORT int32_t connpool_cs_raw_register(int32_t raw) {
  using AddCall = void (*)(const char* name, const void* method);
  auto add_raw = reinterpret_cast<AddCall>(dlsym(RTLD_DEFAULT, "mono_dangerous_add_raw_internal_call"));
  auto add = raw != 0 && add_raw != nullptr ? add_raw
                                            : reinterpret_cast<AddCall>(dlsym(RTLD_DEFAULT, "mono_add_internal_call"));
  if (add == nullptr) return -1;
  add("ConnPool.RawPath::TryAcquire", reinterpret_cast<const void*>(&RawTryAcquire));
  add("ConnPool.RawPath::TryRelease", reinterpret_cast<const void*>(&RawTryRelease));
  return add == add_raw ? 1 : 0;
}

// --- the P/Invoke follow-ups (GC-safe: may block)

// The gate entry a raw call reported it still holds (leave = 1).
CONNPOOL_CS_EXPORT void connpool_cs_raw_leave(void* pool) {
  try {
    static_cast<Pool*>(pool)->leaveRaw();
  } catch (...) {
  }
}

// A raw claim finished on the ordinary path; the result as connpool_cs_acquire.
CONNPOOL_CS_EXPORT int64_t connpool_cs_acquire_claimed(void* pool, int64_t timeout_ms, int32_t priority, int64_t claim,
                                                       int64_t* lease_out) {
  *lease_out = 0;
  try {
    Pool* p = static_cast<Pool*>(pool);
    const int64_t r = p->acquireClaimedHandle(timeout_ms, priority, claim);
    if (r > 0)
      *lease_out = p->leaseOfHandle(r);
    else if ((-r & 0xff) == Pool::kSpilled)
      *lease_out = Pool::takeSpilledLease();
    return r;
  } catch (...) {
    return -static_cast<int64_t>(CONNPOOL_EINTERNAL);
  }
}

// A raw acquire's spilled lease into the facade's table: 1 kept, 0 not (adopt it).
CONNPOOL_CS_EXPORT int32_t connpool_cs_keep(void* pool, int64_t handle, int64_t lease) {
  try {
    return static_cast<Pool*>(pool)->keepHandleLease(handle, lease) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

// A lease the raw release took from the table but the pool declined: connpool_release(_broken).
CONNPOOL_CS_EXPORT int32_t connpool_cs_release_taken(void* pool, int64_t lease, int32_t broken) {
  try {
    return static_cast<Pool*>(pool)->releaseTaken(lease, broken != 0);
  } catch (...) {
    return CONNPOOL_EINTERNAL;
  }
}
