// SPDX-License-Identifier: Apache-2.0
/* Compiled as strict C99 (-pedantic-errors): the header is C, and the API works from C. */
#include <connpool/connpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int created, destroyed, freed;

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
static void ctx_free(void *ctx) {
  (void)ctx;
  freed++;
}

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                         \
    }                                                                   \
  } while (0)

int main(void) {
  char err[256];
  connpool_config_t *cfg = connpool_config_new();
  connpool_factory_t *f;
  connpool_pool_t *pool;
  connpool_lease_t lease, other;
  void *conn;
  char *json;

  CHECK(cfg != NULL);
  CHECK(connpool_config_set(cfg, "max_size", "1", err, sizeof err) == CONNPOOL_OK);
  CHECK(connpool_config_set(cfg, "max_size", "x", err, sizeof err) == CONNPOOL_EINVAL && strlen(err) > 0);
  f = connpool_factory_new(NULL, ctx_free, mk, rm);
  CHECK(f != NULL);
  CHECK(connpool_pool_new(cfg, f, &pool, err, sizeof err) == CONNPOOL_OK);
  connpool_config_free(cfg);
  CHECK(connpool_pool_wait_ready(pool, 5000) == CONNPOOL_OK);
  CHECK(connpool_acquire(pool, 1000, &lease, &conn) == CONNPOOL_OK && lease != 0 && conn != NULL);
  CHECK(connpool_acquire(pool, 0, &other, NULL) == CONNPOOL_ETIMEOUT);
  CHECK(connpool_release(pool, lease) == CONNPOOL_OK);
  CHECK(connpool_release(pool, lease) == CONNPOOL_ESTALE);
  json = connpool_pool_stats_json(pool);
  CHECK(json != NULL && strstr(json, "\"state\":\"ready\"") != NULL);
  connpool_free(json);
  CHECK(strcmp(connpool_errname(CONNPOOL_ESTALE), "CONNPOOL_ESTALE") == 0);
  CHECK(connpool_version_number() == CONNPOOL_VERSION_NUMBER);
  connpool_pool_free(pool);
  CHECK(created == destroyed && freed == 1);
  printf("c99 API test: ok\n");
  return 0;
}
