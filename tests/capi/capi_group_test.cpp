// SPDX-License-Identifier: Apache-2.0
// Pool groups through the C ABI with C callbacks: NULLs and bad values, messages reaching the
// log sink and stats, freeing in either order, and the stats document.
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "../common/log_capture.h"

namespace {

using connpool_test::LogCapture;  // tests/common/log_capture.h

struct Backend {
  std::atomic<int> created{0}, destroyed{0}, ctx_freed{0};
};
int Create(void* ctx, void** out, char*, size_t) {
  *out = malloc(16);
  static_cast<Backend*>(ctx)->created++;
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void* ctx, void* conn) {
  static_cast<Backend*>(ctx)->destroyed++;
  free(conn);
}
void CtxFree(void* ctx) { static_cast<Backend*>(ctx)->ctx_freed++; }

connpool_pool_t* NewPool(Backend* b, const char* name) {
  connpool_config_t* cfg = connpool_config_new();
  char err[256] = "";
  EXPECT_EQ(connpool_config_set(cfg, "name", name, err, sizeof err), CONNPOOL_OK) << err;
  connpool_pool_t* p = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, connpool_factory_new(b, CtxFree, Create, Destroy), &p, err, sizeof err),
            CONNPOOL_OK)
      << err;
  connpool_config_free(cfg);
  EXPECT_EQ(connpool_pool_wait_ready(p, 10000), CONNPOOL_OK);
  return p;
}

std::string GroupStats(connpool_group_t* g) {
  char* s = connpool_group_stats_json(g);
  std::string out = s ? s : "";
  connpool_free(s);
  return out;
}

