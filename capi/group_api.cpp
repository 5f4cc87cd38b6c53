// SPDX-License-Identifier: Apache-2.0
// connpool_group_*: argument checks, then connpool::Group. A connpool_group_t* is the
// connpool::Group* itself. The *_ex functions (1.2) write an EINVAL's reason into the caller's
// err buffer; the 1.1 ones have none, so for them it goes to the log sink. Either way a group
// keeps it as last_error in its stats.
#include <new>
#include <string>

#include "capi_util.h"
#include "connpool/connpool.h"
#include "group/group.h"
#include "util/log.h"

using connpool::Group;
using connpool::Pool;
using connpool::Status;
using connpool::ToInt;

namespace {

Group* AsGroup(connpool_group_t* g) { return reinterpret_cast<Group*>(g); }
Pool* AsPool(connpool_pool_t* p) { return reinterpret_cast<Pool*>(p); }

// Where an EINVAL's reason goes: the caller's buffer (the *_ex functions) or, without one,
// the log sink; a group also keeps it as last_error (its stats).
struct ErrorSink {
  char* err;
  size_t errlen;
  bool has_buffer() const { return err != nullptr && errlen > 0; }
};

int Invalid(Group* g, const std::string& msg, ErrorSink sink) {
  if (g != nullptr) g->NoteError(msg, /*log=*/!sink.has_buffer());
  else if (!sink.has_buffer()) connpool::Log(CONNPOOL_LOG_WARN, msg);
  connpool::WriteError(sink.err, sink.errlen, msg);
  return CONNPOOL_EINVAL;
}

// Keeps every exception inside the library; the reason goes to the caller's buffer, or
// without one to the log sink.
template <typename F>
int Safe(ErrorSink sink, F&& body) noexcept {
  connpool::ClearError(sink.err, sink.errlen);
  try {
    return body();
  } catch (const std::bad_alloc&) {
    connpool::WriteError(sink.err, sink.errlen, "out of memory");
    return CONNPOOL_ENOMEM;
  } catch (const std::exception& e) {
    try {
      std::string msg = std::string("pool group: internal error: ") + e.what();
      if (sink.has_buffer())
        connpool::WriteError(sink.err, sink.errlen, msg);
      else
        connpool::Log(CONNPOOL_LOG_ERROR, msg);
    } catch (...) {
    }
    return CONNPOOL_EINTERNAL;
  } catch (...) {
    connpool::WriteError(sink.err, sink.errlen, "pool group: internal error");
    return CONNPOOL_EINTERNAL;
  }
}

void ClearOutputs(connpool_pool_t** member_out, connpool_lease_t* lease_out, void** conn_out) {
  if (member_out != nullptr) *member_out = nullptr;
  if (lease_out != nullptr) *lease_out = 0;
  if (conn_out != nullptr) *conn_out = nullptr;
}

// The common tail of both acquires: maps the core's result and fills the outputs.
template <typename F>
int RunAcquire(connpool_group_t* group, const char* fn, connpool_pool_t** member_out,
               connpool_lease_t* lease_out, void** conn_out, ErrorSink sink, F&& body) {
  ClearOutputs(member_out, lease_out, conn_out);
  return Safe(sink, [&]() -> int {
    if (group == nullptr) return Invalid(nullptr, std::string(fn) + ": group is NULL", sink);
    Group* g = AsGroup(group);
    if (member_out == nullptr || lease_out == nullptr)
      return Invalid(g, "group '" + g->name() + "': " + fn + ": member_out and lease_out must not be NULL", sink);
    Pool* member = nullptr;
    std::string err;
    Status st = body(g, &member, &err);
    if (st == Status::kEINVAL) return Invalid(g, err, sink);
    if (st == Status::kOK) *member_out = reinterpret_cast<connpool_pool_t*>(member);
    return ToInt(st);
  });
}

}  // namespace

extern "C" {

CONNPOOL_API int connpool_group_new_ex(const char* name, connpool_group_t** out, char* err, size_t errlen) {
  ErrorSink sink{err, errlen};
  return Safe(sink, [&]() -> int {
    if (out == nullptr) return Invalid(nullptr, "connpool_group_new: out is NULL", sink);
    *out = nullptr;
    Group* g = nullptr;
    std::string msg;
    Status st = Group::Create(name, &g, &msg);
    if (st != Status::kOK) return Invalid(nullptr, msg, sink);
    *out = reinterpret_cast<connpool_group_t*>(g);
    return CONNPOOL_OK;
  });
}

CONNPOOL_API int connpool_group_new(const char* name, connpool_group_t** out) {
  return connpool_group_new_ex(name, out, nullptr, 0);
}

CONNPOOL_API int connpool_group_add_ex(connpool_group_t* group, const char* member_name, int role,
                                       connpool_pool_t* pool, char* err, size_t errlen) {
  ErrorSink sink{err, errlen};
  return Safe(sink, [&]() -> int {
    if (group == nullptr) return Invalid(nullptr, "connpool_group_add: group is NULL", sink);
    Group* g = AsGroup(group);
    std::string msg;
    Status st = g->Add(member_name, role, AsPool(pool), &msg);
    if (st == Status::kEINVAL) return Invalid(g, msg, sink);
    return ToInt(st);
  });
}

CONNPOOL_API int connpool_group_add(connpool_group_t* group, const char* member_name, int role,
                                    connpool_pool_t* pool) {
  return connpool_group_add_ex(group, member_name, role, pool, nullptr, 0);
}

CONNPOOL_API int connpool_group_acquire_ex(connpool_group_t* group, int intent, int64_t timeout_ms,
                                           connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                           void** conn_out, char* err, size_t errlen) {
  return RunAcquire(group, "connpool_group_acquire", member_out, lease_out, conn_out, ErrorSink{err, errlen},
                    [&](Group* g, Pool** member, std::string* msg) {
                      return g->Acquire(intent, timeout_ms, member, lease_out, conn_out, msg);
                    });
}

CONNPOOL_API int connpool_group_acquire(connpool_group_t* group, int intent, int64_t timeout_ms,
                                        connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                        void** conn_out) {
  return connpool_group_acquire_ex(group, intent, timeout_ms, member_out, lease_out, conn_out, nullptr, 0);
}

CONNPOOL_API int connpool_group_acquire_key_ex(connpool_group_t* group, uint64_t key, int64_t timeout_ms,
                                               connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                               void** conn_out, char* err, size_t errlen) {
  return RunAcquire(group, "connpool_group_acquire_key", member_out, lease_out, conn_out,
                    ErrorSink{err, errlen}, [&](Group* g, Pool** member, std::string* msg) {
                      return g->AcquireKey(key, timeout_ms, member, lease_out, conn_out, msg);
                    });
}

CONNPOOL_API int connpool_group_acquire_key(connpool_group_t* group, uint64_t key, int64_t timeout_ms,
                                            connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                            void** conn_out) {
  return connpool_group_acquire_key_ex(group, key, timeout_ms, member_out, lease_out, conn_out, nullptr, 0);
}

CONNPOOL_API char* connpool_group_stats_json(connpool_group_t* group) {
  if (group == nullptr) return nullptr;
  try {
    return connpool::GroupStatsToJson(AsGroup(group)->Snapshot());
  } catch (...) {
    return nullptr;
  }
}

CONNPOOL_API void connpool_group_free(connpool_group_t* group) {
  if (group == nullptr) return;
  Safe(ErrorSink{nullptr, 0}, [&] {
    AsGroup(group)->Free();
    return CONNPOOL_OK;
  });
}

}  // extern "C"
