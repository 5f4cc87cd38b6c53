// SPDX-License-Identifier: Apache-2.0
// Pool groups: role routing, read fallback, fail-fast on unavailable members, detaching,
// bad input and the stats document, on fake factories and a fake clock.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "unit/group_fixture.h"

namespace connpool::testing {
namespace {

TEST_F(GroupTest, WriteGoesToThePrimaryOnly) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r");
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  for (int i = 0; i < 5; ++i) {
    Result w = Write();
    ASSERT_EQ(w.st, Status::kOK);
    EXPECT_EQ(w.member, p.pool);
    EXPECT_NE(w.conn, nullptr);
    EXPECT_EQ(w.member->Release(w.lease, false), Status::kOK);
  }
  EXPECT_EQ(r.pool->Snapshot().acquired, 0u);
}

TEST_F(GroupTest, ReadPicksTheLeastLoadedReadyReplica) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r1 = NewPool("r1", SmallConfig(4));
  Member& r2 = NewPool("r2", SmallConfig(4));
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r1);
  AddMember("r2", Role::kReplica, r2);
  // Tie: the first replica added.
  Result a = Read();
  ASSERT_EQ(a.st, Status::kOK);
  EXPECT_EQ(a.member, r1.pool);
  // r1 now holds one lease: r2 is less loaded.
  Result b = Read();
  ASSERT_EQ(b.st, Status::kOK);
  EXPECT_EQ(b.member, r2.pool);
  // Two more on r1 by hand: r2 (1/4) beats r1 (3/4).
  uint64_t l1, l2;
  void* c;
  ASSERT_EQ(r1.pool->Acquire(0, 0, &l1, &c), Status::kOK);
  ASSERT_EQ(r1.pool->Acquire(0, 0, &l2, &c), Status::kOK);
  Result d = Read();
  ASSERT_EQ(d.st, Status::kOK);
  EXPECT_EQ(d.member, r2.pool);
  for (uint64_t l : {a.lease, l1, l2}) EXPECT_EQ(r1.pool->Release(l, false), Status::kOK);
  for (uint64_t l : {b.lease, d.lease}) EXPECT_EQ(r2.pool->Release(l, false), Status::kOK);
  EXPECT_EQ(p.pool->Snapshot().acquired, 0u) << "no read touched the primary";
}

TEST_F(GroupTest, ReadFallsBackToThePrimaryWithoutWaitingOnUnavailableReplicas) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r1 = NewPool("r1");
  Member& r2 = NewPool("r2");
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r1);
  AddMember("r2", Role::kReplica, r2);
  MakeUnavailable(r1);
  MakeUnavailable(r2);
  const uint64_t r1_unavail = r1.pool->Snapshot().unavailable;
  Result r = Read();  // a 1000 s timeout on a frozen clock: would hang if it waited
  ASSERT_EQ(r.st, Status::kOK);
  EXPECT_EQ(r.member, p.pool);
  EXPECT_EQ(p.pool->Release(r.lease, false), Status::kOK);
  EXPECT_EQ(r1.pool->Snapshot().unavailable, r1_unavail) << "an unavailable member is not even entered";
  Group::View v = group_->Snapshot();
  EXPECT_EQ(v.counters.read_fallbacks, 1u);
  EXPECT_GE(v.counters.skipped_unavailable, 2u);
  EXPECT_EQ(v.counters.acquired, 1u);
}

TEST_F(GroupTest, ReadFailsOverWhenAReadyReplicasBackendJustDied) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r");
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  // The replica still says ready, but its idle connection is dead and so is its server.
  r.st->validate_ok = false;
  r.st->create_result = CreateResult::kRetry;
  clock_.AdvanceMs(1000);  // idle longer than validation_idle_ms: the acquire validates
  Result res = Read();
  ASSERT_EQ(res.st, Status::kOK);
  EXPECT_EQ(res.member, p.pool) << "served by the primary";
  EXPECT_EQ(r.pool->state(), Health::kDegraded);
  EXPECT_EQ(p.pool->Release(res.lease, false), Status::kOK);
  // The replica comes back: reads return to it once it is ready again.
  r.st->validate_ok = true;
  ASSERT_TRUE(WaitNoCreateInFlightOn(r.pool));
  r.st->create_result = CreateResult::kOk;
  clock_.AdvanceMs(r.pool->Snapshot().next_attempt_in_ms + 1);
  ASSERT_TRUE(Eventually([&] { return r.pool->state() == Health::kReady; }));
  Result back = Read();
  ASSERT_EQ(back.st, Status::kOK);
  EXPECT_EQ(back.member, r.pool);
  EXPECT_EQ(r.pool->Release(back.lease, false), Status::kOK);
}

