// SPDX-License-Identifier: Apache-2.0
/* Pool groups from strict C99 (-pedantic-errors): the docs/GROUPS.md examples, compiled and
 * run as a C program would write them. */
#include <connpool/connpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int created, destroyed;

static int mk(void *ctx, void **out, char *err, size_t errlen) {
  (void)ctx;
  (void)err;
  (void)errlen;
  *out = malloc(1);
  created++;
  return CONNPOOL_FACTORY_OK;
}
static void rm(void *ctx, void *conn) {
  (void)ctx;
  free(conn);
  destroyed++;
}

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
      return 1;                                                                    \
    }                                                                              \
  } while (0)

static connpool_pool_t *new_pool(void) {
  char err[256];
  connpool_pool_t *p = NULL;
  if (connpool_pool_new(NULL, connpool_factory_new(NULL, NULL, mk, rm), &p, err, sizeof err) != CONNPOOL_OK) {
    fprintf(stderr, "pool_new: %s\n", err);
    return NULL;
  }
  if (connpool_pool_wait_ready(p, 10000) != CONNPOOL_OK) return NULL;
  return p;
}

int main(void) {
  connpool_pool_t *primary = new_pool(), *replica = new_pool(), *shard_a = new_pool(), *shard_b = new_pool();
  connpool_group_t *g = NULL, *users = NULL;
  connpool_pool_t *member;
  connpool_lease_t lease;
  void *conn;
  char *stats;
  uint64_t key;
  CHECK(primary && replica && shard_a && shard_b);

  CHECK(connpool_group_new("orders", &g) == CONNPOOL_OK);
  CHECK(connpool_group_add(g, "main", CONNPOOL_ROLE_PRIMARY, primary) == CONNPOOL_OK);
  CHECK(connpool_group_add(g, "r1", CONNPOOL_ROLE_REPLICA, replica) == CONNPOOL_OK);
  CHECK(connpool_group_add(g, "r2", CONNPOOL_ROLE_REPLICA, replica) == CONNPOOL_EINVAL);
  CHECK(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 1000, &member, &lease, &conn) == CONNPOOL_OK);
  CHECK(member == replica && conn != NULL);
  CHECK(connpool_release(member, lease) == CONNPOOL_OK);
  CHECK(connpool_group_acquire(g, CONNPOOL_INTENT_WRITE, 1000, &member, &lease, NULL) == CONNPOOL_OK);
  CHECK(member == primary);
  CHECK(connpool_release(member, lease) == CONNPOOL_OK);
  stats = connpool_group_stats_json(g);
  CHECK(stats != NULL && strstr(stats, "\"role\":\"replica\"") != NULL);
  connpool_free(stats);

  CHECK(connpool_group_new("users", &users) == CONNPOOL_OK);
  CHECK(connpool_group_add(users, "shard-a", CONNPOOL_ROLE_SHARD, shard_a) == CONNPOOL_OK);
  CHECK(connpool_group_add(users, "shard-b", CONNPOOL_ROLE_SHARD, shard_b) == CONNPOOL_OK);
  for (key = 0; key < 20; key++) {
    connpool_pool_t *again;
    CHECK(connpool_group_acquire_key(users, key, 1000, &member, &lease, &conn) == CONNPOOL_OK);
    CHECK(member == shard_a || member == shard_b);
    CHECK(connpool_release(member, lease) == CONNPOOL_OK);
    CHECK(connpool_group_acquire_key(users, key, 1000, &again, &lease, &conn) == CONNPOOL_OK);
    CHECK(again == member);
    CHECK(connpool_release(again, lease) == CONNPOOL_OK);
  }

  /* Either order: a pool freed while grouped is detached; the groups do not own pools. */
  connpool_pool_free(replica);
  CHECK(connpool_group_acquire(g, CONNPOOL_INTENT_READ, 1000, &member, &lease, &conn) == CONNPOOL_OK);
  CHECK(member == primary);
  CHECK(connpool_release(member, lease) == CONNPOOL_OK);
  connpool_group_free(g);
  connpool_group_free(users);
  connpool_group_free(NULL);
  connpool_pool_free(primary);
  connpool_pool_free(shard_a);
  connpool_pool_free(shard_b);
  CHECK(created == destroyed);
  puts("c99 group test: ok");
  return 0;
}
