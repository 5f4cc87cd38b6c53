// SPDX-License-Identifier: Apache-2.0
// connpool::Group - the engine behind connpool_group_t: routes acquires over member pools by
// role (primary / replica / shard).
//
// Requirements: member pools made by the caller; any number of threads acquiring at once.
// Guarantees:
//   * Routing never waits on a member that is unavailable, draining, closed or detached: such
//     members are skipped (READ) or fail fast (WRITE, keys).
//   * A member's Pool* is used only while a group call is inside the member's EntryGate
//     (util/entry_gate.h). DetachPool closes the gate, makes the pool refuse new acquires
//     (Drain(0)) and waits for the calls inside to leave, so a pool freed while in a group is
//     never touched by a group call afterwards.
//   * mu_ is held only to pick candidates and adjust counts, never across a member's Acquire,
//     a factory callback or the log sink.
// Lifetime: the group does not own its pools. Membership is recorded in a process-wide
// registry (pool -> group) so that a pool is in at most one group and connpool_pool_free can
// find and leave its group (DetachPool). Lock order: registry mutex, then a group's mu_.
#ifndef CONNPOOL_CORE_GROUP_H
#define CONNPOOL_CORE_GROUP_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "group/consistent_hash.h"
#include "pool/pool.h"
#include "util/entry_gate.h"
#include "util/status.h"

namespace connpool {

enum class Role : int {
  kPrimary = CONNPOOL_ROLE_PRIMARY,
  kReplica = CONNPOOL_ROLE_REPLICA,
  kShard = CONNPOOL_ROLE_SHARD,
};
const char* RoleName(Role r);

enum class Intent : int { kWrite = CONNPOOL_INTENT_WRITE, kRead = CONNPOOL_INTENT_READ };

class Group final {
 public:
  // Member as seen by stats.
  struct MemberView {
    std::string name;
    Role role = Role::kPrimary;
    bool attached = false;
    Health state = Health::kClosed;
    uint64_t acquired = 0;  // leases handed out through the group
    std::unique_ptr<StatsSnapshot> stats;  // null once detached
  };
  struct Counters {
    uint64_t acquired = 0, read_fallbacks = 0, skipped_unavailable = 0;
    uint64_t timeouts = 0, unavailable = 0, closed = 0, overload = 0, factory_errors = 0, invalid = 0;
  };
  struct View {
    std::string name;
    std::vector<MemberView> members;
    Counters counters;
    bool has_last_error = false;
    std::string last_error;
  };

  static Status Create(const char* name, Group** out, std::string* err);
  // connpool_group_free: detaches every member, waits for acquires in flight, deletes `this`.
  void Free();

  Status Add(const char* member_name, int role, Pool* pool, std::string* err);
  Status Acquire(int intent, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn,
                 std::string* err);
  Status AcquireKey(uint64_t key, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn,
                    std::string* err);
  View Snapshot();
  const std::string& name() const { return name_; }

  // Called by connpool_pool_free before the pool closes: if `pool` is in a group, the member
  // is detached (see the guarantees above). A no-op for a pool in no group.
  static void DetachPool(Pool* pool);

  // Records an EINVAL reason for stats' last_error, and logs it at WARN unless the caller
  // hands it back in an error buffer (the *_ex C functions).
  void NoteError(const std::string& msg, bool log = true);

 private:
  struct Member {
    std::string name;
    Role role;
    // Set by Add before the member is published (under mu_); cleared by DetachPool only after
    // `gate` is closed and empty, so a call inside the gate reads it without mu_.
    Pool* pool;
    // Group calls using `pool` right now. Closed by DetachPool (no new call may pick the
    // member) and by Free; both wait for it to empty.
    connpool_util::EntryGate gate;
    std::atomic<uint64_t> acquired{0};
  };
  // A member's reading taken for routing.
  struct Candidate {
    Member* m;
    Health state;
    double load;
    int64_t acquire_timeout_ms;
  };

  explicit Group(std::string name) : name_(std::move(name)) {}
  ~Group() = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // Pin: enters an attached member's gate, so its pool stays alive until Unpin; false when
  // detached or detaching.
  bool Pin(Member* m, Pool** pool);
  void Unpin(Member* m);
  struct UnpinOnExit {
    Group* g;
    Member* m;
    ~UnpinOnExit() { g->Unpin(m); }
  };
  // Members with `role`, attached or not (Member objects live as long as the group).
  std::vector<Member*> MembersWithRole(Role role);
  // The attached ones with state and load, least loaded first.
  std::vector<Candidate> Rank(const std::vector<Member*>& members);
  // One acquire on one member (EUNAVAILABLE at once if it is unavailable, ECLOSED if detached).
  Status TryMember(Member* m, int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn);
  Status AcquireRead(int64_t timeout_ms, Pool** member, uint64_t* lease, void** conn, std::string* err);
  // Counts a group call's final outcome.
  Status Count(Status st);

  const std::string name_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Member>> members_;  // guarded by mu_; append-only
  HashRing ring_;                                 // guarded by mu_: ids index members_
  std::string last_error_;                        // guarded by mu_
  bool has_last_error_ = false;                   // guarded by mu_

  std::atomic<uint64_t> acquired_{0}, read_fallbacks_{0}, skipped_unavailable_{0};
  std::atomic<uint64_t> timeouts_{0}, unavailable_{0}, closed_{0}, overload_{0};
  std::atomic<uint64_t> factory_errors_{0}, invalid_{0};
};

// The group stats JSON (malloc'ed, free with connpool_free), or NULL when out of memory.
char* GroupStatsToJson(const Group::View& v);

}  // namespace connpool

#endif