TEST_F(GroupTest, ReadWaitsForABusyHealthyReplicaRatherThanSpillingOntoThePrimary) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r", SmallConfig(1));
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  uint64_t held;
  void* c;
  ASSERT_EQ(r.pool->Acquire(0, 0, &held, &c), Status::kOK);
  Result res;
  std::thread reader([&] {
    std::string err;
    res.st = group_->Acquire(CONNPOOL_INTENT_READ, 1'000'000, &res.member, &res.lease, &res.conn, &err);
  });
  ASSERT_TRUE(Eventually([&] { return r.pool->Snapshot().waiters == 1; }));
  EXPECT_EQ(r.pool->Release(held, false), Status::kOK);  // handed to the waiting reader
  reader.join();
  ASSERT_EQ(res.st, Status::kOK);
  EXPECT_EQ(res.member, r.pool);
  EXPECT_EQ(r.pool->Release(res.lease, false), Status::kOK);
  EXPECT_EQ(p.pool->Snapshot().acquired, 0u);
}

TEST_F(GroupTest, ReadWithTimeoutZeroOnASaturatedReplicaTimesOut) {
  NewGroup();
  Member& r = NewPool("r", SmallConfig(1));
  AddMember("r1", Role::kReplica, r);
  uint64_t held;
  void* c;
  ASSERT_EQ(r.pool->Acquire(0, 0, &held, &c), Status::kOK);
  EXPECT_EQ(Read(0).st, Status::kETIMEOUT);
  EXPECT_EQ(group_->Snapshot().counters.timeouts, 1u);
  EXPECT_EQ(r.pool->Release(held, false), Status::kOK);
}

TEST_F(GroupTest, WriteFailsFastWhenThePrimaryIsUnavailable) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r");
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  MakeUnavailable(p);
  Result w = Write();  // 1000 s timeout, frozen clock: must not wait
  EXPECT_EQ(w.st, Status::kEUNAVAILABLE);
  EXPECT_EQ(w.member, nullptr);
  EXPECT_EQ(r.pool->Snapshot().acquired, 0u) << "writes never go to a replica";
  // Reads still work from the replica.
  Result rd = Read();
  ASSERT_EQ(rd.st, Status::kOK);
  EXPECT_EQ(rd.member, r.pool);
  EXPECT_EQ(r.pool->Release(rd.lease, false), Status::kOK);
  EXPECT_EQ(group_->Snapshot().counters.unavailable, 1u);
}

TEST_F(GroupTest, WriteWaitsOutAnOutageUntilTheCutoffThenFailsFast) {
  NewGroup();
  Config cfg = SmallConfig(1);
  cfg.unavailable_after_ms = 2000;
  Member& p = NewPool("p", cfg);
  AddMember("main", Role::kPrimary, p);
  // The server dies: the connection is found broken, creates fail with RETRY.
  p.st->create_result = CreateResult::kRetry;
  Result first = Write(0);
  ASSERT_EQ(first.st, Status::kOK);
  EXPECT_EQ(p.pool->Release(first.lease, true), Status::kOK);
  EXPECT_EQ(Write(0).st, Status::kEFACTORY);
  ASSERT_TRUE(Eventually([&] { return p.pool->state() == Health::kDegraded; }));
  for (int i = 0; i < 20 && p.pool->state() != Health::kUnavailable; ++i) {
    clock_.AdvanceMs(500);
    p.pool->RunMaintenance();
  }
  ASSERT_EQ(p.pool->state(), Health::kUnavailable);
  EXPECT_EQ(Write().st, Status::kEUNAVAILABLE);
  // Recovery: the next probe succeeds and writes work again, once no probe is in flight
  // (one still under way on its helper would fail and reschedule after the switch below).
  ASSERT_TRUE(WaitNoCreateInFlightOn(p.pool));
  p.st->create_result = CreateResult::kOk;
  clock_.AdvanceMs(p.pool->Snapshot().next_attempt_in_ms + 1);
  ASSERT_TRUE(Eventually([&] { return p.pool->state() == Health::kReady; }));
  Result w = Write();
  ASSERT_EQ(w.st, Status::kOK);
  EXPECT_EQ(p.pool->Release(w.lease, false), Status::kOK);
}

