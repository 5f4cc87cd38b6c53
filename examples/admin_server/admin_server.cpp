// SPDX-License-Identifier: Apache-2.0
// admin_server: an HTTP admin endpoint over one or more connection pools (cpp-httplib).
//
//   GET /healthz  200 while the process is fine (liveness: never depends on the backend)
//   GET /readyz   200 when every pool is ready or degraded, else 503 (readiness); the JSON body
//                 names each pool's state and HTTP status
//   GET /stats    {"<pool name>": <connpool_pool_stats_json>, ...}
//   GET /metrics  Prometheus text 0.0.4 of every pool, families merged
//
// The endpoints come from the connpool_admin_http library (admin_http.h), which you can mount
// on your own cpp-httplib server. The pools talk either to PostgreSQL (--pg, the libpq factory
// of examples/postgres) or to a demo backend (demo_backend.h) that stands in for a database:
// it is up while a flag file exists, so `rm` and `touch` simulate an outage and a recovery.
//
// Usage: admin_server [--bind ADDR] [--port N] [--pool NAME]... [--pg CONNINFO]
//                     [--backend-flag PATH] [--backend-flag-for NAME=PATH]...
//                     [--config KEY=VALUE]... [--traffic] [--drain-grace-ms N]
//                     [--drain-timeout-ms N]
//   --bind ADDR        listen address (default 127.0.0.1: loopback only)
//   --port N           port; 0 picks a free one (default 8080). The server prints
//                      "listening on http://ADDR:PORT" on stdout once it accepts connections.
//   --pool NAME        a pool (repeatable; default one pool named "default")
//   --pg CONNINFO      every pool opens libpq connections to CONNINFO (a key=value string or
//                      a postgresql:// URI) instead of using the demo backend
//   --backend-flag P   the demo backend of every pool is up while file P exists (default: always)
//   --backend-flag-for NAME=P   the same, for one pool
//   --config K=V       a connpool setting for every pool (docs/CONFIGURATION.md), e.g.
//                      --config unavailable_after_ms=1000
//   --traffic          one thread per pool borrows a connection every 10 ms (to watch metrics
//                      move); with --pg it runs SELECT 1 on it
//   --drain-grace-ms N after SIGTERM, answer /readyz 503 for N ms before draining, so a load
//                      balancer polling it stops sending traffic first (default 0)
//   --drain-timeout-ms N  how long the drain waits for leases (default 5000)
// SIGINT or SIGTERM: /readyz turns 503 at once; after the grace period the pools drain while
// /readyz, /stats and /metrics keep answering; HTTP stops only when the drain has ended, then
// the process exits 0 (1 if a drain timed out).
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "admin_http.h"
#include "connpool/connpool.h"
#include "demo_backend.h"
#ifdef CONNPOOL_ADMIN_HAVE_PG
#include <libpq-fe.h>

#include "pg_factory.h"
#endif

namespace {

struct Options {
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::vector<std::string> pools;
  std::string backend_flag;
  std::map<std::string, std::string> backend_flag_for;
  std::vector<std::pair<std::string, std::string>> config;
  bool traffic = false;
  std::string pg;  // empty: demo backend
  long drain_grace_ms = 0;
  long drain_timeout_ms = 5000;
};

using connpool_admin::NamedPool;

void Usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [--bind ADDR] [--port N] [--pool NAME]... [--pg CONNINFO]\n"
          "          [--backend-flag PATH] [--backend-flag-for NAME=PATH]... [--config KEY=VALUE]...\n"
          "          [--traffic] [--drain-grace-ms N] [--drain-timeout-ms N]\n",
          argv0);
}

bool SplitKeyValue(const std::string& s, std::string* k, std::string* v) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *k = s.substr(0, eq);
  *v = s.substr(eq + 1);
  return true;
}

