// SPDX-License-Identifier: Apache-2.0
// connpool_cancel_*: cancel tokens (cancel_token.h has the lock order and lifetime rules).
#include <new>

#include "capi_types.h"

extern "C" {

CONNPOOL_API connpool_cancel_t* connpool_cancel_new(void) { return new (std::nothrow) connpool_cancel_s(); }

CONNPOOL_API void connpool_cancel_trigger(connpool_cancel_t* cancel) {
  if (cancel == nullptr) return;
  try {
    cancel->Trigger();
  } catch (...) {  // a mutex that cannot be locked (std::system_error): nothing to report to
  }
}

CONNPOOL_API int connpool_cancel_triggered(const connpool_cancel_t* cancel) {
  return cancel != nullptr && cancel->Triggered() ? 1 : 0;
}

CONNPOOL_API void connpool_cancel_free(connpool_cancel_t* cancel) { delete cancel; }

}  // extern "C"
