// SPDX-License-Identifier: Apache-2.0
// Status texts, names and versions: all generated from CONNPOOL_STATUS_MAP.
#include <cstdlib>

#include "connpool/connpool.h"
#include "util/status.h"

extern "C" {

CONNPOOL_API const char* connpool_strerror(int code) {
  switch (code) {
#define CONNPOOL_STRERROR_(name, value, text) \
  case value: return text;
    CONNPOOL_STATUS_MAP(CONNPOOL_STRERROR_)
#undef CONNPOOL_STRERROR_
  }
  return "unknown status code";
}

CONNPOOL_API const char* connpool_errname(int code) {
  return connpool::StatusName(static_cast<connpool::Status>(code));
}

CONNPOOL_API const char* connpool_version_string(void) { return CONNPOOL_VERSION_STRING; }
CONNPOOL_API int connpool_version_number(void) { return CONNPOOL_VERSION_NUMBER; }

CONNPOOL_API void connpool_free(void* p) { free(p); }

}  // extern "C"
