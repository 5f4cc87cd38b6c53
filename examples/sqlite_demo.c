// SPDX-License-Identifier: Apache-2.0
/*
 * sqlite_demo: libconnpool on an embedded SQLite database, no server to set up.
 *
 * A pool of SQLite connections to a database file in a fresh temporary directory; four
 * threads move money between accounts in transactions through the pool, then the demo checks
 * that no money was created or lost and prints the pool's stats JSON.
 *
 *   ./sqlite_demo [threads] [transfers-per-thread]
 */
#include <connpool/connpool.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_factory.h"

#define ACCOUNTS 20
#define INITIAL_BALANCE 1000

struct demo {
  char path[512];
};

struct worker {
  connpool_pool_t *pool;
  int transfers;
  unsigned seed;
  int done;
  int failed;
};

static int transfer(sqlite3 *db, int from, int to, int amount) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "BEGIN IMMEDIATE;"
           "UPDATE accounts SET balance = balance - %d WHERE id = %d;"
           "UPDATE accounts SET balance = balance + %d WHERE id = %d;"
           "COMMIT;",
           amount, from, amount, to);
  /* SQLITE_BUSY (another writer held the lock past busy_timeout) is transient: try again. */
  for (int attempt = 0; attempt < 5; attempt++) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) return -1;
  }
  return -1;
}

static void *work(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < w->transfers; i++) {
    connpool_lease_t lease;
    void *conn;
    int rc = connpool_acquire(w->pool, 5000, &lease, &conn);
    if (rc != CONNPOOL_OK) {
      fprintf(stderr, "acquire: %s\n", connpool_strerror(rc));
      w->failed++;
      continue;
    }
    int from = (int)(rand_r(&w->seed) % ACCOUNTS), to = (int)(rand_r(&w->seed) % ACCOUNTS);
    if (transfer(conn, from, to, (int)(rand_r(&w->seed) % 50)) == 0) {
      w->done++;
      connpool_release(w->pool, lease);
    } else {
      w->failed++;
      connpool_release_broken(w->pool, lease); /* don't trust a connection that just failed */
    }
  }
  return NULL;
}

static long long total_balance(connpool_pool_t *pool) {
  connpool_lease_t lease;
  void *conn;
  long long total = -1;
  if (connpool_acquire(pool, 5000, &lease, &conn) != CONNPOOL_OK) return -1;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(conn, "SELECT SUM(balance) FROM accounts", -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  connpool_release(pool, lease);
  return total;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  int transfers = argc > 2 ? atoi(argv[2]) : 2000;
  if (threads < 1 || threads > 64 || transfers < 0) {
    fprintf(stderr, "usage: %s [threads 1..64] [transfers-per-thread]\n", argv[0]);
    return 2;
  }
  static struct demo d;
  char dir[] = "/tmp/connpool-demo-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(d.path, sizeof d.path, "%s/bank.db", dir);

  char err[256];
  connpool_config_t *cfg = NULL;
  if (connpool_config_from_json("{\"name\": \"sqlite-demo\", \"max_size\": 4, \"min_idle\": 2,"
                                " \"acquire_timeout_ms\": 5000}", &cfg, err, sizeof err) != CONNPOOL_OK) {
    fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  connpool_factory_t *f = sqlite_factory_new(d.path);
  connpool_pool_t *pool;
  int rc = connpool_pool_new(cfg, f, &pool, err, sizeof err);
  connpool_config_free(cfg);
  if (rc != CONNPOOL_OK) {
    fprintf(stderr, "pool: %s: %s\n", connpool_errname(rc), err);
    return 1;
  }
  if ((rc = connpool_pool_wait_ready(pool, 5000)) != CONNPOOL_OK) {
    fprintf(stderr, "pool not ready: %s\n", connpool_errname(rc));
    connpool_pool_free(pool);
    return 1;
  }

  /* Schema and opening balances, through the pool like everything else. */
  connpool_lease_t lease;
  void *conn;
  connpool_acquire(pool, 5000, &lease, &conn);
  char sql[128];
  sqlite3_exec(conn, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)", NULL, NULL, NULL);
  for (int i = 0; i < ACCOUNTS; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO accounts VALUES (%d, %d)", i, INITIAL_BALANCE);
    sqlite3_exec(conn, sql, NULL, NULL, NULL);
  }
  connpool_release(pool, lease);

  pthread_t tid[64];
  struct worker w[64];
  for (int i = 0; i < threads; i++) {
    w[i] = (struct worker){pool, transfers, (unsigned)i * 2654435761u + 1, 0, 0};
    pthread_create(&tid[i], NULL, work, &w[i]);
  }
  int done = 0, failed = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(tid[i], NULL);
    done += w[i].done;
    failed += w[i].failed;
  }
  long long total = total_balance(pool);
  printf("%d threads made %d transfers (%d failed) through a pool of %s\n", threads, done, failed,
         "SQLite connections");
  printf("money in the bank: %lld (expected %d)\n", total, ACCOUNTS * INITIAL_BALANCE);

  char *stats = connpool_pool_stats_json(pool);
  printf("%s\n", stats ? stats : "(no stats)");
  connpool_free(stats);
  connpool_pool_free(pool);

  char side[600];
  unlink(d.path);
  snprintf(side, sizeof side, "%s-wal", d.path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", d.path);
  unlink(side);
  rmdir(dir);
  return (total == ACCOUNTS * INITIAL_BALANCE && failed == 0) ? 0 : 1;
}
