# SPDX-License-Identifier: Apache-2.0
# Finds libpq once per build tree and defines the imported target connpool::libpq. Included by
# examples/postgres and tests/integration, which must agree on whether PostgreSQL support is
# built. Sets CONNPOOL_LIBPQ_FOUND.
include_guard(GLOBAL)

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(CONNPOOL_PQ QUIET IMPORTED_TARGET GLOBAL libpq)
endif()
if(CONNPOOL_PQ_FOUND)
  add_library(connpool::libpq ALIAS PkgConfig::CONNPOOL_PQ)
else()
  # Without pkg-config (or libpq.pc), look where Debian and most distributions put it.
  find_path(CONNPOOL_PQ_INCLUDE_DIR libpq-fe.h PATH_SUFFIXES postgresql pgsql)
  find_library(CONNPOOL_PQ_LIBRARY pq)
  if(CONNPOOL_PQ_INCLUDE_DIR AND CONNPOOL_PQ_LIBRARY)
    add_library(connpool::libpq UNKNOWN IMPORTED GLOBAL)
    set_target_properties(connpool::libpq PROPERTIES
      IMPORTED_LOCATION "${CONNPOOL_PQ_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CONNPOOL_PQ_INCLUDE_DIR}")
    set(CONNPOOL_PQ_FOUND TRUE)
  endif()
endif()
set(CONNPOOL_LIBPQ_FOUND ${CONNPOOL_PQ_FOUND} CACHE INTERNAL "libpq was found")
