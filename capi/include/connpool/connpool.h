// SPDX-License-Identifier: Apache-2.0
/**
 * @file connpool.h
 * libconnpool, a generic connection pool with a stable C ABI.
 *
 * @par OBJECT MODEL
 * - connpool_config_t   settings (string keys, see docs/CONFIGURATION.md); owned by the caller.
 * - connpool_factory_t  your callbacks (create/validate/reset/destroy) plus a context pointer
 *                       and its destructor; owned by the pool once given to connpool_pool_new.
 * - connpool_pool_t     the pool; owned by the caller, released with connpool_pool_free.
 * - connpool_lease_t    a value (not a pointer) naming one borrowed connection. It carries a
 *                       pool tag, a slot index and a generation, so a lease released twice,
 *                       never issued, or issued by another pool is refused with
 *                       CONNPOOL_ESTALE and never corrupts the pool. 0 is never a valid lease.
 *
 * @par THREAD SAFETY
 *   Every function taking a connpool_pool_t may be called from any thread at any time until
 *   connpool_pool_free returns (releases of outstanding leases stay valid even after that, see
 *   connpool_pool_free). A config object is not synchronised: do not modify one from two threads.
 *   Factory callbacks run on the pool's own threads (connectors create; helpers run the
 *   validate an acquire needs and the create of an acquire with timeout 0, while that acquire
 *   waits with its own deadline; maintenance runs keepalive validation) or, for reset and
 *   destroy, on the releasing thread; never with a pool lock held. A callback that hangs
 *   therefore cannot hold an acquire past its timeout. A callback may read its pool's stats
 *   but must not call connpool_pool_free.
 *
 * @par ERRORS
 *   Functions return a status code (CONNPOOL_OK = 0, others below). Functions that can explain
 *   a failure take a caller buffer `char *err, size_t errlen` (may be NULL/0) that receives a
 *   NUL-terminated message with secrets redacted. No function throws, aborts, or blocks forever
 *   unless you ask it to wait.
 *
 * @par EXAMPLE
 * @code{.c}
 *   connpool_factory_t *f = connpool_factory_new(ctx, ctx_free, my_create, my_destroy);
 *   connpool_pool_t *pool;
 *   char err[256];
 *   if (connpool_pool_new(NULL, f, &pool, err, sizeof err) != CONNPOOL_OK) { puts(err); return 1; }
 *   connpool_lease_t lease; void *conn;
 *   int rc = connpool_acquire(pool, 1000, &lease, &conn);
 *   if (rc == CONNPOOL_OK) { use(conn); connpool_release(pool, lease); }
 *   else fprintf(stderr, "%s: %s\n", connpool_errname(rc), connpool_strerror(rc));
 *   connpool_pool_free(pool);
 * @endcode
 */
#ifndef CONNPOOL_CONNPOOL_H
#define CONNPOOL_CONNPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks every exported function; everything else in the library is hidden. */
#if defined(_WIN32)
#  define CONNPOOL_API __declspec(dllexport)
#elif defined(__GNUC__)
#  define CONNPOOL_API __attribute__((visibility("default")))
#else
#  define CONNPOOL_API
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define CONNPOOL_VERSION_MAJOR 1 /**< changes only with a new soname (libconnpool.so.N) */
#define CONNPOOL_VERSION_MINOR 2 /**< bumped when functions or status codes are added */
#define CONNPOOL_VERSION_PATCH 0 /**< bumped for fixes that add nothing */
/** MAJOR*10000 + MINOR*100 + PATCH, comparable with connpool_version_number(). */
#define CONNPOOL_VERSION_NUMBER \
    (CONNPOOL_VERSION_MAJOR * 10000 + CONNPOOL_VERSION_MINOR * 100 + CONNPOOL_VERSION_PATCH)
#define CONNPOOL_VERSION_STRING "1.2.0" /**< "MAJOR.MINOR.PATCH" of this header */

