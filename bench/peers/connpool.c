// SPDX-License-Identifier: Apache-2.0
/* connpool.c - libconnpool through its public C ABI, as a peer of ../shared/bench.
 *
 * Settings for a fair comparison with the HikariCP peer: a fixed pool (min_idle = max_size),
 * no validation (no callback, validate_on_acquire=never), no reset, no leak detection; lifetime
 * and idle timeout keep their defaults, as HikariCP's do. The "object" handed to the driver is
 * the lease itself (never 0), so release needs no lookup and the adapter writes no shared
 * memory of its own; the connection pointer is still fetched as a user would.
 *
 * Paths default to a Release build under the repository root, which is $PWD when run as
 * bench/run_peers.sh does; override with CONNPOOL_ROOT or CONNPOOL_LIBDIR.
 * bench-cflags: -I${CONNPOOL_ROOT:-$PWD}/capi/include
 * bench-ldflags: -L${CONNPOOL_LIBDIR:-${CONNPOOL_ROOT:-$PWD}/build/release/capi} -Wl,-rpath,${CONNPOOL_LIBDIR:-${CONNPOOL_ROOT:-$PWD}/build/release/capi} -lconnpool
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "adapter.h"
#include "connpool/connpool.h"

static int conn_create(void *ctx, void **conn_out, char *err, size_t errlen) {
    (void)ctx, (void)err, (void)errlen;
    *conn_out = malloc(1);
    return *conn_out ? CONNPOOL_FACTORY_OK : CONNPOOL_FACTORY_RETRY;
}

static void conn_destroy(void *ctx, void *conn) { (void)ctx, free(conn); }

static void *create(int size) {
    char n[16], err[256];
    connpool_config_t *cfg = connpool_config_new();
    connpool_pool_t *pool = NULL;
    snprintf(n, sizeof n, "%d", size);
    if (!cfg || connpool_config_set(cfg, "max_size", n, err, sizeof err) ||
        connpool_config_set(cfg, "min_idle", n, err, sizeof err) ||
        connpool_config_set(cfg, "validate_on_acquire", "never", err, sizeof err) ||
        connpool_config_set(cfg, "reset_on_release", "false", err, sizeof err) ||
        connpool_config_set(cfg, "leak_threshold_ms", "0", err, sizeof err) ||
        connpool_pool_new(cfg, connpool_factory_new(NULL, NULL, conn_create, conn_destroy), &pool, err,
                          sizeof err)) {
        fprintf(stderr, "connpool: %s\n", cfg ? err : "out of memory");
        connpool_config_free(cfg);
        return NULL;
    }
    connpool_config_free(cfg);
    /* Ready means `size` live connections: hold all of them once, then give them back. */
    connpool_lease_t *held = calloc((size_t)size, sizeof *held);
    int got = 0;
    while (held && got < size && connpool_acquire(pool, 10000, &held[got], NULL) == CONNPOOL_OK) ++got;
    for (int i = 0; i < got; ++i) connpool_release(pool, held[i]);
    free(held);
    if (got < size) {
        fprintf(stderr, "connpool: only %d of %d connections became ready\n", got, size);
        connpool_pool_free(pool);
        return NULL;
    }
    return pool;
}

static void *acquire(void *pool, int timeout_ms) {
    connpool_lease_t lease;
    void *conn;
    if (connpool_acquire((connpool_pool_t *)pool, timeout_ms, &lease, &conn) != CONNPOOL_OK) return NULL;
    return (void *)(uintptr_t)lease;
}

static void release(void *pool, void *obj) { connpool_release((connpool_pool_t *)pool, (connpool_lease_t)(uintptr_t)obj); }

static void destroy(void *pool) { connpool_pool_free((connpool_pool_t *)pool); }

static const bench_adapter adapter = {"connpool", create, acquire, release, destroy};

const bench_adapter *bench_get_adapter(void) { return &adapter; }
