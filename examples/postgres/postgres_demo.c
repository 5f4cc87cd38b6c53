// SPDX-License-Identifier: Apache-2.0
/*
 * postgres_demo - a pool of PostgreSQL connections shared by several threads.
 *
 *   CONNPOOL_PG_DSN="host=127.0.0.1 port=5432 dbname=postgres user=app" ./postgres_demo
 *
 * Waits (up to 10 s) for the pool to become ready, runs queries from 8 threads through it,
 * then prints the pool's health and its stats JSON. Exit status: 0 when every query
 * succeeded, 1 otherwise, 2 for a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <connpool/connpool.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_factory.h"

enum { kThreads = 8, kQueriesPerThread = 50 };

typedef struct worker {
    connpool_pool_t *pool;
    int id;
    int ok;
    int failed;
    int acquire_errors[CONNPOOL_STATUS_COUNT_];
} worker;

static void log_to_stderr(void *ud, int level, const char *msg) {
    static const char *const names[] = {"error", "warn", "info", "debug"};
    (void)ud;
    fprintf(stderr, "[connpool %s] %s\n", level >= 0 && level <= 3 ? names[level] : "?", msg);
}

/* One round trip with a parameter, checked: the connection really talks to the server. */
static int run_query(PGconn *conn, int id, int i) {
    char arg[32];
    const char *params[1];
    PGresult *res;
    int ok;
    snprintf(arg, sizeof arg, "%d", id * 1000 + i);
    params[0] = arg;
    res = PQexecParams(conn, "SELECT $1::int * 2", 1, NULL, params, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
         atoi(PQgetvalue(res, 0, 0)) == (id * 1000 + i) * 2;
    if (!ok) fprintf(stderr, "thread %d: query failed: %s", id, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

static void *work(void *arg) {
    worker *w = (worker *)arg;
    int i;
    for (i = 0; i < kQueriesPerThread; ++i) {
        connpool_lease_t lease;
        void *conn;
        int rc = connpool_acquire(w->pool, 2000, &lease, &conn);
        if (rc != CONNPOOL_OK) {
            if (rc > 0 && rc < CONNPOOL_STATUS_COUNT_) w->acquire_errors[rc]++;
            w->failed++;
            continue;
        }
        if (run_query((PGconn *)conn, w->id, i)) {
            w->ok++;
            connpool_release(w->pool, lease);
        } else {
            w->failed++;
            connpool_release_broken(w->pool, lease); /* never hand a bad connection out again */
        }
    }
    return NULL;
}

static connpool_config_t *make_config(void) {
    /* Small numbers so the demo shows a pool under contention: 8 threads, 4 connections. */
    static const char *const settings[][2] = {
        {"name", "postgres_demo"},    {"max_size", "4"},
        {"min_idle", "2"},            {"acquire_timeout_ms", "2000"},
        {"retry_initial_ms", "200"},  {"retry_max_ms", "2000"},
        {"unavailable_after_ms", "10000"}, {"validate_on_acquire", "idle"},
    };
    char err[256];
    size_t i;
    connpool_config_t *cfg = connpool_config_new();
    if (cfg == NULL) return NULL;
    for (i = 0; i < sizeof settings / sizeof settings[0]; ++i) {
        if (connpool_config_set(cfg, settings[i][0], settings[i][1], err, sizeof err) != CONNPOOL_OK) {
            fprintf(stderr, "config %s: %s\n", settings[i][0], err);
            connpool_config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

int main(void) {
    const char *dsn = getenv("CONNPOOL_PG_DSN");
    connpool_config_t *cfg;
    connpool_factory_t *factory;
    connpool_pool_t *pool = NULL;
    worker workers[kThreads];
    pthread_t threads[kThreads];
    char err[256];
    char *stats;
    int i, rc, ok = 0, failed = 0, state;

    if (dsn == NULL || dsn[0] == '\0') {
        fprintf(stderr, "usage: CONNPOOL_PG_DSN='host=... dbname=... user=...' postgres_demo\n");
        return 2;
    }
    connpool_set_log_callback(log_to_stderr, NULL);
    cfg = make_config();
    factory = connpool_pg_factory_new(dsn, 5);
    if (cfg == NULL || factory == NULL) {
        fprintf(stderr, "out of memory\n");
        connpool_factory_free(factory);
        connpool_config_free(cfg);
        return 1;
    }
    rc = connpool_pool_new(cfg, factory, &pool, err, sizeof err);
    connpool_config_free(cfg);
    if (rc != CONNPOOL_OK) {
        fprintf(stderr, "connpool_pool_new: %s: %s\n", connpool_errname(rc), err);
        return 1;
    }

    rc = connpool_pool_wait_ready(pool, 10000);
    state = connpool_pool_state(pool);
    printf("health: %s (HTTP %d) after wait_ready: %s\n", connpool_state_name(state),
           connpool_pool_http_status(pool), connpool_errname(rc));

    memset(workers, 0, sizeof workers);
    for (i = 0; i < kThreads; ++i) {
        workers[i].pool = pool;
        workers[i].id = i;
        if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    for (i = 0; i < kThreads; ++i) {
        int code;
        pthread_join(threads[i], NULL);
        ok += workers[i].ok;
        failed += workers[i].failed;
        for (code = 1; code < CONNPOOL_STATUS_COUNT_; ++code)
            if (workers[i].acquire_errors[code] > 0)
                printf("thread %d: %d acquires failed with %s\n", i, workers[i].acquire_errors[code],
                       connpool_errname(code));
    }
    printf("queries: %d ok, %d failed (%d threads x %d)\n", ok, failed, kThreads, kQueriesPerThread);

    state = connpool_pool_state(pool);
    printf("health: %s (HTTP %d)\n", connpool_state_name(state), connpool_pool_http_status(pool));
    stats = connpool_pool_stats_json(pool);
    printf("stats: %s\n", stats != NULL ? stats : "(out of memory)");
    connpool_free(stats);
    connpool_pool_free(pool);
    return failed == 0 && ok == kThreads * kQueriesPerThread ? 0 : 1;
}
