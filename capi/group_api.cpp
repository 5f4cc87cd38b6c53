// SPDX-License-Identifier: Apache-2.0
// connpool_group_*: argument checks, then connpool::Group. A connpool_group_t* is the
// connpool::Group* itself. These functions have no err buffer (their signatures come from
// issue #10), so an EINVAL's reason goes to the log sink and the group's stats (last_error).
#include <new>
#include <string>

#include "connpool/connpool.h"
#include "group.h"
#include "log.h"

using connpool::Group;
using connpool::Pool;
using connpool::Status;
using connpool::ToInt;

namespace {

Group* AsGroup(connpool_group_t* g) { return reinterpret_cast<Group*>(g); }
Pool* AsPool(connpool_pool_t* p) { return reinterpret_cast<Pool*>(p); }

// An EINVAL's reason: kept by the group when there is one, logged either way.
int Invalid(Group* g, const std::string& msg) {
  if (g != nullptr)
    g->NoteError(msg);
  else
    connpool::Log(CONNPOOL_LOG_WARN, msg);
  return CONNPOOL_EINVAL;
}

// Keeps every exception inside the library (the pool's Guard() writes into err buffers,
// which these functions do not have); the reason goes to the log sink.
template <typename F>
int Safe(F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return CONNPOOL_ENOMEM;
  } catch (const std::exception& e) {
    try {
      connpool::Log(CONNPOOL_LOG_ERROR, std::string("pool group: internal error: ") + e.what());
    } catch (...) {
    }
    return CONNPOOL_EINTERNAL;
  } catch (...) {
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
               connpool_lease_t* lease_out, void** conn_out, F&& body) {
  ClearOutputs(member_out, lease_out, conn_out);
  return Safe([&]() -> int {
    if (group == nullptr) return Invalid(nullptr, std::string(fn) + ": group is NULL");
    Group* g = AsGroup(group);
    if (member_out == nullptr || lease_out == nullptr)
      return Invalid(g, "group '" + g->name() + "': " + fn + ": member_out and lease_out must not be NULL");
    Pool* member = nullptr;
    std::string err;
    Status st = body(g, &member, &err);
    if (st == Status::kEINVAL) return Invalid(g, err);
    if (st == Status::kOK) *member_out = reinterpret_cast<connpool_pool_t*>(member);
    return ToInt(st);
  });
}

}  // namespace

extern "C" {

CONNPOOL_API int connpool_group_new(const char* name, connpool_group_t** out) {
  return Safe([&]() -> int {
    if (out == nullptr) return Invalid(nullptr, "connpool_group_new: out is NULL");
    *out = nullptr;
    Group* g = nullptr;
    std::string err;
    Status st = Group::Create(name, &g, &err);
    if (st != Status::kOK) return Invalid(nullptr, err);
    *out = reinterpret_cast<connpool_group_t*>(g);
    return CONNPOOL_OK;
  });
}

CONNPOOL_API int connpool_group_add(connpool_group_t* group, const char* member_name, int role,
                                    connpool_pool_t* pool) {
  return Safe([&]() -> int {
    if (group == nullptr) return Invalid(nullptr, "connpool_group_add: group is NULL");
    Group* g = AsGroup(group);
    std::string err;
    Status st = g->Add(member_name, role, AsPool(pool), &err);
    if (st == Status::kEINVAL) return Invalid(g, err);
    return ToInt(st);
  });
}

CONNPOOL_API int connpool_group_acquire(connpool_group_t* group, int intent, int64_t timeout_ms,
                                        connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                        void** conn_out) {
  return RunAcquire(group, "connpool_group_acquire", member_out, lease_out, conn_out,
                    [&](Group* g, Pool** member, std::string* err) {
                      return g->Acquire(intent, timeout_ms, member, lease_out, conn_out, err);
                    });
}

CONNPOOL_API int connpool_group_acquire_key(connpool_group_t* group, uint64_t key, int64_t timeout_ms,
                                            connpool_pool_t** member_out, connpool_lease_t* lease_out,
                                            void** conn_out) {
  return RunAcquire(group, "connpool_group_acquire_key", member_out, lease_out, conn_out,
                    [&](Group* g, Pool** member, std::string* err) {
                      return g->AcquireKey(key, timeout_ms, member, lease_out, conn_out, err);
                    });
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
  Safe([&] {
    AsGroup(group)->Free();
    return CONNPOOL_OK;
  });
}

}  // extern "C"
