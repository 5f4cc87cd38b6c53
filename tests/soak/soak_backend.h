// SPDX-License-Identifier: Apache-2.0
// What the soak (soak_main.cpp) needs from a backend it can kill and restart: a factory for
// the pool, a query on a leased connection, the server's own count of sessions, and a check
// that nothing is left once the pool is freed. Two implementations: an in-process simulation
// (fake_backend.cpp, always built) and a throwaway PostgreSQL cluster through the libpq
// factory of examples/postgres (pg_backend.cpp, built when libpq is found).
#ifndef CONNPOOL_TESTS_SOAK_SOAK_BACKEND_H
#define CONNPOOL_TESTS_SOAK_SOAK_BACKEND_H

#include <memory>
#include <string>

#include "connpool/connpool.h"

namespace connpool_soak {

class SoakBackend {
 public:
  virtual ~SoakBackend() = default;
  virtual const char* name() const = 0;
  // Creates and starts the server. False (with a reason) when it cannot run here.
  virtual bool Setup(std::string* err) = 0;
  // A new factory for the pool (the pool takes ownership).
  virtual connpool_factory_t* NewFactory() = 0;
  // An outage: the server dies without closing its sessions cleanly; then it comes back.
  // Called from one thread only.
  virtual bool Kill(std::string* err) = 0;
  virtual bool Restart(std::string* err) = 0;
  virtual bool up() const = 0;
  // Runs one statement of kind `kind` (0..3: plain, short sleep, session state, open
  // transaction) on a leased connection; false when the connection is broken.
  virtual bool Query(void* conn, int kind) = 0;
  // Sessions the server itself counts right now (-1 when it cannot tell, e.g. down).
  virtual long ServerSessions() = 0;
  // After connpool_pool_free: true when no session or connection object is left.
  virtual bool NothingLeft(std::string* why) = 0;
};

std::unique_ptr<SoakBackend> NewFakeBackend();
// NULL when built without libpq.
std::unique_ptr<SoakBackend> NewPgBackend();

}  // namespace connpool_soak

#endif
