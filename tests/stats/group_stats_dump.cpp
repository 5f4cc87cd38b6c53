// SPDX-License-Identifier: Apache-2.0
// Drives pool groups through the C API into the states a group stats document can describe
// (all members ready, a member degraded / unavailable / starting / draining / closed /
// detached, no member at all, shards, an EINVAL kept as last_error, names that need escaping)
// and prints connpool_group_stats_json, one document per line as "<label>\t<json>", for
// validate_group_stats.py to check against docs/group_stats.schema.json. Every document is
// taken while no group call runs, so its counters add up exactly. Exits non-zero if a state
// cannot be reached.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stats_test_util.h"

namespace {

using stats_test::Backend;
using stats_test::Eventually;
using stats_test::MakePool;
using stats_test::Take;

int g_failures = 0;

void Dump(const char* label, connpool_group_t* g) {
  std::string text = Take(connpool_group_stats_json(g));
  printf("%s\t%s\n", label, text.c_str());
  fflush(stdout);
}

void Require(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "group_stats_dump: could not reach: %s\n", what);
    ++g_failures;
  }
}

bool StateIs(connpool_pool_t* pool, int state) {
  return Eventually([&] { return connpool_pool_state(pool) == state; });
}

// Fast failure detection so a member goes degraded -> unavailable in a fraction of a second.
const std::vector<std::pair<std::string, std::string>> kQuick = {
    {"max_size", "3"}, {"min_idle", "1"}, {"retry_initial_ms", "10"}, {"retry_max_ms", "40"},
    {"unavailable_after_ms", "200"}, {"maintenance_interval_ms", "10"}};

std::vector<std::pair<std::string, std::string>> With(const char* name) {
  auto s = kQuick;
  s.emplace_back("name", name);
  return s;
}

// Takes `pool` down: every connection (max_size 3) comes back broken while the backend refuses
// creates, so the pool cannot replace them (degraded) and after unavailable_after_ms fails
// fast (unavailable).
void TakeDown(Backend* b, connpool_pool_t* pool) {
  std::vector<connpool_lease_t> all;
  for (int i = 0; i < 3; i++) {
    connpool_lease_t l;
    if (connpool_acquire(pool, 5000, &l, nullptr) == CONNPOOL_OK) all.push_back(l);
  }
  Require(all.size() == 3, "every connection of a member leased");
  b->up = false;
  for (connpool_lease_t l : all) connpool_release_broken(pool, l);
}

int GroupAcquire(connpool_group_t* g, int intent) {
  connpool_pool_t* member = nullptr;
  connpool_lease_t lease = 0;
  int rc = connpool_group_acquire(g, intent, 1000, &member, &lease, nullptr);
  if (rc == CONNPOOL_OK) connpool_release(member, lease);
  return rc;
}

}  // namespace

