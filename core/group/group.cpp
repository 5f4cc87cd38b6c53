// SPDX-License-Identifier: Apache-2.0
// Group membership, routing and detaching. Stats rendering is in group_stats.cpp.
#include "group/group.h"

#include <algorithm>
#include <unordered_map>

#include "util/clock.h"
#include "util/log.h"

namespace connpool {

namespace {

// pool -> group, for every attached member of every group: one group per pool, and
// connpool_pool_free finds the group to leave. Never destroyed, so pools freed from static
// destructors still find it.
struct Registry {
  std::mutex mu;
  std::unordered_map<const Pool*, Group*> by_pool;  // guarded by mu
};
Registry& Reg() {
  static Registry* r = new Registry;
  return *r;
}
// Attached members in all groups: lets connpool_pool_free skip the registry mutex when no
// group exists (the common case).
std::atomic<int64_t> g_attached{0};

bool Usable(Health h) { return h != Health::kUnavailable && h != Health::kDraining && h != Health::kClosed; }

int64_t RealNowNs() { return SteadyClock::Instance()->NowNs(); }

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kPrimary: return "primary";
    case Role::kReplica: return "replica";
    case Role::kShard: return "shard";
  }
  return "unknown";
}

Status Group::Create(const char* name, Group** out, std::string* err) {
  if (out == nullptr) {
    *err = "connpool_group_new: out is NULL";
    return Status::kEINVAL;
  }
  *out = nullptr;
  if (name == nullptr || *name == '\0') {
    *err = "connpool_group_new: name is NULL or empty";
    return Status::kEINVAL;
  }
  *out = new Group(name);
  return Status::kOK;
}

void Group::NoteError(const std::string& msg, bool log) {
  invalid_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lk(mu_);
    last_error_ = msg;
    has_last_error_ = true;
  }
  if (log) Log(CONNPOOL_LOG_WARN, msg);  // outside mu_: the sink is user code
}

