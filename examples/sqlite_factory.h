// SPDX-License-Identifier: Apache-2.0
/*
 * The SQLite factory of the examples: each connection is an sqlite3 handle on one database
 * file (WAL mode, a busy timeout so writers queue), validated with SELECT 1 and rolled back on
 * release if a transaction was left open. Used by sqlite_demo and async_server.
 */
#ifndef CONNPOOL_EXAMPLES_SQLITE_FACTORY_H
#define CONNPOOL_EXAMPLES_SQLITE_FACTORY_H

#include <connpool/connpool.h>

/* A factory (validate and reset set) opening `path`; NULL when out of memory. */
connpool_factory_t *sqlite_factory_new(const char *path);

#endif
