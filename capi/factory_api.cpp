// SPDX-License-Identifier: Apache-2.0
// connpool_factory_*: the user's callbacks behind the core's Factory interface.
#include <new>
#include <string>

#include "capi_types.h"

connpool_factory_s::~connpool_factory_s() {
  if (ctx_free != nullptr) ctx_free(ctx);
}

connpool::CreateResult connpool_factory_s::Create(void** conn, std::string* err) {
  // The callback gets a zeroed buffer, so a callback that writes nothing leaves "".
  char buf[512] = {0};
  *conn = nullptr;
  int rc = create(ctx, conn, buf, sizeof buf);
  buf[sizeof buf - 1] = '\0';
  switch (rc) {
    case CONNPOOL_FACTORY_OK: return connpool::CreateResult::kOk;
    case CONNPOOL_FACTORY_FATAL:
      *err = buf;
      return connpool::CreateResult::kFatal;
    case CONNPOOL_FACTORY_RETRY:
      *err = buf;
      return connpool::CreateResult::kRetry;
    default:
      // An unknown code is treated as transient: retrying is the safer guess.
      *err = std::string(buf) + (buf[0] ? " " : "") + "(create returned unknown code " +
             std::to_string(rc) + ")";
      return connpool::CreateResult::kRetry;
  }
}

extern "C" {

CONNPOOL_API connpool_factory_t* connpool_factory_new(
    void* ctx, void (*ctx_free)(void* ctx),
    int (*create)(void* ctx, void** conn_out, char* err, size_t errlen),
    void (*destroy)(void* ctx, void* conn)) {
  if (create == nullptr || destroy == nullptr) return nullptr;
  connpool_factory_s* f = new (std::nothrow) connpool_factory_s();
  if (f == nullptr) return nullptr;
  f->ctx = ctx;
  f->ctx_free = ctx_free;
  f->create = create;
  f->destroy = destroy;
  return f;
}

CONNPOOL_API void connpool_factory_set_validate(connpool_factory_t* f,
                                                int (*validate)(void* ctx, void* conn)) {
  if (f != nullptr) f->validate = validate;
}

CONNPOOL_API void connpool_factory_set_reset(connpool_factory_t* f, int (*reset)(void* ctx, void* conn)) {
  if (f != nullptr) f->reset = reset;
}

CONNPOOL_API void connpool_factory_free(connpool_factory_t* f) { delete f; }

}  // extern "C"