Status Group::Add(const char* member_name, int role, Pool* pool, std::string* err) {
  const std::string where = "group '" + name_ + "': connpool_group_add: ";
  if (member_name == nullptr || *member_name == '\0') {
    *err = where + "member name is NULL or empty";
    return Status::kEINVAL;
  }
  if (role != CONNPOOL_ROLE_PRIMARY && role != CONNPOOL_ROLE_REPLICA && role != CONNPOOL_ROLE_SHARD) {
    *err = where + "unknown role " + std::to_string(role) +
           " (CONNPOOL_ROLE_PRIMARY 0, CONNPOOL_ROLE_REPLICA 1, CONNPOOL_ROLE_SHARD 2)";
    return Status::kEINVAL;
  }
  if (pool == nullptr) {
    *err = where + "pool is NULL";
    return Status::kEINVAL;
  }
  Registry& reg = Reg();
  std::lock_guard<std::mutex> rlk(reg.mu);
  auto it = reg.by_pool.find(pool);
  if (it != reg.by_pool.end()) {
    *err = where + "pool '" + pool->config().name + "' already belongs to group '" + it->second->name_ +
           "' (a pool may be in one group, once)";
    return Status::kEINVAL;
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (const auto& m : members_) {
    if (m->name == member_name) {
      *err = where + "member name '" + member_name + "' is already used in this group";
      return Status::kEINVAL;
    }
    if (role == CONNPOOL_ROLE_PRIMARY && m->role == Role::kPrimary && m->pool != nullptr) {
      *err = where + "group already has a primary ('" + m->name + "')";
      return Status::kEINVAL;
    }
  }
  auto m = std::make_unique<Member>();
  m->name = member_name;
  m->role = static_cast<Role>(role);
  m->pool = pool;
  if (m->role == Role::kShard) ring_.Add(m->name, static_cast<uint32_t>(members_.size()));
  members_.push_back(std::move(m));
  reg.by_pool.emplace(pool, this);
  g_attached.fetch_add(1, std::memory_order_seq_cst);
  return Status::kOK;
}

bool Group::Pin(Member* m, Pool** pool) {
  // A detached member's gate is closed: pool is only cleared once the gate is closed and empty.
  if (!m->gate.Enter()) return false;
  *pool = m->pool;
  return true;
}

void Group::Unpin(Member* m) { m->gate.Leave(); }

std::vector<Group::Member*> Group::MembersWithRole(Role role) {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Member*> out;
  for (const auto& m : members_)
    if (m->role == role) out.push_back(m.get());
  return out;
}

Status Group::TryMember(Member* m, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn) {
  Pool* pool;
  if (!Pin(m, &pool)) return Status::kECLOSED;
  UnpinOnExit unpin{this, m};  // also if Acquire throws: a pin left behind would hang Detach
  if (pool->state() == Health::kUnavailable) {
    skipped_unavailable_.fetch_add(1, std::memory_order_relaxed);
    return Status::kEUNAVAILABLE;  // fail fast without entering the pool
  }
  Status st = pool->Acquire(0, timeout_ms, lease, conn);
  if (st == Status::kOK) {
    *member = pool;
    m->acquired.fetch_add(1, std::memory_order_relaxed);
  }
  return st;
}

Status Group::Count(Status st) {
  switch (st) {
    case Status::kOK: acquired_.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kETIMEOUT: timeouts_.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kEUNAVAILABLE: unavailable_.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kECLOSED: closed_.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kEOVERLOAD: overload_.fetch_add(1, std::memory_order_relaxed); break;
    case Status::kEFACTORY: factory_errors_.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
  }
  return st;
}

Status Group::Acquire(int intent, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn,
                      std::string* err) {
  if (intent == CONNPOOL_INTENT_WRITE) {
    std::vector<Member*> prim = MembersWithRole(Role::kPrimary);
    if (prim.empty()) {
      *err = "group '" + name_ + "': write intent but the group has no primary";
      return Status::kEINVAL;
    }
    // At most one primary is attached; a detached one stays listed (ECLOSED).
    Status st = Status::kECLOSED;
    for (Member* m : prim) {
      st = TryMember(m, timeout_ms, member, lease, conn);
      if (st != Status::kECLOSED) break;
    }
    return Count(st);
  }
  if (intent != CONNPOOL_INTENT_READ) {
    *err = "group '" + name_ + "': unknown intent " + std::to_string(intent) +
           " (CONNPOOL_INTENT_WRITE 0, CONNPOOL_INTENT_READ 1)";
    return Status::kEINVAL;
  }
  return Count(AcquireRead(timeout_ms, member, lease, conn, err));
}

std::vector<Group::Candidate> Group::Rank(const std::vector<Member*>& members) {
  std::vector<Candidate> out;
  for (Member* m : members) {
    Pool* pool;
    if (!Pin(m, &pool)) continue;  // detached: not a candidate
    UnpinOnExit unpin{this, m};
    out.push_back({m, pool->state(), pool->Load(), pool->config().acquire_timeout_ms});
  }
  // Least loaded first; ties keep the order members were added (stable).
  std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) { return a.load < b.load; });
  return out;
}

