// SPDX-License-Identifier: Apache-2.0
// The admin server's demo backend: a stand-in for a real database, so the example runs (and is
// tested) without one. Replace it with your driver's connect/ping/close.
//
// A "connection" is a heap object with an id. The backend is "up" while a flag file exists
// (--backend-flag PATH; without a path it is always up): create succeeds only then, and
// validate reports a connection broken once the file is gone, as a real ping would after the
// server went away. Removing and re-creating the file simulates an outage and a recovery.
#ifndef CONNPOOL_EXAMPLES_ADMIN_SERVER_DEMO_BACKEND_H
#define CONNPOOL_EXAMPLES_ADMIN_SERVER_DEMO_BACKEND_H

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "connpool/connpool.h"

namespace demo {

struct Backend {
  std::string flag_path;  // empty: always up
  std::atomic<long> next_id{1};

  bool Up() const {
    struct stat st;
    return flag_path.empty() || stat(flag_path.c_str(), &st) == 0;
  }
};

struct Connection {
  long id;
};

inline int Create(void* ctx, void** conn_out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  if (!b->Up()) {
    // Transient: the pool retries with backoff. A real driver would return FATAL for bad
    // credentials instead.
    snprintf(err, errlen, "demo backend is down: %s does not exist", b->flag_path.c_str());
    return CONNPOOL_FACTORY_RETRY;
  }
  *conn_out = new Connection{b->next_id++};
  return CONNPOOL_FACTORY_OK;
}

inline int Validate(void* ctx, void* /*conn*/) { return static_cast<Backend*>(ctx)->Up() ? 0 : 1; }

inline void Destroy(void* /*ctx*/, void* conn) { delete static_cast<Connection*>(conn); }

inline void Free(void* ctx) { delete static_cast<Backend*>(ctx); }

// A factory owning a new Backend over `flag_path`; NULL when out of memory.
inline connpool_factory_t* NewFactory(const std::string& flag_path) {
  auto* b = new Backend;
  b->flag_path = flag_path;
  connpool_factory_t* f = connpool_factory_new(b, Free, Create, Destroy);
  if (f == nullptr) {
    delete b;
    return nullptr;
  }
  connpool_factory_set_validate(f, Validate);
  return f;
}

}  // namespace demo

#endif