bool ParseMs(const std::string& v, long* out) {
  char* end = nullptr;
  long n = strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 0 || n > 3600 * 1000) return false;
  *out = n;
  return true;
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v, k, kv;
    if (a == "--bind" && value(&o->bind)) continue;
    if (a == "--port" && value(&v)) {
      char* end = nullptr;
      long p = strtol(v.c_str(), &end, 10);
      if (*end != '\0' || p < 0 || p > 65535) return false;
      o->port = static_cast<int>(p);
      continue;
    }
    if (a == "--pool" && value(&v)) {
      o->pools.push_back(v);
      continue;
    }
    if (a == "--backend-flag" && value(&o->backend_flag)) continue;
    if (a == "--backend-flag-for" && value(&kv) && SplitKeyValue(kv, &k, &v)) {
      o->backend_flag_for[k] = v;
      continue;
    }
    if (a == "--config" && value(&kv) && SplitKeyValue(kv, &k, &v)) {
      o->config.emplace_back(k, v);
      continue;
    }
    if (a == "--pg" && value(&o->pg) && !o->pg.empty()) continue;
    if (a == "--drain-grace-ms" && value(&v) && ParseMs(v, &o->drain_grace_ms)) continue;
    if (a == "--drain-timeout-ms" && value(&v) && ParseMs(v, &o->drain_timeout_ms)) continue;
    if (a == "--traffic") {
      o->traffic = true;
      continue;
    }
    return false;
  }
  if (o->pools.empty()) o->pools.push_back("default");
  return true;
}

// Well-formed UTF-8 (pool names become JSON keys; the library sanitises its own output, but
// the names we print ourselves must be valid too).
bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

const char* LevelName(int level) {
  switch (level) {
    case CONNPOOL_LOG_ERROR: return "ERROR";
    case CONNPOOL_LOG_WARN: return "WARN";
    case CONNPOOL_LOG_INFO: return "INFO";
    default: return "DEBUG";
  }
}

void LogToStderr(void*, int level, const char* msg) { fprintf(stderr, "[%s] %s\n", LevelName(level), msg); }

connpool_pool_t* MakePool(const Options& o, const std::string& name) {
  connpool_config_t* cfg = connpool_config_new();
  if (cfg == nullptr) return nullptr;
  char err[512];
  bool ok = connpool_config_set(cfg, "name", name.c_str(), err, sizeof err) == CONNPOOL_OK;
  for (size_t i = 0; ok && i < o.config.size(); ++i)
    ok = connpool_config_set(cfg, o.config[i].first.c_str(), o.config[i].second.c_str(), err, sizeof err) ==
         CONNPOOL_OK;
  connpool_pool_t* pool = nullptr;
  if (ok) {
    connpool_factory_t* factory = nullptr;
#ifdef CONNPOOL_ADMIN_HAVE_PG
    if (!o.pg.empty()) factory = connpool_pg_factory_new(o.pg.c_str(), 0);
#endif
    if (o.pg.empty()) {
      auto it = o.backend_flag_for.find(name);
      factory = demo::NewFactory(it != o.backend_flag_for.end() ? it->second : o.backend_flag);
    }
    int rc = connpool_pool_new(cfg, factory, &pool, err, sizeof err);
    ok = rc == CONNPOOL_OK;
  }
  if (!ok) fprintf(stderr, "admin_server: pool %s: %s\n", name.c_str(), err);
  connpool_config_free(cfg);
  return pool;
}