TEST(CapiGroup, NullsAndBadValuesAreEinvalAndExplained) {
  LogCapture sink(CONNPOOL_LOG_WARN);
  connpool_group_t* g = reinterpret_cast<connpool_group_t*>(0x1);
  EXPECT_EQ(connpool_group_new(nullptr, &g), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_new("x", nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_new("", &g), CONNPOOL_EINVAL);
  EXPECT_EQ(g, nullptr);
  EXPECT_TRUE(sink.AnyContains("name is NULL or empty"));
  EXPECT_EQ(connpool_group_add(nullptr, "m", CONNPOOL_ROLE_PRIMARY, nullptr), CONNPOOL_EINVAL);

  Backend b;
  connpool_pool_t* p = NewPool(&b, "p");
  ASSERT_EQ(connpool_group_new("orders", &g), CONNPOOL_OK);
  EXPECT_EQ(connpool_group_add(g, nullptr, CONNPOOL_ROLE_PRIMARY, p), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_add(g, "m", 42, p), CONNPOOL_EINVAL);
  EXPECT_TRUE(sink.AnyContains("unknown role 42"));
  EXPECT_EQ(connpool_group_add(g, "m", CONNPOOL_ROLE_PRIMARY, nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_add(g, "m", CONNPOOL_ROLE_PRIMARY, p), CONNPOOL_OK);
  EXPECT_EQ(connpool_group_add(g, "m2", CONNPOOL_ROLE_REPLICA, p), CONNPOOL_EINVAL);
  EXPECT_NE(GroupStats(g).find("already belongs"), std::string::npos) << "last_error in stats";

  connpool_pool_t* member = reinterpret_cast<connpool_pool_t*>(0x1);
  connpool_lease_t lease = 7;
  void* conn = reinterpret_cast<void*>(0x1);
  EXPECT_EQ(connpool_group_acquire(nullptr, CONNPOOL_INTENT_READ, 0, &member, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(member, nullptr);
  EXPECT_EQ(lease, 0u);
  EXPECT_EQ(conn, nullptr);
  EXPECT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 0, nullptr, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 0, &member, nullptr, &conn), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_acquire(g, 3, 0, &member, &lease, &conn), CONNPOOL_EINVAL);
  EXPECT_TRUE(sink.AnyContains("unknown intent 3"));
  EXPECT_EQ(connpool_group_acquire_key(g, 1, 0, &member, &lease, nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_acquire_key(nullptr, 1, 0, &member, &lease, nullptr), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_group_stats_json(nullptr), nullptr);
  connpool_group_free(nullptr);

  // conn_out may be NULL, as for connpool_acquire.
  ASSERT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_WRITE, 1000, &member, &lease, nullptr), CONNPOOL_OK);
  EXPECT_EQ(member, p);
  EXPECT_EQ(connpool_release(member, lease), CONNPOOL_OK);
  connpool_group_free(g);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
  EXPECT_EQ(b.ctx_freed.load(), 1);
  sink.Stop();
}

// The *_ex variants (1.2): each EINVAL's reason in the caller's buffer, the group's
// last_error as before, and nothing logged.
TEST(CapiGroup, ExVariantsWriteTheReasonIntoTheCallersBuffer) {
  LogCapture sink(CONNPOOL_LOG_WARN);
  char err[256] = "stale";
  connpool_group_t* g = reinterpret_cast<connpool_group_t*>(0x1);
  EXPECT_EQ(connpool_group_new_ex("", &g, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(g, nullptr);
  EXPECT_NE(std::string(err).find("name is NULL or empty"), std::string::npos) << err;
  EXPECT_EQ(connpool_group_new_ex("x", nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_group_new: out is NULL");
  EXPECT_EQ(connpool_group_add_ex(nullptr, "m", CONNPOOL_ROLE_PRIMARY, nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_group_add: group is NULL");

  Backend b;
  connpool_pool_t* p = NewPool(&b, "p_ex");
  ASSERT_EQ(connpool_group_new_ex("orders_ex", &g, err, sizeof err), CONNPOOL_OK);
  EXPECT_STREQ(err, "");
  EXPECT_EQ(connpool_group_add_ex(g, "m", 42, p, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("unknown role 42"), std::string::npos) << err;
  ASSERT_EQ(connpool_group_add_ex(g, "m", CONNPOOL_ROLE_PRIMARY, p, err, sizeof err), CONNPOOL_OK);
  EXPECT_EQ(connpool_group_add_ex(g, "m2", CONNPOOL_ROLE_REPLICA, p, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("already belongs"), std::string::npos) << err;
  EXPECT_NE(GroupStats(g).find("already belongs"), std::string::npos) << "last_error in stats as before";

  connpool_pool_t* member = nullptr;
  connpool_lease_t lease = 0;
  EXPECT_EQ(connpool_group_acquire_ex(g, 3, 0, &member, &lease, nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("unknown intent 3"), std::string::npos) << err;
  EXPECT_EQ(connpool_group_acquire_ex(g, CONNPOOL_INTENT_READ, 0, nullptr, &lease, nullptr, err, sizeof err),
            CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("member_out and lease_out must not be NULL"), std::string::npos) << err;
  EXPECT_EQ(connpool_group_acquire_key_ex(g, 1, 0, &member, &lease, nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("shard"), std::string::npos) << err;
  EXPECT_EQ(connpool_group_acquire_key_ex(nullptr, 1, 0, &member, &lease, nullptr, err, sizeof err),
            CONNPOOL_EINVAL);
  EXPECT_STREQ(err, "connpool_group_acquire_key: group is NULL");
  ASSERT_EQ(connpool_group_acquire_ex(g, CONNPOOL_INTENT_WRITE, 1000, &member, &lease, nullptr, err, sizeof err),
            CONNPOOL_OK);
  EXPECT_STREQ(err, "");
  EXPECT_EQ(member, p);
  EXPECT_EQ(connpool_release(member, lease), CONNPOOL_OK);
  connpool_group_free(g);
  connpool_pool_free(p);
  EXPECT_EQ(b.created.load(), b.destroyed.load());
  sink.Stop();
  EXPECT_FALSE(sink.AnyContains("unknown role 42")) << "the _ex variants do not log";
  EXPECT_FALSE(sink.AnyContains("already belongs"));
  EXPECT_FALSE(sink.AnyContains("group is NULL"));
}

// pool_free on a pool still in a group detaches it; the group keeps working; the group can
// then be freed (and the other order, group first, is the plain case).
TEST(CapiGroup, PoolsAndGroupMayBeFreedInEitherOrder) {
  Backend bp, br;
  connpool_pool_t* p = NewPool(&bp, "p");
  connpool_pool_t* r = NewPool(&br, "r");
  connpool_group_t* g = nullptr;
  ASSERT_EQ(connpool_group_new("g", &g), CONNPOOL_OK);
  ASSERT_EQ(connpool_group_add(g, "main", CONNPOOL_ROLE_PRIMARY, p), CONNPOOL_OK);
  ASSERT_EQ(connpool_group_add(g, "r1", CONNPOOL_ROLE_REPLICA, r), CONNPOOL_OK);
  connpool_pool_t* member;
  connpool_lease_t lease;
  void* conn;
  ASSERT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 1000, &member, &lease, &conn), CONNPOOL_OK);
  EXPECT_EQ(member, r);
  connpool_pool_free(r);  // a lease is still out: the pool lives until it comes back
  EXPECT_EQ(connpool_release(member, lease), CONNPOOL_OK);
  EXPECT_EQ(br.ctx_freed.load(), 1);
  ASSERT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 1000, &member, &lease, &conn), CONNPOOL_OK);
  EXPECT_EQ(member, p) << "the freed replica is skipped";
  EXPECT_EQ(connpool_release(member, lease), CONNPOOL_OK);
  std::string stats = GroupStats(g);
  EXPECT_NE(stats.find("\"name\":\"r1\",\"role\":\"replica\",\"attached\":false,\"state\":\"closed\""),
            std::string::npos)
      << stats;
  connpool_pool_free(p);
  EXPECT_EQ(connpool_group_acquire(g, CONNPOOL_INTENT_WRITE, 1000, &member, &lease, &conn), CONNPOOL_ECLOSED);
  connpool_group_free(g);
  EXPECT_EQ(bp.created.load(), bp.destroyed.load());
  EXPECT_EQ(br.created.load(), br.destroyed.load());
}

}  // namespace