TEST_F(GroupTest, EveryCandidateUnavailableIsEUnavailable) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r");
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  MakeUnavailable(p);
  MakeUnavailable(r);
  EXPECT_EQ(Read().st, Status::kEUNAVAILABLE);
}

TEST_F(GroupTest, ReadWithOnlyAPrimaryUsesIt) {
  NewGroup();
  Member& p = NewPool("p");
  AddMember("main", Role::kPrimary, p);
  Result r = Read();
  ASSERT_EQ(r.st, Status::kOK);
  EXPECT_EQ(r.member, p.pool);
  EXPECT_EQ(p.pool->Release(r.lease, false), Status::kOK);
  EXPECT_EQ(group_->Snapshot().counters.read_fallbacks, 0u) << "no replica to fall back from";
}

TEST_F(GroupTest, BadInputIsEinvalWithAReason) {
  std::string err;
  Group* g = nullptr;
  EXPECT_EQ(Group::Create(nullptr, &g, &err), Status::kEINVAL);
  EXPECT_EQ(Group::Create("", &g, &err), Status::kEINVAL);
  EXPECT_EQ(g, nullptr);
  EXPECT_EQ(Group::Create("x", nullptr, &err), Status::kEINVAL);

  NewGroup("orders");
  Member& p = NewPool("p");
  Member& p2 = NewPool("p2");
  Member& r = NewPool("r");
  auto add = [&](const char* name, int role, Pool* pool) {
    err.clear();
    Status st = group_->Add(name, role, pool, &err);
    if (st != Status::kOK) {
      EXPECT_NE(err.find("group 'orders'"), std::string::npos) << err;
    }
    return st;
  };
  EXPECT_EQ(add(nullptr, CONNPOOL_ROLE_PRIMARY, p.pool), Status::kEINVAL);
  EXPECT_EQ(add("", CONNPOOL_ROLE_PRIMARY, p.pool), Status::kEINVAL);
  EXPECT_EQ(add("main", 7, p.pool), Status::kEINVAL);
  EXPECT_NE(err.find("unknown role 7"), std::string::npos) << err;
  EXPECT_EQ(add("main", -1, p.pool), Status::kEINVAL);
  EXPECT_EQ(add("main", CONNPOOL_ROLE_PRIMARY, nullptr), Status::kEINVAL);
  EXPECT_EQ(add("main", CONNPOOL_ROLE_PRIMARY, p.pool), Status::kOK);
  EXPECT_EQ(add("main", CONNPOOL_ROLE_REPLICA, r.pool), Status::kEINVAL) << "name taken";
  EXPECT_NE(err.find("already used"), std::string::npos) << err;
  EXPECT_EQ(add("again", CONNPOOL_ROLE_REPLICA, p.pool), Status::kEINVAL) << "pool already in the group";
  EXPECT_NE(err.find("already belongs"), std::string::npos) << err;
  EXPECT_EQ(add("second", CONNPOOL_ROLE_PRIMARY, p2.pool), Status::kEINVAL) << "one primary";
  EXPECT_NE(err.find("already has a primary"), std::string::npos) << err;

  // A pool in one group cannot join another.
  Group* other = nullptr;
  ASSERT_EQ(Group::Create("other", &other, &err), Status::kOK);
  EXPECT_EQ(other->Add("x", CONNPOOL_ROLE_REPLICA, p.pool, &err), Status::kEINVAL);
  EXPECT_NE(err.find("group 'orders'"), std::string::npos) << err;
  EXPECT_EQ(other->Add("x", CONNPOOL_ROLE_REPLICA, p2.pool, &err), Status::kOK);
  other->Free();  // p2 is free to join again
  EXPECT_EQ(add("r2", CONNPOOL_ROLE_REPLICA, p2.pool), Status::kOK);

  Pool* m;
  uint64_t l;
  void* c;
  EXPECT_EQ(group_->Acquire(5, 0, &m, &l, &c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("unknown intent 5"), std::string::npos) << err;
  EXPECT_EQ(group_->AcquireKey(1, 0, &m, &l, &c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("no shard"), std::string::npos) << err;
}

TEST_F(GroupTest, MissingRolesAreEinval) {
  NewGroup();
  std::string err;
  Pool* m;
  uint64_t l;
  void* c;
  EXPECT_EQ(group_->Acquire(CONNPOOL_INTENT_READ, 0, &m, &l, &c, &err), Status::kEINVAL);
  Member& r = NewPool("r");
  AddMember("r1", Role::kReplica, r);
  EXPECT_EQ(group_->Acquire(CONNPOOL_INTENT_WRITE, 0, &m, &l, &c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("no primary"), std::string::npos) << err;
}

TEST_F(GroupTest, FreeingAMemberPoolDetachesItAndWakesGroupWaitersOnIt) {
  NewGroup();
  Member& p = NewPool("p");
  Member& r = NewPool("r", SmallConfig(1));
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  uint64_t held;
  void* c;
  ASSERT_EQ(r.pool->Acquire(0, 0, &held, &c), Status::kOK);
  Result res;
  std::thread reader([&] {
    std::string err;
    res.st = group_->Acquire(CONNPOOL_INTENT_READ, 1'000'000, &res.member, &res.lease, &res.conn, &err);
  });
  ASSERT_TRUE(Eventually([&] { return r.pool->Snapshot().waiters == 1; }));
  // connpool_pool_free on the replica while a group read waits inside it.
  Pool* replica = r.pool;
  Group::DetachPool(replica);
  reader.join();
  ASSERT_EQ(res.st, Status::kOK) << "woken with ECLOSED, then served by the primary";
  EXPECT_EQ(res.member, p.pool);
  EXPECT_EQ(p.pool->Release(res.lease, false), Status::kOK);
  replica->Close();  // the lease keeps it alive
  EXPECT_EQ(replica->Release(held, false), Status::kOK);  // the last lease frees it
  r.pool = nullptr;

  Group::View v = group_->Snapshot();
  ASSERT_EQ(v.members.size(), 2u);
  EXPECT_FALSE(v.members[1].attached);
  EXPECT_EQ(v.members[1].state, Health::kClosed);
  EXPECT_EQ(v.members[1].stats, nullptr);
  // Reads keep working from the primary; the name stays taken.
  Result again = Read();
  ASSERT_EQ(again.st, Status::kOK);
  EXPECT_EQ(again.member, p.pool);
  EXPECT_EQ(p.pool->Release(again.lease, false), Status::kOK);
  Member& r2 = NewPool("r2");
  std::string err;
  EXPECT_EQ(group_->Add("r1", CONNPOOL_ROLE_REPLICA, r2.pool, &err), Status::kEINVAL);
  EXPECT_EQ(group_->Add("r2", CONNPOOL_ROLE_REPLICA, r2.pool, &err), Status::kOK);

  // A freed primary: writes are ECLOSED (not EINVAL: the group still has one, closed).
  FreePool(p);
  EXPECT_EQ(Write().st, Status::kECLOSED);
  // A new primary may take over.
  Member& p2 = NewPool("p2");
  AddMember("main2", Role::kPrimary, p2);
  Result w = Write();
  ASSERT_EQ(w.st, Status::kOK);
  EXPECT_EQ(w.member, p2.pool);
  EXPECT_EQ(p2.pool->Release(w.lease, false), Status::kOK);
}

TEST_F(GroupTest, GroupFreeLeavesPoolsAndLeasesUsable) {
  NewGroup();
  Member& p = NewPool("p");
  AddMember("main", Role::kPrimary, p);
  Result w = Write();
  ASSERT_EQ(w.st, Status::kOK);
  group_->Free();
  group_ = nullptr;
  EXPECT_EQ(p.pool->Release(w.lease, false), Status::kOK);
  EXPECT_EQ(p.pool->state(), Health::kReady);
  NewGroup("next");
  AddMember("main", Role::kPrimary, p);  // free to join a group again
}

TEST_F(GroupTest, StatsHaveMembersRolesStatesAndTotals) {
  NewGroup("orders");
  Member& p = NewPool("p", SmallConfig(3));
  Member& r = NewPool("r", SmallConfig(2));
  Member& s = NewPool("s", SmallConfig(2));
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r);
  AddMember("s1", Role::kShard, s);
  MakeUnavailable(s);
  Result w = Write();
  ASSERT_EQ(w.st, Status::kOK);
  std::string err;
  group_->Add("bad", 9, r.pool, &err);
  group_->NoteError(err);

  char* text = GroupStatsToJson(group_->Snapshot());
  ASSERT_NE(text, nullptr);
  cJSON* root = cJSON_Parse(text);
  ASSERT_NE(root, nullptr) << text;
  auto num = [](cJSON* o, const char* k) {
    cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
    EXPECT_TRUE(cJSON_IsNumber(v)) << k;
    return v ? v->valuedouble : -1;
  };
  EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(root, "name")->valuestring, "orders");
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "writable")));
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "readable")));
  cJSON* counters = cJSON_GetObjectItemCaseSensitive(root, "counters");
  for (const char* k : {"acquired", "read_fallbacks", "skipped_unavailable", "timeouts", "unavailable",
                        "closed", "overload", "factory_errors", "invalid"})
    num(counters, k);
  EXPECT_EQ(num(counters, "acquired"), 1);
  EXPECT_EQ(num(counters, "invalid"), 1);
  cJSON* totals = cJSON_GetObjectItemCaseSensitive(root, "totals");
  EXPECT_EQ(num(totals, "members"), 3);
  EXPECT_EQ(num(totals, "attached"), 3);
  EXPECT_EQ(num(totals, "serving"), 2);
  cJSON* conns = cJSON_GetObjectItemCaseSensitive(totals, "connections");
  EXPECT_EQ(num(conns, "max_size"), 7);
  EXPECT_EQ(num(conns, "in_use"), 1);
  EXPECT_EQ(num(conns, "total"), 2) << "p: 1 leased, r: 1 idle, s: none";
  num(totals, "waiters");
  num(totals, "acquired");
  cJSON* last = cJSON_GetObjectItemCaseSensitive(root, "last_error");
  ASSERT_TRUE(cJSON_IsString(last));
  EXPECT_NE(std::string(last->valuestring).find("unknown role 9"), std::string::npos);
  cJSON* members = cJSON_GetObjectItemCaseSensitive(root, "members");
  ASSERT_EQ(cJSON_GetArraySize(members), 3);
  const char* names[] = {"main", "r1", "s1"};
  const char* roles[] = {"primary", "replica", "shard"};
  const char* states[] = {"ready", "ready", "unavailable"};
  for (int i = 0; i < 3; ++i) {
    cJSON* m = cJSON_GetArrayItem(members, i);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring, names[i]);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring, roles[i]);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(m, "state")->valuestring, states[i]);
    EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "attached")));
    num(m, "acquired");
    cJSON* st = cJSON_GetObjectItemCaseSensitive(m, "stats");
    ASSERT_TRUE(cJSON_IsObject(st));
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(st, "state")->valuestring, states[i]);
    EXPECT_TRUE(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(st, "connections")));
  }
  EXPECT_EQ(num(cJSON_GetArrayItem(members, 0), "acquired"), 1);
  cJSON_Delete(root);
  free(text);
  EXPECT_EQ(p.pool->Release(w.lease, false), Status::kOK);
}

