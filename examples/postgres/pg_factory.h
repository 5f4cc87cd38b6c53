// SPDX-License-Identifier: Apache-2.0
/*
 * pg_factory.h - a libconnpool factory for PostgreSQL connections over libpq.
 *
 * Each pooled connection is a `PGconn *` in CONNECTION_OK state. The callbacks:
 *   create   opens one connection (non-blocking connect with its own deadline, see
 *            connect_timeout_s) and classifies a failure: CONNPOOL_FACTORY_FATAL when retrying
 *            cannot help (bad password, unknown role or database, no pg_hba.conf entry, a
 *            malformed connection string), CONNPOOL_FACTORY_RETRY for everything else (server
 *            down, starting up, shutting down, too many connections, network trouble).
 *   validate one empty-query round trip (what pgjdbc's isValid() sends): cheaper than SELECT 1
 *            and enough to prove the socket and the backend are alive.
 *   reset    ROLLBACK of an open or failed transaction, then DISCARD ALL (session state,
 *            prepared statements, temp tables, LISTENs), and drops queued notifications.
 *   destroy  PQfinish.
 *
 * Error texts written by create never contain the password: libpq's messages name host, port
 * and user only, and the factory adds nothing from the connection string. (The pool redacts
 * `password=...` again before a text reaches stats or logs.)
 *
 * Server notices (for example "terminating connection due to immediate shutdown command")
 * are dropped instead of being printed to stderr, libpq's default.
 *
 * Thread safety: the factory is used from the pool's threads concurrently; it keeps no
 * mutable shared state. libpq itself is thread-safe (PQisthreadsafe()) as long as one PGconn
 * is used by one thread at a time, which the pool's leases guarantee.
 *
 * Example:
 *   connpool_factory_t *f = connpool_pg_factory_new("host=127.0.0.1 dbname=app user=app", 5);
 *   connpool_pool_t *pool;
 *   char err[256];
 *   if (f == NULL || connpool_pool_new(cfg, f, &pool, err, sizeof err) != CONNPOOL_OK) ...
 *   connpool_lease_t lease;
 *   void *conn;
 *   if (connpool_acquire(pool, 1000, &lease, &conn) == CONNPOOL_OK) {
 *     PGresult *r = PQexec((PGconn *)conn, "SELECT 1");
 *     int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
 *     PQclear(r);
 *     if (ok) connpool_release(pool, lease); else connpool_release_broken(pool, lease);
 *   }
 */
#ifndef CONNPOOL_EXAMPLES_PG_FACTORY_H
#define CONNPOOL_EXAMPLES_PG_FACTORY_H

#include <connpool/connpool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Used when connpool_pg_factory_new gets a connect_timeout_s <= 0. */
#define CONNPOOL_PG_DEFAULT_CONNECT_TIMEOUT_S 5

/**
 * A factory opening libpq connections to `conninfo` (a key=value connection string or a
 * postgresql:// URI; libpq's environment variables fill what it leaves out). Each connect
 * attempt gives up after `connect_timeout_s` seconds (<= 0: the default above) unless the
 * string sets its own connect_timeout. The string is copied. Returns NULL if `conninfo` is
 * NULL or when out of memory. Give the result to connpool_pool_new (or free it with
 * connpool_factory_free).
 */
connpool_factory_t *connpool_pg_factory_new(const char *conninfo, int connect_timeout_s);

/**
 * How create classifies a failed connection attempt, from libpq's error message:
 * CONNPOOL_FACTORY_FATAL or CONNPOOL_FACTORY_RETRY. The factory sets verbose error messages
 * before connecting, so server errors carry their SQLSTATE ("FATAL:  28P01: ..."); FATAL are
 * class 28 (invalid authorization: bad password, unknown role, no pg_hba.conf entry), 3D000
 * (database does not exist) and 42501 (no CONNECT privilege), plus client-side configuration
 * errors (invalid option, malformed string, no password supplied). Exposed for tests.
 */
int connpool_pg_classify_failure(const char *message);

/**
 * The SQLSTATE found in a verbose libpq message ("FATAL:  28P01: ..."), copied into `out`
 * (at least 6 bytes). Returns 1 if one was found, 0 otherwise (then `out` is "").
 */
int connpool_pg_find_sqlstate(const char *message, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif /* CONNPOOL_EXAMPLES_PG_FACTORY_H */
