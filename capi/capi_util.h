// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the extern "C" files: copying messages into caller buffers and the
// exception guard that keeps every C++ exception from crossing the ABI.
#ifndef CONNPOOL_CAPI_UTIL_H
#define CONNPOOL_CAPI_UTIL_H

#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "connpool/connpool.h"
#include "util/redact.h"

namespace connpool {

// Copies a redacted, NUL-terminated, possibly truncated message into err[errlen].
inline void WriteError(char* err, size_t errlen, const std::string& msg) {
  if (err == nullptr || errlen == 0) return;
  std::string clean = Redact(msg);
  size_t n = clean.size() < errlen - 1 ? clean.size() : errlen - 1;
  memcpy(err, clean.data(), n);
  err[n] = '\0';
}

inline void ClearError(char* err, size_t errlen) {
  if (err != nullptr && errlen > 0) err[0] = '\0';
}

// Runs `body` (returning a status int); maps escaping exceptions to ENOMEM / EINTERNAL.
template <typename F>
int Guard(char* err, size_t errlen, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    WriteError(err, errlen, "out of memory");
    return CONNPOOL_ENOMEM;
  } catch (const std::exception& e) {
    WriteError(err, errlen, std::string("internal error: ") + e.what());
    return CONNPOOL_EINTERNAL;
  } catch (...) {
    WriteError(err, errlen, "internal error");
    return CONNPOOL_EINTERNAL;
  }
}

}  // namespace connpool

#endif
