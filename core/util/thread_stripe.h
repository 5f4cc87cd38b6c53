// SPDX-License-Identifier: Apache-2.0
// Per-thread stripe numbers for hot-path data spread over cache lines (the acquire path's
// starting slot; util/entry_gate.h keeps its own, being header-only for the bindings).
#ifndef CONNPOOL_CORE_UTIL_THREAD_STRIPE_H
#define CONNPOOL_CORE_UTIL_THREAD_STRIPE_H

namespace connpool {

// This thread's stripe, assigned round-robin on first use.
unsigned ThreadStripe();

}  // namespace connpool

#endif
