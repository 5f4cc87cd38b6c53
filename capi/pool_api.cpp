// SPDX-License-Identifier: Apache-2.0
// connpool_pool_*, acquire/release and logging: argument checks, then the core.
// A connpool_pool_t* is the connpool::Pool* itself.
#include <memory>

#include <type_traits>

#include "capi_types.h"
#include "capi_util.h"
#include "group/group.h"
#include "pool/pool.h"
#include "stats/stats_json.h"
#include "util/log.h"

using connpool::ClearError;
using connpool::Guard;
using connpool::Pool;
using connpool::ToInt;
using connpool::WriteError;

namespace {

Pool* AsPool(connpool_pool_t* p) { return reinterpret_cast<Pool*>(p); }
const Pool* AsPool(const connpool_pool_t* p) { return reinterpret_cast<const Pool*>(p); }

int DoAcquire(connpool_pool_t* pool, int priority, int64_t timeout_ms, connpool_lease_t* lease_out,
              void** conn_out) {
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
  if (pool == nullptr || lease_out == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int { return ToInt(AsPool(pool)->Acquire(priority, timeout_ms, lease_out, conn_out)); });
}

}  // namespace

extern "C" {

CONNPOOL_API int connpool_pool_new(const connpool_config_t* cfg, connpool_factory_t* factory,
                                   connpool_pool_t** out, char* err, size_t errlen) {
  // Ownership of `factory` passes to us whatever happens, so it is freed on every failure.
  std::unique_ptr<connpool::Factory> owned(factory);
  return Guard(err, errlen, [&]() -> int {
    connpool::ClearError(err, errlen);
    if (out == nullptr) {
      WriteError(err, errlen, "connpool_pool_new: out is NULL");
      return CONNPOOL_EINVAL;
    }
    *out = nullptr;
    if (!owned) {
      WriteError(err, errlen, "connpool_pool_new: factory is NULL");
      return CONNPOOL_EINVAL;
    }
    connpool::Config defaults;
    Pool* p = nullptr;
    std::string msg;
    connpool::Status st = Pool::Create(cfg ? cfg->cfg : defaults, std::move(owned), {}, &p, &msg);
    if (st != connpool::Status::kOK) {
      WriteError(err, errlen, msg);
      return ToInt(st);
    }
    *out = reinterpret_cast<connpool_pool_t*>(p);
    return CONNPOOL_OK;
  });
}

CONNPOOL_API int connpool_pool_wait_ready(connpool_pool_t* pool, int64_t timeout_ms) {
  if (pool == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int { return ToInt(AsPool(pool)->WaitReady(timeout_ms)); });
}

CONNPOOL_API int connpool_acquire(connpool_pool_t* pool, int64_t timeout_ms, connpool_lease_t* lease_out,
                                  void** conn_out) {
  return DoAcquire(pool, 0, timeout_ms, lease_out, conn_out);
}

CONNPOOL_API int connpool_acquire_priority(connpool_pool_t* pool, int priority, int64_t timeout_ms,
                                           connpool_lease_t* lease_out, void** conn_out) {
  return DoAcquire(pool, priority, timeout_ms, lease_out, conn_out);
}

CONNPOOL_API int connpool_acquire_cancellable(connpool_pool_t* pool, int priority, int64_t timeout_ms,
                                              connpool_cancel_t* cancel, connpool_lease_t* lease_out,
                                              void** conn_out) {
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
  if (pool == nullptr || lease_out == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int {
    return ToInt(AsPool(pool)->AcquireCancellable(priority, timeout_ms, cancel, lease_out, conn_out));
  });
}

CONNPOOL_API int connpool_acquire_async(connpool_pool_t* pool, int priority, int64_t timeout_ms,
                                       connpool_cancel_t* cancel, connpool_acquire_cb cb, void* ud,
                                       connpool_lease_t* lease_out, void** conn_out) {
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
  if (pool == nullptr || cb == nullptr || lease_out == nullptr) return CONNPOOL_EINVAL;
  // connpool_acquire_cb is the core's callback type, so it passes through without a wrapper.
  static_assert(std::is_same_v<connpool_acquire_cb, connpool::AsyncAcquireCallback>);
  return Guard(nullptr, 0, [&]() -> int {
    return ToInt(AsPool(pool)->AcquireAsync(priority, timeout_ms, cancel, cb, ud, lease_out, conn_out));
  });
}

CONNPOOL_API int connpool_pool_explain(connpool_pool_t* pool, int status, char* buf, size_t len) {
  if (pool == nullptr || buf == nullptr || len == 0) return CONNPOOL_EINVAL;
  buf[0] = '\0';
  return Guard(nullptr, 0, [&]() -> int {
    WriteError(buf, len, AsPool(pool)->Explain(static_cast<connpool::Status>(status)));
    return CONNPOOL_OK;
  });
}

CONNPOOL_API int connpool_release(connpool_pool_t* pool, connpool_lease_t lease) {
  if (pool == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int { return ToInt(AsPool(pool)->Release(lease, false)); });
}

CONNPOOL_API int connpool_release_broken(connpool_pool_t* pool, connpool_lease_t lease) {
  if (pool == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int { return ToInt(AsPool(pool)->Release(lease, true)); });
}

CONNPOOL_API int connpool_pool_drain(connpool_pool_t* pool, int64_t deadline_ms) {
  if (pool == nullptr) return CONNPOOL_EINVAL;
  return Guard(nullptr, 0, [&]() -> int { return ToInt(AsPool(pool)->Drain(deadline_ms)); });
}

CONNPOOL_API void connpool_pool_free(connpool_pool_t* pool) {
  if (pool == nullptr) return;
  Guard(nullptr, 0, [&] {
    connpool::Group::DetachPool(AsPool(pool));  // leaves its group first, if any (group.h)
    AsPool(pool)->Close();
    return CONNPOOL_OK;
  });
}

CONNPOOL_API int connpool_pool_state(const connpool_pool_t* pool) {
  if (pool == nullptr) return CONNPOOL_STATE_CLOSED;
  return static_cast<int>(AsPool(pool)->state());
}

CONNPOOL_API const char* connpool_state_name(int state) {
  if (state < CONNPOOL_STATE_STARTING || state > CONNPOOL_STATE_CLOSED) return "unknown";
  return connpool::HealthName(static_cast<connpool::Health>(state));
}

CONNPOOL_API int connpool_pool_http_status(const connpool_pool_t* pool) {
  if (pool == nullptr) return 503;
  return connpool::HealthHttpStatus(AsPool(pool)->state());
}

CONNPOOL_API char* connpool_pool_stats_json(connpool_pool_t* pool) {
  if (pool == nullptr) return nullptr;
  try {
    return connpool::StatsToJson(AsPool(pool)->Snapshot());
  } catch (...) {
    return nullptr;
  }
}

CONNPOOL_API char* connpool_pool_metrics_text(connpool_pool_t* pool) {
  if (pool == nullptr) return nullptr;
  try {
    Pool* p = AsPool(pool);
    return connpool::StatsToPrometheus(p->Snapshot(), p->acquire_wait_histogram(), p->zero_wait_acquires());
  } catch (...) {
    return nullptr;
  }
}

CONNPOOL_API int connpool_pool_resize_ex(connpool_pool_t* pool, int min_idle, int max_size, char* err,
                                        size_t errlen) {
  ClearError(err, errlen);
  if (pool == nullptr) {
    WriteError(err, errlen, "connpool_pool_resize: pool is NULL");
    return CONNPOOL_EINVAL;
  }
  return Guard(err, errlen, [&]() -> int {
    std::string msg;
    connpool::Status st = AsPool(pool)->Resize(min_idle, max_size, &msg);
    if (st != connpool::Status::kOK) WriteError(err, errlen, "connpool_pool_resize: " + msg);
    return ToInt(st);
  });
}

// The 1.1 signature has no error buffer: the explanation goes to the log sink instead.
CONNPOOL_API int connpool_pool_resize(connpool_pool_t* pool, int min_idle, int max_size) {
  char err[256];
  int rc = connpool_pool_resize_ex(pool, min_idle, max_size, err, sizeof err);
  if (rc != CONNPOOL_OK && err[0] != '\0') {
    try {
      connpool::Log(CONNPOOL_LOG_WARN, err);
    } catch (...) {
    }
  }
  return rc;
}

CONNPOOL_API void connpool_set_log_callback(void (*cb)(void* ud, int level, const char* msg), void* ud) {
  try {
    connpool::SetLogCallback(cb, ud);
  } catch (...) {
  }
}

}  // extern "C"