/** Version of the library actually loaded, as "MAJOR.MINOR.PATCH"; static, never NULL. */
CONNPOOL_API const char *connpool_version_string(void);
/** Version of the library actually loaded, as CONNPOOL_VERSION_NUMBER computes it. */
CONNPOOL_API int connpool_version_number(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                               */
/* ------------------------------------------------------------------------------------------ */

/**
 * The one list of status codes: X(NAME, value, message). Values are pinned and the list is
 * append-only. The enum, connpool_strerror(), connpool_errname() and the bindings' exception
 * tables are all generated from it.
 */
#define CONNPOOL_STATUS_MAP(X)                                                                    \
    X(OK, 0, "success")                                                                           \
    X(EINVAL, 1, "invalid argument")                                                              \
    X(ETIMEOUT, 2, "no connection became available within the acquire timeout")                   \
    X(EUNAVAILABLE, 3, "backend unavailable: failing fast")                                       \
    X(ECLOSED, 4, "pool is draining or closed")                                                   \
    X(EOVERLOAD, 5, "too many waiters: request shed")                                             \
    X(ESTALE, 6, "lease is not current: released twice, never issued, or from another pool")      \
    X(EFACTORY, 7, "a factory callback failed")                                                   \
    X(ENOMEM, 8, "out of memory")                                                                 \
    X(EINTERNAL, 9, "internal error (a bug in libconnpool)")                                      \
    X(ECANCELED, 10, "the acquire was canceled by its cancel token")                              \
    X(PENDING, 11, "not an error: the acquire was queued and its callback will be called")

/** Status codes (CONNPOOL_OK, CONNPOOL_EINVAL, ...), generated from CONNPOOL_STATUS_MAP. */
enum connpool_status {
#define CONNPOOL_STATUS_ENUM_(name, value, text) CONNPOOL_##name = value,
    CONNPOOL_STATUS_MAP(CONNPOOL_STATUS_ENUM_)
#undef CONNPOOL_STATUS_ENUM_
    CONNPOOL_STATUS_COUNT_ /**< one past the last code; not a status */
};

/** Human-readable text for a status code; static, never NULL (also for unknown codes). */
CONNPOOL_API const char *connpool_strerror(int code);
/** The code's name, such as "CONNPOOL_ETIMEOUT"; "CONNPOOL_EUNKNOWN" for an unknown code. */
CONNPOOL_API const char *connpool_errname(int code);

/** Frees any string the library returned (stats, metrics, config JSON). NULL is a no-op. */
CONNPOOL_API void connpool_free(void *p);

/* ------------------------------------------------------------------------------------------ */
/* Configuration                                                                              */
/* ------------------------------------------------------------------------------------------ */

/** Opaque configuration object. Every key starts at its documented default. */
typedef struct connpool_config_s connpool_config_t;

/** A new configuration holding every default; NULL only when out of memory. */
CONNPOOL_API connpool_config_t *connpool_config_new(void);
/** Frees a configuration. NULL is a no-op. Pools made from it keep their own copy. */
CONNPOOL_API void connpool_config_free(connpool_config_t *cfg);

/**
 * Sets one key from its text form ("20", "true", "idle", "forever", ...).
 * Returns CONNPOOL_EINVAL for a NULL argument, an unknown key or a value out of range; `err`
 * then names the key and the allowed range. The configuration is unchanged on failure.
 */
CONNPOOL_API int connpool_config_set(connpool_config_t *cfg, const char *key, const char *value,
                                     char *err, size_t errlen);

/**
 * Builds a configuration from a JSON object whose members are keys; values may be numbers,
 * booleans or strings ({"max_size": 20, "reset_on_release": false, "startup_retry": "forever"}).
 * On success *out is a new configuration (free with connpool_config_free); on failure *out is
 * NULL and the status is CONNPOOL_EINVAL (malformed JSON, unknown key, bad value).
 */
CONNPOOL_API int connpool_config_from_json(const char *json, connpool_config_t **out, char *err,
                                           size_t errlen);

/** Every effective value as a JSON object, each in its natural type; free with connpool_free. */
CONNPOOL_API char *connpool_config_to_json(const connpool_config_t *cfg);

/* ------------------------------------------------------------------------------------------ */
/* Factory: the only code that talks to your backend                                          */
/* ------------------------------------------------------------------------------------------ */

/** create() results. */
#define CONNPOOL_FACTORY_OK 0    /**< *conn_out holds a new, usable connection */
#define CONNPOOL_FACTORY_RETRY 1 /**< transient failure (backend down): retry with backoff */
#define CONNPOOL_FACTORY_FATAL 2 /**< permanent failure (bad credentials): pool turns unavailable */

/** Opaque factory: your context, its destructor and your callbacks. */
typedef struct connpool_factory_s connpool_factory_t;

/**
 * A factory over your callbacks. `create` opens one connection into *conn_out and returns a
 * CONNPOOL_FACTORY_* result, writing a reason into `err` on failure; `destroy` closes one.
 * `ctx` is passed to every callback; `ctx_free` (may be NULL) is called exactly once when the
 * factory is freed: by connpool_factory_free, or by the pool that owns it after its last
 * callback. Returns NULL if `create` or `destroy` is NULL, or when out of memory (then
 * ctx_free is not called: the context stays yours).
 */
CONNPOOL_API connpool_factory_t *connpool_factory_new(
    void *ctx, void (*ctx_free)(void *ctx),
    int (*create)(void *ctx, void **conn_out, char *err, size_t errlen),
    void (*destroy)(void *ctx, void *conn));

/** Optional health check: return 0 if `conn` is usable, non-zero to have it destroyed. */
CONNPOOL_API void connpool_factory_set_validate(connpool_factory_t *f,
                                                int (*validate)(void *ctx, void *conn));
/** Optional clean-up on release (reset_on_release): 0 if usable, non-zero to destroy it. */
CONNPOOL_API void connpool_factory_set_reset(connpool_factory_t *f,
                                             int (*reset)(void *ctx, void *conn));
/** Frees a factory that was never given to a pool, calling ctx_free once. NULL is a no-op. */
CONNPOOL_API void connpool_factory_free(connpool_factory_t *f);

/* ------------------------------------------------------------------------------------------ */
/* Pool                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** Opaque pool: made by connpool_pool_new, released with connpool_pool_free. */
typedef struct connpool_pool_s connpool_pool_t;
/** A borrowed connection, by value. 0 is never valid. */
typedef uint64_t connpool_lease_t;

/**
 * Makes a pool. Takes ownership of `factory` on success and on failure. A NULL `cfg` means all
 * defaults; the configuration is copied. Never fails because the backend is down: the pool
 * starts in CONNPOOL_STATE_STARTING and connects in the background with backoff.
 * Errors: EINVAL (NULL factory or out, inconsistent config), ENOMEM.
 */
CONNPOOL_API int connpool_pool_new(const connpool_config_t *cfg, connpool_factory_t *factory,
                                   connpool_pool_t **out, char *err, size_t errlen);

/**
 * Waits until the pool is ready or degraded. OK then; ECLOSED if draining or closed;
 * ETIMEOUT when `timeout_ms` passes (< 0: the configured acquire_timeout_ms), also while the
 * pool is starting or unavailable, since either may recover within the wait.
 * EINVAL for a NULL pool.
 */
CONNPOOL_API int connpool_pool_wait_ready(connpool_pool_t *pool, int64_t timeout_ms);

/**
 * Borrows a connection. `timeout_ms` < 0 uses acquire_timeout_ms; 0 never waits for another
 * caller's connection: it takes an idle one or creates one (if create fails: EFACTORY; a create
 * still running after acquire_timeout_ms: ETIMEOUT, and the pool keeps the connection when it
 * arrives). A waiting acquire keeps waiting through create failures and ends with ETIMEOUT, or
 * EUNAVAILABLE if the pool turns unavailable. Validating the connection (validate_on_acquire)
 * is bounded by the acquire's deadline and by validation_timeout_ms (a slower validate counts
 * as failed); a connection that fails is destroyed and the acquire tries another.
 * On OK, *lease_out names the lease and *conn_out (if not NULL) receives the connection.
 * Errors: EINVAL (NULL pool or lease_out), ETIMEOUT, EUNAVAILABLE, ECLOSED, EOVERLOAD, EFACTORY.
 */
CONNPOOL_API int connpool_acquire(connpool_pool_t *pool, int64_t timeout_ms,
                                  connpool_lease_t *lease_out, void **conn_out);

/** As connpool_acquire; higher `priority` waiters are served first, FIFO within a priority. */
CONNPOOL_API int connpool_acquire_priority(connpool_pool_t *pool, int priority,
                                           int64_t timeout_ms, connpool_lease_t *lease_out,
                                           void **conn_out);

/**
 * Returns a connection (reset first when reset_on_release and a reset callback are set).
 * ESTALE if the lease is not current (0, forged, released twice, or from another pool);
 * EINVAL for a NULL pool.
 */
CONNPOOL_API int connpool_release(connpool_pool_t *pool, connpool_lease_t lease);
/** Returns a connection you found broken: it is destroyed, never handed out again. */
CONNPOOL_API int connpool_release_broken(connpool_pool_t *pool, connpool_lease_t lease);

/**
 * Stops new acquires (they fail with ECLOSED), wakes waiters with ECLOSED, destroys idle
 * connections and waits up to `deadline_ms` (0: do not wait) for leases to come back. OK when
 * none remain (state closed), ETIMEOUT if some do (state stays draining; each remaining lease
 * can still be released and its connection is then destroyed). May be called again.
 */
CONNPOOL_API int connpool_pool_drain(connpool_pool_t *pool, int64_t deadline_ms);

/**
 * Closes the pool (drain with deadline 0), stops and joins its threads (waiting for any
 * create/validate callback already running on a connector, helper or the maintenance thread
 * to return; acquires waiting on such a callback return ECLOSED at once), and destroys every idle
 * connection. If leases are still out, the pool lives on internally until each comes back:
 * connpool_release/connpool_release_broken on them stay valid, destroy that connection and
 * return OK, and the last one frees the pool and calls ctx_free. Otherwise everything is freed
 * before this returns. NULL is a no-op. No other call may use `pool` after this returns.
 */
CONNPOOL_API void connpool_pool_free(connpool_pool_t *pool);

/**
 * Changes the pool's sizes at run time; the same ranges and rule as the config keys (min_idle
 * 0..100000, max_size 1..100000, min_idle <= max_size). Growing takes effect at once: waiters
 * get new connections and the warm floor is refilled. Shrinking retires idle connections above
 * the new max_size at once and leased ones as they are released; a lease that is out is never
 * taken back, so until they come back the pool may hold more than max_size (stats show it).
 * Stats and metrics report the new sizes.
 * Errors: EINVAL (NULL pool, a value out of range, min_idle > max_size; the reason, naming the
 * argument and its range, goes to the log callback at WARN), ECLOSED (draining or closed).
 * connpool_pool_resize_ex (1.2) writes the reason into `err` instead.
 */
CONNPOOL_API int connpool_pool_resize(connpool_pool_t *pool, int min_idle, int max_size);

/* ------------------------------------------------------------------------------------------ */
/* Cancellation and explanations (1.2, symbol node CONNPOOL_1.2)                              */
/* ------------------------------------------------------------------------------------------ */

/**
 * Opaque cancel token (a Go context's Done, a .NET CancellationToken, a Java interrupt, made C).
 * One token may serve many acquires, on many pools, at once.
 *
 *     connpool_cancel_t *c = connpool_cancel_new();
 *     // another thread: connpool_cancel_trigger(c) when the request is abandoned
 *     int rc = connpool_acquire_cancellable(pool, 0, 5000, c, &lease, &conn);
 *     if (rc == CONNPOOL_ECANCELED) ...          // nobody wants the answer any more
 *     connpool_cancel_free(c);                   // after every call that uses it has returned
 */
typedef struct connpool_cancel_s connpool_cancel_t;

/** A new, untriggered token; NULL only when out of memory. Free with connpool_cancel_free. */
CONNPOOL_API connpool_cancel_t *connpool_cancel_new(void);
/**
 * Triggers the token: every acquire waiting with it ends with CONNPOOL_ECANCELED. Any thread,
 * idempotent; it takes each waiting pool's lock only briefly to wake its waiters. NULL is a
 * no-op.
 */
CONNPOOL_API void connpool_cancel_trigger(connpool_cancel_t *cancel);
/** 1 once the token was triggered, else 0 (also 0 for NULL). */
CONNPOOL_API int connpool_cancel_triggered(const connpool_cancel_t *cancel);
/**
 * Frees the token. Only once no call that uses it is still running or pending: every
 * connpool_acquire_cancellable given it has returned and every connpool_acquire_async given it
 * has returned other than PENDING or called its callback (the callback may free it). NULL is a
 * no-op.
 */
CONNPOOL_API void connpool_cancel_free(connpool_cancel_t *cancel);

/**
 * As connpool_acquire_priority, and `cancel` (may be NULL) can end the wait. A token already
 * triggered: CONNPOOL_ECANCELED at once, even when a connection is idle. Triggered while
 * waiting: ECANCELED promptly. A hand-off racing a cancel never loses or doubles a connection:
 * the call returns OK with it, or it goes to the next waiter or back to idle. (A validation of a
 * connection the call already claimed is not interrupted; validation_timeout_ms bounds it.)
 * Errors: those of connpool_acquire_priority, and ECANCELED.
 */
CONNPOOL_API int connpool_acquire_cancellable(connpool_pool_t *pool, int priority,
                                              int64_t timeout_ms, connpool_cancel_t *cancel,
                                              connpool_lease_t *lease_out, void **conn_out);

/**
 * Called once when an acquire queued by connpool_acquire_async ends: `status` CONNPOOL_OK with
 * `lease` and `conn` (the caller's now, to release as usual), or ETIMEOUT, ECANCELED,
 * EUNAVAILABLE, ECLOSED (`lease` 0, `conn` NULL).
 */
typedef void (*connpool_acquire_cb)(void *ud, int status, connpool_lease_t lease, void *conn);

/**
 * Acquires without blocking, for event loops and runtimes with their own scheduler (Go, .NET,
 * Java futures). Never runs a factory callback on the calling thread.
 *   - CONNPOOL_OK: a connection was free now; *lease_out and *conn_out are set, `cb` is NOT
 *     called.
 *   - CONNPOOL_PENDING: queued in the same priority FIFO as blocking acquires (counted in
 *     `waiters` and by max_waiters). `cb` is then called exactly once, on a pool thread or on
 *     the thread whose release, trigger, drain or free decided it; never inside this call, never
 *     with a pool lock held, never nested in another callback's stack. `cb` may call
 *     connpool_release, connpool_acquire_async and the stats calls; it must not block, drain or
 *     free the pool. `cancel` (may be NULL) ends the wait with ECANCELED; `timeout_ms` (negative:
 *     acquire_timeout_ms) with ETIMEOUT. connpool_pool_drain and connpool_pool_free call every
 *     pending callback (ECLOSED) before they return.
 *   - anything else: refused at once, `cb` is never called: EINVAL (NULL pool, cb or lease_out;
 *     ), ECLOSED, EOVERLOAD, EUNAVAILABLE,
 *     ECANCELED (token already triggered), ETIMEOUT (timeout_ms 0 and nothing free), ENOMEM.
 *
 *     static void on_conn(void *ud, int rc, connpool_lease_t lease, void *conn) {
 *       if (rc == CONNPOOL_OK) { use(conn); connpool_release(ud, lease); }
 *     }
 *     int rc = connpool_acquire_async(pool, 0, 500, NULL, on_conn, pool, &lease, &conn);
 *     if (rc == CONNPOOL_OK) on_conn(pool, rc, lease, conn);   // served at once
 *     else if (rc != CONNPOOL_PENDING) report(rc);
 */
CONNPOOL_API int connpool_acquire_async(connpool_pool_t *pool, int priority, int64_t timeout_ms,
                                        connpool_cancel_t *cancel, connpool_acquire_cb cb, void *ud,
                                        connpool_lease_t *lease_out, void **conn_out);

/**
 * Writes one redacted line into `buf` (truncated to `len`, always NUL-terminated) on why an
 * acquire that just ended with `status` could not be served, from the pool's current view, as
 * HikariCP's timeout message does: pool name, state, total/idle/in use/creating/max, waiters,
 * the last create error with its age, the next retry. For example:
 *     pool 'orders' (degraded): CONNPOOL_ETIMEOUT: total 10 (idle 0, in use 10, creating 0),
 *     max 10, waiters 3; last create error 1200 ms ago: connection refused; next retry in 800 ms
 * EINVAL for a NULL pool or buffer, or `len` 0; else OK.
 */
CONNPOOL_API int connpool_pool_explain(connpool_pool_t *pool, int status, char *buf, size_t len);

/*
 * Lock-free tries (1.2), for callers that must not block at all, such as a Mono "raw internal
 * call" (the C# binding's hot path), which runs in GC-unsafe mode: while it runs, the runtime
 * cannot stop the world for a collection. These functions never block, never take a lock,
 * never call a factory callback or a log callback, never allocate and return within a few
 * hundred instructions. Whenever the ordinary call would need any of that (nothing idle, a
 * validation or reset due, a lifetime over, waiters queued, a pool draining or closed, a
 * shared-connection pool, a stale lease, ...) they decline with CONNPOOL_ETIMEOUT having
 * changed nothing, counted nothing and recorded nothing: then make the ordinary call, which
 * does and counts everything exactly once. Trying first and falling back therefore gives the
 * same outcomes, stats and callbacks as the ordinary call alone.
 *
 *     rc = connpool_try_acquire_fast(pool, 0, &lease, &conn);
 *     if (rc == CONNPOOL_PENDING) rc = connpool_acquire_claimed(pool, 0, timeout_ms, lease, &lease, &conn);
 *     else if (rc != CONNPOOL_OK) rc = connpool_acquire_priority(pool, 0, timeout_ms, &lease, &conn);
 *     ...
 *     if (connpool_try_release_fast(pool, lease) != CONNPOOL_OK) connpool_release(pool, lease);
 */

/**
 * Takes an idle connection by one compare-and-swap, if that is all it takes.
 *   - CONNPOOL_OK: a lease in *lease_out and the connection in *conn_out (may be NULL), as
 *     connpool_acquire_priority(pool, priority, ...) would have given it.
 *   - CONNPOOL_ETIMEOUT: declined; nothing claimed (*lease_out 0).
 *   - CONNPOOL_PENDING: an idle connection was claimed for the caller, but it needs a check
 *     that may call the factory (its lifetime is over, a validation is due, a drain began).
 *     *lease_out holds the claim (*conn_out NULL): pass it to connpool_acquire_claimed, which
 *     finishes it. Until then it counts as a lease out (in_use, leaks); a claim that will never
 *     be finished must be given back with connpool_release_broken.
 *   - CONNPOOL_EINVAL: `pool` or `lease_out` NULL.
 */
CONNPOOL_API int connpool_try_acquire_fast(connpool_pool_t *pool, int priority,
                                           connpool_lease_t *lease_out, void **conn_out);

/**
 * Finishes a claim that connpool_try_acquire_fast returned with CONNPOOL_PENDING, exactly as
 * connpool_acquire_priority(pool, priority, timeout_ms, ...) would have gone on after claiming
 * that connection itself: it runs the due checks (a validation is bounded by the acquire's
 * deadline and validation_timeout_ms); a connection that passes is returned (*lease_out ==
 * `claim`), one that fails is retired and the call acquires another within `timeout_ms`.
 * Returns what connpool_acquire_priority returns, and CONNPOOL_ESTALE (nothing changes) when
 * `claim` is not an unfinished claim of this pool: finished already, or an ordinary lease.
 * Blocking as connpool_acquire_priority; call it from where blocking is allowed.
 */
CONNPOOL_API int connpool_acquire_claimed(connpool_pool_t *pool, int priority, int64_t timeout_ms,
                                          connpool_lease_t claim, connpool_lease_t *lease_out,
                                          void **conn_out);

/**
 * Gives a lease back by one compare-and-swap, if that is all it takes: CONNPOOL_OK, the lease
 * is back as connpool_release would have put it back. CONNPOOL_ETIMEOUT: declined, nothing
 * done, the lease is still out: give it back with connpool_release (or _broken). Declined, among
 * others, when a reset is due (reset_on_release with a reset callback), with max_uses, when a
 * waiter is queued, for a stale lease, and when the lease's hold time is to be recorded in
 * lease_hold_us (a lease timed precisely, which a thread's first 16 leases per coarse clock
 * tick are, or one held two ticks or more). CONNPOOL_EINVAL for a NULL pool.
 */
CONNPOOL_API int connpool_try_release_fast(connpool_pool_t *pool, connpool_lease_t lease);

/* ------------------------------------------------------------------------------------------ */
/* Health and stats                                                                           */
/* ------------------------------------------------------------------------------------------ */

#define CONNPOOL_STATE_STARTING 0    /**< never connected yet; retrying with backoff */
#define CONNPOOL_STATE_READY 1       /**< serving */
#define CONNPOOL_STATE_DEGRADED 2    /**< creates failing; healthy connections still served */
#define CONNPOOL_STATE_UNAVAILABLE 3 /**< backend down past the cutoff: acquires fail fast */
#define CONNPOOL_STATE_DRAINING 4    /**< no new acquires; waiting for leases */
#define CONNPOOL_STATE_CLOSED 5      /**< drained */

/** The pool's health state (CONNPOOL_STATE_*); CLOSED for NULL. */
CONNPOOL_API int connpool_pool_state(const connpool_pool_t *pool);
/** "starting", "ready", "degraded", "unavailable", "draining", "closed" or "unknown". */
CONNPOOL_API const char *connpool_state_name(int state);
/** 200 when ready or degraded, else 503 (also for NULL): what /readyz should answer. */
CONNPOOL_API int connpool_pool_http_status(const connpool_pool_t *pool);

/**
 * A JSON document with the pool's state, connections, waiters, counters, wait histogram,
 * retry status, last error and leaks (docs/STATS.md). Never touches the backend; safe from any
 * thread, including a factory callback. Free with connpool_free. NULL for a NULL pool or when
 * out of memory.
 */
CONNPOOL_API char *connpool_pool_stats_json(connpool_pool_t *pool);
/** The same figures in Prometheus text format 0.0.4 with label pool="<name>"; connpool_free. */
CONNPOOL_API char *connpool_pool_metrics_text(connpool_pool_t *pool);

/* ------------------------------------------------------------------------------------------ */
/* Logging                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define CONNPOOL_LOG_ERROR 0 /**< the pool turned unavailable, or a destroy callback threw */
#define CONNPOOL_LOG_WARN 1  /**< the pool turned degraded, or a lease passed leak_threshold_ms */
#define CONNPOOL_LOG_INFO 2  /**< other state changes (starting -> ready, -> draining, ...) */
#define CONNPOOL_LOG_DEBUG 3 /**< verbose detail (not used by this version) */

/**
 * Sets the process-wide log sink (NULL: silent, the default). Safe to call at any time from any
 * thread; `cb` may be called from any thread and must not call back into the pool that logs.
 * Messages never contain secrets (password=, pwd=, secret=, token=, URI user:pass@ are redacted).
 */
CONNPOOL_API void connpool_set_log_callback(void (*cb)(void *ud, int level, const char *msg),
                                            void *ud);

/* ------------------------------------------------------------------------------------------ */
/* Pool groups: primary/replica routing with failover, and sharding                           */
/* ------------------------------------------------------------------------------------------ */

/**
 * @par POOL GROUPS
 * A group routes acquires over pools you made with connpool_pool_new ("members"), each with a
 * name and a role: one PRIMARY (writes, and reads when no replica is healthy), any number of
 * REPLICAs (reads), and SHARDs (keyed acquires over a consistent-hash ring). See docs/GROUPS.md.
 *
 * Ownership and lifetime:
 * - The group does not own its pools. connpool_group_free() detaches them and leaves them open.
 * - A pool belongs to at most one group, once. Freeing a pool that is still in a group is safe
 *   in any order: connpool_pool_free() first detaches it (new group acquires skip it, and
 *   group acquires already waiting on it return ECLOSED), then frees it as usual. The member
 *   stays listed as "closed": writes to a detached primary and keys of a detached shard fail
 *   with ECLOSED (keys never move to another shard behind your back).
 * - A lease from a group acquire is released through the member pool it came from:
 *   connpool_release(member, lease). That is why every group acquire returns the member.
 *
 * Thread safety: every function taking a group may be called from any thread at any time until
 * connpool_group_free() is called; acquires from many threads run concurrently. No call may
 * use the group after (or while) connpool_group_free() runs.
 *
 * Errors: when one of these returns CONNPOOL_EINVAL, the group keeps the reason as
 * "last_error" in connpool_group_stats_json(). The 1.1 functions have no `err` buffer and also
 * log it at CONNPOOL_LOG_WARN (connpool_set_log_callback); their `_ex` variants (1.2, at the
 * end of this header) write it into the caller's `err` buffer instead, as connpool_pool_new does.
 *
 * @code{.c}
 *   connpool_group_t *g;
 *   connpool_group_new("orders", &g);
 *   connpool_group_add(g, "main", CONNPOOL_ROLE_PRIMARY, primary_pool);
 *   connpool_group_add(g, "r1", CONNPOOL_ROLE_REPLICA, replica_pool);
 *   connpool_pool_t *member; connpool_lease_t lease; void *conn;
 *   if (connpool_group_acquire(g, CONNPOOL_INTENT_READ, 1000, &member, &lease, &conn) == CONNPOOL_OK) {
 *     run_query(conn);
 *     connpool_release(member, lease);
 *   }
 *   connpool_group_free(g);   // the pools stay open; free them after (or before) the group
 * @endcode
 */
typedef struct connpool_group_s connpool_group_t;

#define CONNPOOL_ROLE_PRIMARY 0 /**< takes writes; serves reads when no replica is healthy */
#define CONNPOOL_ROLE_REPLICA 1 /**< serves reads */
#define CONNPOOL_ROLE_SHARD 2   /**< serves connpool_group_acquire_key() for its part of the keys */

#define CONNPOOL_INTENT_WRITE 0 /**< the primary only; EUNAVAILABLE at once when it is unavailable */
#define CONNPOOL_INTENT_READ 1  /**< healthy replicas (least loaded first), else the primary */

/**
 * Makes an empty group named `name` (a label in stats; copied; must not be NULL or empty).
 * On success *out is the group (free with connpool_group_free). Errors: EINVAL (NULL name or
 * out, empty name; *out is then NULL), ENOMEM.
 */
CONNPOOL_API int connpool_group_new(const char *name, connpool_group_t **out);

/**
 * Adds `pool` as member `member_name` (copied) with `role` (CONNPOOL_ROLE_*). Acquires may run
 * concurrently. Errors, all EINVAL with a logged reason and nothing changed: NULL group, name
 * or pool; empty name; unknown role; a name already used in this group; a pool already in a
 * group (this one or another); a second PRIMARY. Adding a SHARD moves ~1/N of the keys to it.
 */
CONNPOOL_API int connpool_group_add(connpool_group_t *group, const char *member_name, int role,
                                    connpool_pool_t *pool);

/**
 * Borrows a connection for `intent`:
 * - CONNPOOL_INTENT_WRITE: from the primary. EUNAVAILABLE at once (no waiting) when the primary
 *   is unavailable; otherwise exactly as connpool_acquire on it.
 * - CONNPOOL_INTENT_READ: from the least loaded (leased + waiting, relative to max_size) replica
 *   in state READY, taking an idle connection from any of them without waiting if one has it,
 *   else waiting on the least loaded. Without a ready replica, or when that wait ends with
 *   EUNAVAILABLE/ECLOSED/EFACTORY, it falls back to the primary, then to degraded or starting
 *   replicas, within the same overall timeout.
 * Members that are unavailable, draining, closed or detached are skipped without waiting.
 * `timeout_ms` as in connpool_acquire (< 0: the first candidate's acquire_timeout_ms, 0: never
 * wait). On OK, *member_out is the pool to release the lease to, *lease_out the lease and
 * *conn_out (if not NULL) the connection; on failure they are NULL/0.
 * Errors: EINVAL (NULL group, member_out or lease_out, unknown intent, or the group has no
 * member for the intent: no primary for WRITE, neither primary nor replica for READ),
 * EUNAVAILABLE (every candidate unavailable), ECLOSED (every candidate closed or detached),
 * and what the member's acquire returned (ETIMEOUT, EOVERLOAD, EFACTORY).
 */
CONNPOOL_API int connpool_group_acquire(connpool_group_t *group, int intent, int64_t timeout_ms,
                                        connpool_pool_t **member_out, connpool_lease_t *lease_out,
                                        void **conn_out);

/**
 * Borrows a connection from the shard that owns `key` (consistent hashing over the SHARD
 * members' names with virtual nodes: the same key maps to the same shard in every process
 * given the same member names, and adding a shard moves ~1/N of the keys, only to it). No
 * fallback to another shard: EUNAVAILABLE at once when the owner is unavailable, ECLOSED when
 * it was detached. Arguments and results as connpool_group_acquire.
 * Errors: EINVAL (NULL group, member_out or lease_out; the group has no shard), EUNAVAILABLE,
 * ECLOSED, and what the shard's acquire returned.
 */
CONNPOOL_API int connpool_group_acquire_key(connpool_group_t *group, uint64_t key,
                                            int64_t timeout_ms, connpool_pool_t **member_out,
                                            connpool_lease_t *lease_out, void **conn_out);

/**
 * A JSON document: the group's name, whether it can serve writes and reads now, its routing
 * counters, group-level totals over the attached members (connections, waiters, acquired), the
 * last error, and each member with its name, role, state and full pool stats
 * (docs/GROUPS.md). Never touches a backend. Free with connpool_free; NULL for a NULL group or
 * when out of memory.
 */
CONNPOOL_API char *connpool_group_stats_json(connpool_group_t *group);

/**
 * Frees the group. Its pools are not freed: they are detached (each may join a group again)
 * and stay usable, as do leases taken through the group. NULL is a no-op.
 */
CONNPOOL_API void connpool_group_free(connpool_group_t *group);

/* ------------------------------------------------------------------------------------------ */
/* Error-buffer variants (1.2, symbol node CONNPOOL_1.2)                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * The functions of 1.1 whose CONNPOOL_EINVAL reason could only be logged, with the caller's
 * error buffer: each behaves exactly as the function without `_ex` and, on any failure that
 * has a reason (EINVAL, ENOMEM, EINTERNAL; ECLOSED from resize), writes it, redacted and
 * NUL-terminated (truncated to `errlen`), into `err`; on OK `err` is "". NULL `err` or
 * `errlen` 0 is allowed (the reason is then dropped, not logged). Nothing is logged by these.
 *
 *     char err[256];
 *     if (connpool_pool_resize_ex(pool, 5, 2, err, sizeof err) == CONNPOOL_EINVAL)
 *       fprintf(stderr, "resize: %s\n", err);   // "... min_idle (5) must not exceed max_size (2)"
 */
CONNPOOL_API int connpool_pool_resize_ex(connpool_pool_t *pool, int min_idle, int max_size,
                                         char *err, size_t errlen);
/** connpool_group_new with an error buffer (see above). */
CONNPOOL_API int connpool_group_new_ex(const char *name, connpool_group_t **out, char *err,
                                       size_t errlen);
/** connpool_group_add with an error buffer (see above). */
CONNPOOL_API int connpool_group_add_ex(connpool_group_t *group, const char *member_name, int role,
                                       connpool_pool_t *pool, char *err, size_t errlen);
/** connpool_group_acquire with an error buffer (see above). */
CONNPOOL_API int connpool_group_acquire_ex(connpool_group_t *group, int intent, int64_t timeout_ms,
                                           connpool_pool_t **member_out,
                                           connpool_lease_t *lease_out, void **conn_out,
                                           char *err, size_t errlen);
/** connpool_group_acquire_key with an error buffer (see above). */
CONNPOOL_API int connpool_group_acquire_key_ex(connpool_group_t *group, uint64_t key,
                                               int64_t timeout_ms, connpool_pool_t **member_out,
                                               connpool_lease_t *lease_out, void **conn_out,
                                               char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* CONNPOOL_CONNPOOL_H */
