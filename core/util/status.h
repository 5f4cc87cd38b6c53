// SPDX-License-Identifier: Apache-2.0
// Status codes of the core, the same values as the C ABI's CONNPOOL_* codes: the core includes
// the public header for its one X-macro list so the two can never drift apart.
#ifndef CONNPOOL_CORE_STATUS_H
#define CONNPOOL_CORE_STATUS_H

#include "connpool/connpool.h"

namespace connpool {

enum class Status : int {
#define CONNPOOL_CORE_STATUS_(name, value, text) k##name = value,
  CONNPOOL_STATUS_MAP(CONNPOOL_CORE_STATUS_)
#undef CONNPOOL_CORE_STATUS_
};

inline int ToInt(Status s) { return static_cast<int>(s); }

// Health states, same values as CONNPOOL_STATE_*.
enum class Health : int {
  kStarting = CONNPOOL_STATE_STARTING,
  kReady = CONNPOOL_STATE_READY,
  kDegraded = CONNPOOL_STATE_DEGRADED,
  kUnavailable = CONNPOOL_STATE_UNAVAILABLE,
  kDraining = CONNPOOL_STATE_DRAINING,
  kClosed = CONNPOOL_STATE_CLOSED,
};

const char* HealthName(Health h);
// "CONNPOOL_ETIMEOUT" and so on, as connpool_errname (the core does not link the C API).
const char* StatusName(Status st);
// 200 for ready/degraded, 503 otherwise: what a readiness probe should answer.
int HealthHttpStatus(Health h);

}  // namespace connpool

#endif
