// SPDX-License-Identifier: Apache-2.0
// Per-thread stripe numbers for hot-path data spread over cache lines (the acquire path's
// starting slot; util/entry_gate.h keeps its own, being header-only for the bindings).
#ifndef CONNPOOL_CORE_UTIL_THREAD_STRIPE_H
#define CONNPOOL_CORE_UTIL_THREAD_STRIPE_H

// For thread-locals read on every acquire or release: the initial-exec TLS model turns each
// access into one %fs-relative load. The default for a shared library (global-dynamic) calls
// __tls_get_addr instead, which cost three calls and ~10% of an uncontended cycle. A library
// that is dlopen'ed (the bindings) takes these few bytes from the static TLS surplus that
// glibc reserves for exactly this.
#if defined(__GNUC__)
#define CONNPOOL_TLS_HOT __attribute__((tls_model("initial-exec")))
#else
#define CONNPOOL_TLS_HOT
#endif

namespace connpool {

// This thread's stripe, assigned round-robin on first use.
unsigned ThreadStripe();

}  // namespace connpool

#endif