// One request of the --traffic load: with PostgreSQL a real round trip, so a connection the
// server dropped is found and returned as broken, as an application would.
void OneRequest(connpool_pool_t* pool, bool pg) {
  connpool_lease_t lease;
  void* conn = nullptr;
  if (connpool_acquire(pool, 100, &lease, &conn) != CONNPOOL_OK) return;
  bool ok = true;
#ifdef CONNPOOL_ADMIN_HAVE_PG
  if (pg) {
    PGresult* r = PQexec(static_cast<PGconn*>(conn), "SELECT 1");
    ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
  }
#else
  (void)pg;
#endif
  if (ok) {
    connpool_release(pool, lease);
  } else {
    connpool_release_broken(pool, lease);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    Usage(argv[0]);
    return 2;
  }
#ifndef CONNPOOL_ADMIN_HAVE_PG
  if (!opt.pg.empty()) {
    fprintf(stderr, "admin_server: built without libpq, --pg is not available\n");
    return 2;
  }
#endif
  for (size_t i = 0; i < opt.pools.size(); ++i) {
    if (!IsUtf8(opt.pools[i])) {
      fprintf(stderr, "admin_server: pool name %zu is not valid UTF-8\n", i + 1);
      return 2;
    }
    for (size_t j = 0; j < i; ++j)
      if (opt.pools[i] == opt.pools[j]) {
        fprintf(stderr, "admin_server: pool %s given twice\n", opt.pools[i].c_str());
        return 2;
      }
  }

  // SIGINT/SIGTERM are taken by a dedicated thread (sigwait), not a handler: stopping the
  // server is not async-signal-safe. Block them before any thread starts so all inherit it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  connpool_set_log_callback(LogToStderr, nullptr);
  std::vector<NamedPool> pools;
  for (const std::string& name : opt.pools) {
    connpool_pool_t* p = MakePool(opt, name);
    if (p == nullptr) {
      for (NamedPool& np : pools) connpool_pool_free(np.pool);
      return 1;
    }
    pools.push_back({name, p});
  }

  httplib::Server svr;
  connpool_admin::AdminEndpoints admin(pools);
  admin.Mount(&svr);

  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port(opt.bind);
  } else if (!svr.bind_to_port(opt.bind, port)) {
    port = -1;
  }
  if (port <= 0) {
    fprintf(stderr, "admin_server: cannot listen on %s:%d\n", opt.bind.c_str(), opt.port);
    for (NamedPool& np : pools) connpool_pool_free(np.pool);
    return 1;
  }

  // The stopper runs the whole shutdown while HTTP keeps serving: /readyz 503 at once, the
  // grace period, the drain, and only then svr.stop(). Stopping HTTP first (as this example
  // once did) hides the drain from the load balancer that should follow it.
  std::atomic<bool> stopping{false};
  std::atomic<bool> drained_ok{true};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    admin.BeginDrain();
    fprintf(stderr, "admin_server: signal %d, /readyz now 503; draining in %ld ms\n", sig, opt.drain_grace_ms);
    if (opt.drain_grace_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.drain_grace_ms));
    stopping = true;  // the demo traffic stops; a real server's requests would fail fast now
    // Every pool drains at once, so the total wait is one timeout, not one per pool.
    std::vector<std::thread> drains;
    for (NamedPool& np : pools)
      drains.emplace_back([&drained_ok, &opt, pool = np.pool] {
        if (connpool_pool_drain(pool, static_cast<int64_t>(opt.drain_timeout_ms)) != CONNPOOL_OK) drained_ok = false;
      });
    for (std::thread& t : drains) t.join();
    fprintf(stderr, "admin_server: drain %s, stopping HTTP\n", drained_ok.load() ? "done" : "timed out");
    svr.stop();
  });

  std::vector<std::thread> traffic;
  if (opt.traffic) {
    for (NamedPool& np : pools)
      traffic.emplace_back([&stopping, pool = np.pool, pg = !opt.pg.empty()] {
        while (!stopping.load()) {
          OneRequest(pool, pg);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a request every 10 ms
        }
      });
  }

  printf("listening on http://%s:%d\n", opt.bind.c_str(), port);
  fflush(stdout);
  bool listened = svr.listen_after_bind();  // returns after svr.stop()

  if (!listened) pthread_kill(stopper.native_handle(), SIGTERM);  // wake the stopper: it drains
  stopper.join();
  stopping = true;
  for (std::thread& t : traffic) t.join();
  int rc = listened && drained_ok.load() ? 0 : 1;
  for (NamedPool& np : pools) connpool_pool_free(np.pool);
  connpool_set_log_callback(nullptr, nullptr);
  fprintf(stderr, "admin_server: stopped\n");
  return rc;
}
