// SPDX-License-Identifier: Apache-2.0
/* cycle_loop.c - a fixed number of uncontended acquire/release cycles through the C ABI, for
 * profilers: profile_hot_path.sh runs it under callgrind, counting only inside cycles(), so
 * "instructions per cycle" is exact and repeatable (unlike time on a shared 2-core VM).
 *
 *   cycle_loop [cycles=1000000] [pool=10]
 * The pool is set up as bench/peers/connpool.c does (fixed size, no validation, no reset).
 * Also prints the time per cycle: wall time, and this thread's CPU time, which stays close
 * to the idle-machine figure while other processes compete for the cores (the wall time does
 * not). The harness's 1-thread line is the comparable figure on an idle machine.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "connpool/connpool.h"

static int the_conn;

static int create(void *ctx, void **conn, char *err, size_t errlen) {
    (void)ctx, (void)err, (void)errlen;
    *conn = &the_conn;
    return CONNPOOL_FACTORY_OK;
}

static void destroy(void *ctx, void *conn) { (void)ctx, (void)conn; }

/* Kept apart, or GCC's identical-code folding would make warm_up() an alias of cycles(). */
#if defined(__GNUC__) && !defined(__clang__)
#define NOT_MERGED __attribute__((noinline, noipa))
#else
#define NOT_MERGED __attribute__((noinline))
#endif

static inline long run(connpool_pool_t *pool, long n) {
    long failed = 0;
    for (long i = 0; i < n; ++i) {
        connpool_lease_t lease;
        void *conn;
        if (connpool_acquire(pool, 10000, &lease, &conn) != CONNPOOL_OK || connpool_release(pool, lease) != CONNPOOL_OK)
            ++failed;
    }
    return failed;
}

/* Not inlined: callgrind's --toggle-collect=cycles counts exactly this function. */
NOT_MERGED long cycles(connpool_pool_t *pool, long n) { return run(pool, n); }
/* First use of thread-locals and lazy PLT binding: not measured. */
NOT_MERGED long warm_up(connpool_pool_t *pool, long n) { return run(pool, n); }

static double elapsed_ns(struct timespec a, struct timespec b) {
    return (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *size = argc > 2 ? argv[2] : "10";
    connpool_config_t *cfg = connpool_config_new();
    connpool_pool_t *pool = NULL;
    char err[256] = "";
    int rc = connpool_config_set(cfg, "max_size", size, err, sizeof err);
    if (!rc) rc = connpool_config_set(cfg, "min_idle", size, err, sizeof err);
    if (!rc) rc = connpool_config_set(cfg, "validate_on_acquire", "never", err, sizeof err);
    if (!rc) rc = connpool_config_set(cfg, "reset_on_release", "false", err, sizeof err);
    if (!rc) rc = connpool_pool_new(cfg, connpool_factory_new(NULL, NULL, create, destroy), &pool, err, sizeof err);
    if (!rc) rc = connpool_pool_wait_ready(pool, 10000);
    if (rc) {
        fprintf(stderr, "cycle_loop: %s %s\n", connpool_errname(rc), err);
        return 1;
    }
    connpool_config_free(cfg);
    warm_up(pool, 1000);
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    long failed = cycles(pool, n);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("cycles=%ld failed=%ld ns_per_cycle=%.1f cpu_ns_per_cycle=%.1f\n", n, failed, elapsed_ns(t0, t1) / (double)n,
           elapsed_ns(c0, c1) / (double)n);
    connpool_pool_free(pool);
    return failed != 0;
}
