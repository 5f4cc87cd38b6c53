// SPDX-License-Identifier: Apache-2.0
/* The examples' SQLite factory (sqlite_factory.h). */
#include "sqlite_factory.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Factory: each connection is an sqlite3 handle on the shared file. */
static int db_create(void *ctx, void **conn_out, char *err, size_t errlen) {
  const char *path = ctx;
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "sqlite3_open_v2(%s): %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return CONNPOOL_FACTORY_RETRY;
  }
  /* WAL lets readers and one writer work at once; busy_timeout makes writers queue politely. */
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL); /* durable enough in WAL mode */
  *conn_out = db;
  return CONNPOOL_FACTORY_OK;
}

static int db_validate(void *ctx, void *conn) {
  (void)ctx;
  return sqlite3_exec(conn, "SELECT 1", NULL, NULL, NULL) == SQLITE_OK ? 0 : 1;
}

/* A connection handed back mid-transaction must not carry it to the next user. */
static int db_reset(void *ctx, void *conn) {
  (void)ctx;
  if (!sqlite3_get_autocommit(conn)) return sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : 1;
  return 0;
}

static void db_destroy(void *ctx, void *conn) {
  (void)ctx;
  sqlite3_close_v2(conn);
}

connpool_factory_t *sqlite_factory_new(const char *path) {
  char *copy = strdup(path); /* the factory's context, freed with it */
  if (copy == NULL) return NULL;
  connpool_factory_t *f = connpool_factory_new(copy, free, db_create, db_destroy);
  if (f == NULL) {
    free(copy);
    return NULL;
  }
  connpool_factory_set_validate(f, db_validate);
  connpool_factory_set_reset(f, db_reset);
  return f;
}
