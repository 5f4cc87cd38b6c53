// SPDX-License-Identifier: Apache-2.0
#include "util/status.h"

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

const char* StatusName(Status st) {
  switch (st) {
#define CONNPOOL_CORE_STATUS_NAME_(name, value, text) \
  case Status::k##name: return "CONNPOOL_" #name;
    CONNPOOL_STATUS_MAP(CONNPOOL_CORE_STATUS_NAME_)
#undef CONNPOOL_CORE_STATUS_NAME_
  }
  return "CONNPOOL_EUNKNOWN";
}

int HealthHttpStatus(Health h) {
  return (h == Health::kReady || h == Health::kDegraded) ? 200 : 503;
}

}  // namespace connpool
