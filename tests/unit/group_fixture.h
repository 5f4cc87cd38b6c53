// SPDX-License-Identifier: Apache-2.0
// Pools on one FakeClock and FakeFactories, grouped; everything freed and checked for leaked
// connections after each test.
#ifndef CONNPOOL_TESTS_GROUP_FIXTURE_H
#define CONNPOOL_TESTS_GROUP_FIXTURE_H

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <future>
#include <string>

#include "group/group.h"
#include "unit/pool_fixture.h"

namespace connpool::testing {

class GroupTest : public ::testing::Test {
 protected:
  struct Member {
    std::shared_ptr<FakeState> st;
    Pool* pool = nullptr;
  };

  void TearDown() override {
    if (group_ != nullptr) group_->Free();
    for (Member& m : members_) FreePool(m);
    for (Member& m : members_) EXPECT_EQ(m.st->created.load(), m.st->destroyed.load()) << "connections leaked";
  }

  // A ready pool (its startup probe made one idle connection).
  Member& NewPool(const std::string& name, Config cfg = SmallConfig(2)) {
    cfg.name = name;
    members_.emplace_back();
    Member& m = members_.back();
    m.st = std::make_shared<FakeState>();
    PoolOptions opts;
    opts.clock = &clock_;
    opts.maintenance_thread = false;
    opts.seed = 42;
    std::string err;
    EXPECT_EQ(Pool::Create(cfg, std::make_unique<FakeFactory>(m.st), opts, &m.pool, &err), Status::kOK) << err;
    EXPECT_TRUE(Eventually([&] { return m.pool->state() == Health::kReady; }));
    EXPECT_TRUE(Eventually([&] { return m.pool->Snapshot().creating == 0; }));
    return m;
  }

  Group* NewGroup(const char* name = "g") {
    std::string err;
    EXPECT_EQ(Group::Create(name, &group_, &err), Status::kOK) << err;
    return group_;
  }

  void AddMember(const char* name, Role role, Member& m) {
    std::string err;
    ASSERT_EQ(group_->Add(name, static_cast<int>(role), m.pool, &err), Status::kOK) << err;
  }

  // What connpool_pool_free does: leave the group, then close.
  void FreePool(Member& m) {
    if (m.pool == nullptr) return;
    Group::DetachPool(m.pool);
    m.pool->Close();
    m.pool = nullptr;
  }

  // The backend dies for good: the idle connection is found broken and the replacement's
  // create fails FATAL, which makes the pool unavailable at once (DESIGN.md §4).
  void MakeUnavailable(Member& m) {
    m.st->create_result = CreateResult::kFatal;
    uint64_t lease;
    void* conn;
    while (m.pool->Acquire(0, 0, &lease, &conn) == Status::kOK) m.pool->Release(lease, true);
    ASSERT_TRUE(Eventually([&] { return m.pool->state() == Health::kUnavailable; }));
  }

  struct Result {
    Status st = Status::kEINTERNAL;
    Pool* member = nullptr;
    uint64_t lease = 0;
    void* conn = nullptr;
  };
  // A group acquire that must return within a few real seconds: on a fake clock nothing ever
  // times out, so a call that waits where it must not hangs here and fails the test instead.
  Result ReadOrWrite(int intent, int64_t timeout_ms) {
    auto f = std::async(std::launch::async, [&] {
      Result r;
      std::string err;
      r.st = group_->Acquire(intent, timeout_ms, &r.member, &r.lease, &r.conn, &err);
      return r;
    });
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "group acquire waited";
      std::abort();  // the async thread is stuck on the fake clock; no clean way out
    }
    return f.get();
  }
  Result Read(int64_t timeout_ms = 1'000'000) { return ReadOrWrite(CONNPOOL_INTENT_READ, timeout_ms); }
  Result Write(int64_t timeout_ms = 1'000'000) { return ReadOrWrite(CONNPOOL_INTENT_WRITE, timeout_ms); }

  FakeClock clock_;
  std::deque<Member> members_;  // deque: references stay valid as pools are added
  Group* group_ = nullptr;
};

}  // namespace connpool::testing

#endif