// Many threads read and write through the group while another renders stats and a replica
// is detached half-way: every lease goes back to the member that issued it, nothing leaks.
TEST_F(GroupTest, ConcurrentAcquiresStatsAndADetach) {
  NewGroup();
  Member& p = NewPool("p", SmallConfig(4));
  Member& r1 = NewPool("r1", SmallConfig(4));
  Member& r2 = NewPool("r2", SmallConfig(4));
  AddMember("main", Role::kPrimary, p);
  AddMember("r1", Role::kReplica, r1);
  AddMember("r2", Role::kReplica, r2);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        Pool* m;
        uint64_t l;
        void* c;
        std::string err;
        // timeout 0: nothing may wait on the frozen fake clock
        Status st = group_->Acquire(t % 3 == 0 ? CONNPOOL_INTENT_WRITE : CONNPOOL_INTENT_READ, 0, &m, &l, &c, &err);
        if (st == Status::kOK) {
          if (m->Release(l, false) == Status::kOK) ok++;
          else bad++;
        } else if (st != Status::kETIMEOUT && st != Status::kECLOSED && st != Status::kEFACTORY) {
          bad++;
        }
      }
    });
  }
  std::thread stats([&] {
    while (!stop) free(GroupStatsToJson(group_->Snapshot()));
  });
  ASSERT_TRUE(Eventually([&] { return ok.load() > 1000; }));
  FreePool(r2);
  for (auto& th : threads) th.join();
  stop = true;
  stats.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(ok.load(), 1000u);
  Group::View v = group_->Snapshot();
  EXPECT_EQ(v.counters.acquired, ok.load());
  EXPECT_EQ(p.pool->Snapshot().in_use + r1.pool->Snapshot().in_use, 0u);
}

}  // namespace
}  // namespace connpool::testing
