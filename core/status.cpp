// SPDX-License-Identifier: Apache-2.0
#include "status.h"

namespace connpool {

const char* HealthName(Health h) {
  switch (h) {
    case Health::kStarting: return "starting";
    case Health::kReady: return "ready";
    case Health::kDegraded: return "degraded";
    case Health::kUnavailable: return "unavailable";
    case Health::kDraining: return "draining";
    case Health::kClosed: return "closed";
  }
  return "unknown";
}

int HealthHttpStatus(Health h) {
  return (h == Health::kReady || h == Health::kDegraded) ? 200 : 503;
}

}  // namespace connpool
