// SPDX-License-Identifier: Apache-2.0
// Group::Snapshot() and the group stats JSON (docs/GROUPS.md): routing counters, totals over
// attached members, and each member with its role, state and full pool stats.
#include <cjson/cJSON.h>

#include <cstdlib>
#include <cstring>

#include "group/group.h"
#include "stats/stats_json.h"
#include "util/redact.h"

namespace connpool {

Group::View Group::Snapshot() {
  View v;
  v.name = name_;
  std::vector<Member*> all;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& m : members_) all.push_back(m.get());
    v.has_last_error = has_last_error_;
    v.last_error = last_error_;
  }
  for (Member* m : all) {
    MemberView mv;
    mv.name = m->name;
    mv.role = m->role;
    mv.acquired = m->acquired.load(std::memory_order_relaxed);
    Pool* pool;
    if (Pin(m, &pool)) {  // Snapshot() never touches the backend and takes the pool's lock briefly
      UnpinOnExit unpin{this, m};
      mv.attached = true;
      mv.stats = std::make_unique<StatsSnapshot>(pool->Snapshot());
      mv.state = mv.stats->state;
    }
    v.members.push_back(std::move(mv));
  }
  Counters& c = v.counters;
  c.acquired = acquired_.load(std::memory_order_relaxed);
  c.read_fallbacks = read_fallbacks_.load(std::memory_order_relaxed);
  c.skipped_unavailable = skipped_unavailable_.load(std::memory_order_relaxed);
  c.timeouts = timeouts_.load(std::memory_order_relaxed);
  c.unavailable = unavailable_.load(std::memory_order_relaxed);
  c.closed = closed_.load(std::memory_order_relaxed);
  c.overload = overload_.load(std::memory_order_relaxed);
  c.factory_errors = factory_errors_.load(std::memory_order_relaxed);
  c.invalid = invalid_.load(std::memory_order_relaxed);
  return v;
}

namespace {

void U64(cJSON* obj, const char* key, uint64_t v) { cJSON_AddRawToObject(obj, key, std::to_string(v).c_str()); }

bool Serves(Health h) { return h == Health::kReady || h == Health::kDegraded; }

}  // namespace

char* GroupStatsToJson(const Group::View& v) {
  cJSON* root = cJSON_CreateObject();
  if (root == nullptr) return nullptr;
  cJSON_AddStringToObject(root, "name", ValidUtf8(Redact(v.name)).c_str());
  cJSON_AddStringToObject(root, "version", CONNPOOL_VERSION_STRING);
  // Whether a write / a read would find a member that serves now (ready or degraded).
  bool writable = false, readable = false;
  for (const auto& m : v.members) {
    if (!m.attached || !Serves(m.state)) continue;
    if (m.role == Role::kPrimary) writable = readable = true;
    if (m.role == Role::kReplica) readable = true;
  }
  cJSON_AddBoolToObject(root, "writable", writable);
  cJSON_AddBoolToObject(root, "readable", readable);

  cJSON* k = cJSON_AddObjectToObject(root, "counters");
  if (k) {
    U64(k, "acquired", v.counters.acquired);
    U64(k, "read_fallbacks", v.counters.read_fallbacks);
    U64(k, "skipped_unavailable", v.counters.skipped_unavailable);
    U64(k, "timeouts", v.counters.timeouts);
    U64(k, "unavailable", v.counters.unavailable);
    U64(k, "closed", v.counters.closed);
    U64(k, "overload", v.counters.overload);
    U64(k, "factory_errors", v.counters.factory_errors);
    U64(k, "invalid", v.counters.invalid);
  }

  uint64_t attached = 0, serving = 0, total = 0, idle = 0, in_use = 0, creating = 0, waiters = 0, acquired = 0;
  int64_t max_size = 0;
  for (const auto& m : v.members) {
    if (!m.attached) continue;
    ++attached;
    serving += Serves(m.state);
    total += m.stats->total;
    idle += m.stats->idle;
    in_use += m.stats->in_use;
    creating += m.stats->creating;
    max_size += m.stats->max_size;
    waiters += m.stats->waiters;
    acquired += m.stats->acquired;
  }
  cJSON* t = cJSON_AddObjectToObject(root, "totals");
  if (t) {
    U64(t, "members", v.members.size());
    U64(t, "attached", attached);
    U64(t, "serving", serving);
    cJSON* c = cJSON_AddObjectToObject(t, "connections");
    if (c) {
      U64(c, "total", total);
      U64(c, "idle", idle);
      U64(c, "in_use", in_use);
      U64(c, "creating", creating);
      cJSON_AddRawToObject(c, "max_size", std::to_string(max_size).c_str());
    }
    U64(t, "waiters", waiters);
    U64(t, "acquired", acquired);
  }
  if (v.has_last_error)
    cJSON_AddStringToObject(root, "last_error", ValidUtf8(Redact(v.last_error)).c_str());
  else
    cJSON_AddNullToObject(root, "last_error");

  cJSON* arr = cJSON_AddArrayToObject(root, "members");
  for (const auto& m : v.members) {
    if (arr == nullptr) break;
    cJSON* o = cJSON_CreateObject();
    if (o == nullptr) break;
    cJSON_AddStringToObject(o, "name", ValidUtf8(Redact(m.name)).c_str());
    cJSON_AddStringToObject(o, "role", RoleName(m.role));
    cJSON_AddBoolToObject(o, "attached", m.attached);
    cJSON_AddStringToObject(o, "state", HealthName(m.state));
    U64(o, "acquired", m.acquired);
    cJSON* stats = nullptr;
    if (m.stats) {
      // The member's own stats document, exactly as connpool_pool_stats_json renders it.
      char* text = StatsToJson(*m.stats);
      if (text != nullptr) {
        stats = cJSON_Parse(text);
        free(text);
      }
    }
    if (stats != nullptr)
      cJSON_AddItemToObject(o, "stats", stats);
    else
      cJSON_AddNullToObject(o, "stats");
    cJSON_AddItemToArray(arr, o);
  }

  char* printed = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (printed == nullptr) return nullptr;
  size_t n = strlen(printed);
  char* out = static_cast<char*>(malloc(n + 1));  // connpool_free is free()
  if (out != nullptr) memcpy(out, printed, n + 1);
  cJSON_free(printed);
  return out;
}

}  // namespace connpool
