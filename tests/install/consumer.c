// SPDX-License-Identifier: Apache-2.0
/* A user's program against the INSTALLED library: uses every function of the C API. */
#include <connpool/connpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mk(void *ctx, void **out, char *err, size_t errlen) {
  (void)ctx; (void)err; (void)errlen;
  *out = malloc(1);
  return CONNPOOL_FACTORY_OK;
}
static void rm(void *ctx, void *conn) { (void)ctx; free(conn); }
static int ok(void *ctx, void *conn) { (void)ctx; (void)conn; return 0; }
static void ctx_free(void *ctx) { (void)ctx; }
static void on_log(void *ud, int level, const char *msg) { (void)ud; (void)level; (void)msg; }

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "failed: %s\n", #c); return 1; } } while (0)

int main(void) {
  char err[256];
  connpool_config_t *cfg = NULL, *cfg2 = connpool_config_new();
  connpool_factory_t *spare = connpool_factory_new(NULL, ctx_free, mk, rm);
  connpool_factory_t *f = connpool_factory_new(NULL, ctx_free, mk, rm);
  connpool_pool_t *pool;
  connpool_lease_t a, b;
  void *conn;
  char *s;
  connpool_set_log_callback(on_log, NULL);
  CHECK(connpool_version_number() == CONNPOOL_VERSION_NUMBER);
  CHECK(strcmp(connpool_version_string(), CONNPOOL_VERSION_STRING) == 0);
  CHECK(strlen(connpool_strerror(CONNPOOL_ETIMEOUT)) > 0);
  CHECK(strcmp(connpool_errname(CONNPOOL_EUNAVAILABLE), "CONNPOOL_EUNAVAILABLE") == 0);
  CHECK(connpool_config_set(cfg2, "max_size", "2", err, sizeof err) == CONNPOOL_OK);
  connpool_config_free(cfg2);
  CHECK(connpool_config_from_json("{\"name\": \"consumer\", \"max_size\": 2}", &cfg, err, sizeof err) == CONNPOOL_OK);
  s = connpool_config_to_json(cfg);
  CHECK(s && strstr(s, "consumer"));
  connpool_free(s);
  connpool_factory_set_validate(f, ok);
  connpool_factory_set_reset(f, ok);
  connpool_factory_free(spare);
  CHECK(connpool_pool_new(cfg, f, &pool, err, sizeof err) == CONNPOOL_OK);
  connpool_config_free(cfg);
  CHECK(connpool_pool_wait_ready(pool, 5000) == CONNPOOL_OK);
  CHECK(connpool_acquire(pool, 1000, &a, &conn) == CONNPOOL_OK);
  CHECK(connpool_acquire_priority(pool, 1, 1000, &b, NULL) == CONNPOOL_OK);
  CHECK(connpool_release(pool, a) == CONNPOOL_OK);
  CHECK(connpool_release_broken(pool, b) == CONNPOOL_OK);
  CHECK(connpool_pool_state(pool) == CONNPOOL_STATE_READY);
  CHECK(strcmp(connpool_state_name(connpool_pool_state(pool)), "ready") == 0);
  CHECK(connpool_pool_http_status(pool) == 200);
  s = connpool_pool_stats_json(pool);
  CHECK(s != NULL);
  connpool_free(s);
  s = connpool_pool_metrics_text(pool);
  CHECK(s != NULL);
  connpool_free(s);
  CHECK(connpool_pool_drain(pool, 1000) == CONNPOOL_OK);
  connpool_pool_free(pool);
  connpool_set_log_callback(NULL, NULL);
  printf("installed-library consumer: ok\n");
  return 0;
}