int main() {
  // Primary and two replicas through their life: ready, a replica down, the primary down,
  // recovery, a member draining, closed and freed, then every member freed.
  {
    Backend bm, b1, b2;
    connpool_pool_t* main_pool = MakePool(&bm, With("orders-primary"));
    connpool_pool_t* r1 = MakePool(&b1, With("orders-r1"));
    connpool_pool_t* r2 = MakePool(&b2, With("orders-r2"));
    if (main_pool == nullptr || r1 == nullptr || r2 == nullptr) return 2;
    for (connpool_pool_t* p : {main_pool, r1, r2}) Require(connpool_pool_wait_ready(p, 10000) == CONNPOOL_OK, "ready");
    connpool_group_t* g = nullptr;
    if (connpool_group_new("orders", &g) != CONNPOOL_OK) return 2;
    Dump("empty", g);
    Require(connpool_group_add(g, "main", CONNPOOL_ROLE_PRIMARY, main_pool) == CONNPOOL_OK, "add main");
    Require(connpool_group_add(g, "r1", CONNPOOL_ROLE_REPLICA, r1) == CONNPOOL_OK, "add r1");
    Require(connpool_group_add(g, "r2", CONNPOOL_ROLE_REPLICA, r2) == CONNPOOL_OK, "add r2");
    for (int i = 0; i < 4; i++) Require(GroupAcquire(g, CONNPOOL_INTENT_READ) == CONNPOOL_OK, "read");
    Require(GroupAcquire(g, CONNPOOL_INTENT_WRITE) == CONNPOOL_OK, "write");
    // A lease held through the group and one taken from a member directly (not a group acquire).
    connpool_pool_t* held_member = nullptr;
    connpool_lease_t held = 0;
    Require(connpool_group_acquire(g, CONNPOOL_INTENT_WRITE, 1000, &held_member, &held, nullptr) == CONNPOOL_OK,
            "held write");
    connpool_lease_t direct = 0;
    Require(connpool_acquire(r1, 1000, &direct, nullptr) == CONNPOOL_OK, "direct acquire");
    Dump("all-ready-busy", g);
    connpool_release(r1, direct);
    connpool_release(held_member, held);
    // An EINVAL: its reason becomes last_error.
    Require(connpool_group_add(g, "r1", CONNPOOL_ROLE_REPLICA, r2) == CONNPOOL_EINVAL, "duplicate add refused");
    Dump("all-ready-last-error", g);

    TakeDown(&b2, r2);
    Require(Eventually([&] { return connpool_pool_state(r2) != CONNPOOL_STATE_READY; }), "r2 degraded");
    Dump("replica-degraded", g);
    Require(StateIs(r2, CONNPOOL_STATE_UNAVAILABLE), "r2 unavailable");
    for (int i = 0; i < 3; i++) Require(GroupAcquire(g, CONNPOOL_INTENT_READ) == CONNPOOL_OK, "read past r2");
    Dump("replica-unavailable", g);

    TakeDown(&bm, main_pool);
    Require(StateIs(main_pool, CONNPOOL_STATE_UNAVAILABLE), "primary unavailable");
    Require(GroupAcquire(g, CONNPOOL_INTENT_WRITE) == CONNPOOL_EUNAVAILABLE, "write fails fast");
    Dump("primary-unavailable", g);

    bm.up = true;
    b2.up = true;
    Require(StateIs(main_pool, CONNPOOL_STATE_READY) && StateIs(r2, CONNPOOL_STATE_READY), "recovered");
    Require(GroupAcquire(g, CONNPOOL_INTENT_WRITE) == CONNPOOL_OK, "write after recovery");
    Dump("recovered", g);

    // r1 drains with a lease out, closes when it comes back, and leaves the group when freed.
    connpool_lease_t out = 0;
    Require(connpool_acquire(r1, 1000, &out, nullptr) == CONNPOOL_OK, "lease on r1");
    Require(connpool_pool_drain(r1, 0) == CONNPOOL_ETIMEOUT, "r1 draining with a lease out");
    Dump("member-draining", g);
    connpool_release(r1, out);
    Require(StateIs(r1, CONNPOOL_STATE_CLOSED), "r1 closed");
    Dump("member-closed", g);
    connpool_pool_free(r1);
    Require(GroupAcquire(g, CONNPOOL_INTENT_READ) == CONNPOOL_OK, "read without r1");
    Dump("member-detached", g);
    connpool_pool_free(r2);
    connpool_pool_free(main_pool);
    Require(GroupAcquire(g, CONNPOOL_INTENT_WRITE) == CONNPOOL_ECLOSED, "write to a freed primary");
    Dump("all-detached", g);
    connpool_group_free(g);
  }
  // Members that never served: a primary still starting (its backend is down, next retry far
  // off) and a replica whose factory failed fatally (unavailable at once).
  {
    Backend bs, bf;
    bs.up = false;
    bf.up = false;
    bf.fatal = true;
    bf.error_text = "FATAL: password authentication failed for user \"app\" (password=hunter2)";
    connpool_pool_t* starting = MakePool(&bs, {{"name", "reports-primary"}, {"retry_initial_ms", "60000"}});
    connpool_pool_t* fatal = MakePool(&bf, {{"name", "reports-replica"}});
    if (starting == nullptr || fatal == nullptr) return 2;
    Require(Eventually([&] { return bs.create_failures.load() >= 1; }), "starting with a failure");
    Require(StateIs(fatal, CONNPOOL_STATE_UNAVAILABLE), "unavailable after FATAL");
    connpool_group_t* g = nullptr;
    if (connpool_group_new("reports", &g) != CONNPOOL_OK) return 2;
    Require(connpool_group_add(g, "main", CONNPOOL_ROLE_PRIMARY, starting) == CONNPOOL_OK, "add starting");
    Require(connpool_group_add(g, "replica", CONNPOOL_ROLE_REPLICA, fatal) == CONNPOOL_OK, "add fatal");
    Require(connpool_pool_state(starting) == CONNPOOL_STATE_STARTING, "primary starting");
    Require(GroupAcquire(g, CONNPOOL_INTENT_WRITE) == CONNPOOL_ETIMEOUT, "write to a starting primary times out");
    Dump("starting-and-fatal", g);
    connpool_group_free(g);  // the pools stay open
    connpool_pool_free(starting);
    connpool_pool_free(fatal);
  }
  // Shards.
  {
    Backend b[3];
    std::vector<connpool_pool_t*> pools;
    connpool_group_t* g = nullptr;
    if (connpool_group_new("users", &g) != CONNPOOL_OK) return 2;
    const char* names[] = {"shard-a", "shard-b", "shard-c"};
    for (int i = 0; i < 3; i++) {
      connpool_pool_t* p = MakePool(&b[i], With(names[i]));
      if (p == nullptr) return 2;
      Require(connpool_pool_wait_ready(p, 10000) == CONNPOOL_OK, "shard ready");
      Require(connpool_group_add(g, names[i], CONNPOOL_ROLE_SHARD, p) == CONNPOOL_OK, "add shard");
      pools.push_back(p);
    }
    for (uint64_t key = 0; key < 30; key++) {
      connpool_pool_t* member = nullptr;
      connpool_lease_t lease = 0;
      Require(connpool_group_acquire_key(g, key, 1000, &member, &lease, nullptr) == CONNPOOL_OK, "key");
      if (member != nullptr) connpool_release(member, lease);
    }
    Dump("shards", g);
    connpool_group_free(g);
    for (connpool_pool_t* p : pools) connpool_pool_free(p);
  }
  // Group and member names that need escaping or are not valid UTF-8.
  {
    Backend b;
    connpool_pool_t* p = MakePool(&b, {{"name", "odd"}});
    if (p == nullptr) return 2;
    Require(connpool_pool_wait_ready(p, 10000) == CONNPOOL_OK, "ready (odd names)");
    connpool_group_t* g = nullptr;
    if (connpool_group_new("say \"hi\"\n\t池 \xff\xe2\x82", &g) != CONNPOOL_OK) return 2;
    Require(connpool_group_add(g, "\x01\x1f\x7f \xc3", CONNPOOL_ROLE_PRIMARY, p) == CONNPOOL_OK, "odd member");
    Dump("odd-names", g);
    connpool_group_free(g);
    connpool_pool_free(p);
  }
  return g_failures == 0 ? 0 : 1;
}