Status Group::AcquireRead(int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn, std::string* err) {
  const std::vector<Member*> replicas = MembersWithRole(Role::kReplica);
  const std::vector<Member*> primaries = MembersWithRole(Role::kPrimary);
  if (replicas.empty() && primaries.empty()) {
    *err = "group '" + name_ + "': read intent but the group has neither a primary nor a replica";
    return Status::kEINVAL;
  }
  const int64_t start_ns = RealNowNs();

  // Phase 1: an idle connection on any healthy replica, least loaded first, without waiting.
  std::vector<Candidate> reps = Rank(replicas);
  for (const Candidate& c : reps) {
    if (c.state != Health::kReady) continue;
    if (TryMember(c.m, 0, member, lease, conn) == Status::kOK) return Status::kOK;
  }

  // Phase 2: states may have changed in phase 1 (a dead replica's first failed create turns
  // it degraded), so rank again: ready replicas, then the primary, then degraded or starting
  // replicas; unavailable, draining, closed and detached members are skipped.
  reps = Rank(replicas);
  std::vector<Candidate> prims = Rank(primaries);
  std::vector<Candidate> order;
  int skipped_unavailable = 0;
  for (const Candidate& c : reps)
    if (c.state == Health::kReady) order.push_back(c);
  for (const Candidate& c : prims)
    if (Usable(c.state)) order.push_back(c);
  for (const Candidate& c : reps)
    if (c.state != Health::kReady && Usable(c.state)) order.push_back(c);
  for (const Candidate& c : reps) skipped_unavailable += c.state == Health::kUnavailable;
  for (const Candidate& c : prims) skipped_unavailable += c.state == Health::kUnavailable;
  skipped_unavailable_.fetch_add(static_cast<uint64_t>(skipped_unavailable), std::memory_order_relaxed);
  if (order.empty()) return skipped_unavailable > 0 ? Status::kEUNAVAILABLE : Status::kECLOSED;

  // One overall budget: < 0 means the best candidate's own acquire_timeout_ms.
  const int64_t budget_ms = timeout_ms >= 0 ? timeout_ms : order.front().acquire_timeout_ms;
  const int64_t deadline_ns = SaturatingDeadline(start_ns, budget_ms);
  Status last = Status::kEUNAVAILABLE;
  for (const Candidate& c : order) {
    int64_t left_ns = deadline_ns - RealNowNs();
    int64_t left_ms = left_ns <= 0 ? 0 : (left_ns + 999'999) / 1'000'000;  // round up: 0 only when spent
    last = TryMember(c.m, left_ms, member, lease, conn);
    if (last == Status::kOK) {
      if (c.m->role == Role::kPrimary && !replicas.empty())
        read_fallbacks_.fetch_add(1, std::memory_order_relaxed);
      return Status::kOK;
    }
    // This member went away under us: fall through to the next one. Anything else (timeout,
    // overload) is an answer about load, and moving on would only spread it.
    if (last != Status::kEUNAVAILABLE && last != Status::kECLOSED && last != Status::kEFACTORY) return last;
  }
  return last;
}

Status Group::AcquireKey(uint64_t key, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn,
                         std::string* err) {
  Member* m;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (ring_.empty()) {
      *err = "group '" + name_ + "': connpool_group_acquire_key but the group has no shard";
      return Status::kEINVAL;
    }
    m = members_[ring_.Lookup(key)].get();
  }
  return Count(TryMember(m, timeout_ms, member, lease, conn));
}

void Group::DetachPool(Pool* pool) {
  if (g_attached.load(std::memory_order_seq_cst) == 0) return;
  Registry& reg = Reg();
  std::lock_guard<std::mutex> rlk(reg.mu);
  auto it = reg.by_pool.find(pool);
  if (it == reg.by_pool.end()) return;
  Group* g = it->second;
  Member* member = nullptr;  // a Member outlives any reallocation of members_ (unique_ptr)
  {
    std::lock_guard<std::mutex> lk(g->mu_);
    for (const auto& m : g->members_)
      if (m->pool == pool) member = m.get();
  }
  if (member != nullptr) {
    member->gate.Close();  // no new group call picks it from now on
    // What pool_free does first anyway: acquires refused, waiters woken with ECLOSED, so
    // group calls inside this pool return promptly instead of at their timeout.
    pool->Drain(0);
    member->gate.WaitEmpty();
    std::lock_guard<std::mutex> lk(g->mu_);
    member->pool = nullptr;
  }
  reg.by_pool.erase(it);
  g_attached.fetch_sub(1, std::memory_order_seq_cst);
}

void Group::Free() {
  std::vector<Member*> members;
  {
    Registry& reg = Reg();
    std::lock_guard<std::mutex> rlk(reg.mu);
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& m : members_) {
      members.push_back(m.get());
      if (m->pool == nullptr) continue;
      reg.by_pool.erase(m->pool);
      g_attached.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  // Calls racing with free are a caller bug, but one already inside a member finishes first.
  for (Member* m : members) {
    m->gate.Close();
    m->gate.WaitEmpty();
  }
  delete this;
}

}  // namespace connpool
