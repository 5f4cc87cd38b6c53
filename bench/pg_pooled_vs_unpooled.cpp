// SPDX-License-Identifier: Apache-2.0
// connpool_pg_bench: SELECT 1 against a real PostgreSQL, pooled versus connect-per-request.
//
//   connpool_pg_bench [--clients 100,1000] [--pool N] [--warmup S] [--seconds S]
//
// Starts a throwaway cluster (tests/integration/pg_cluster.h: loopback only, trust auth) with
// max_connections raised so that 1,000 unpooled clients fit, then for each client count runs:
//   pooled        libconnpool + the libpq factory of examples/postgres, max_size=--pool (10),
//                 reset_on_release off: acquire -> SELECT 1 -> release
//   pooled+reset  the same with the default reset_on_release (the factory's reset sends DISCARD ALL
//                 on every release: one more round trip)
//   unpooled      PQconnectdb -> SELECT 1 -> PQfinish (a fresh backend process per request)
// Each client is a thread looping without pause. A request counts if it ended inside the
// measured window (after the warm-up); its latency is the client's view (acquire wait or
// connect included). Prints one key=value line per measurement, then a markdown table.
//
// On the reference VM a new PostgreSQL session costs ~50 ms (pgbench -C says the same), so the
// server accepts only ~20 connections/s: with 1,000 unpooled clients a request then waits
// ~50 s in the accept queue, longer than the window. Its p99 is of the requests that finished
// in the window (the first of the storm), an underestimate; the line also gives Little's law,
// clients / throughput, the mean latency of the steady state. After the window, requests in
// flight are let finish (connect_timeout 120 s), which takes up to a minute at 1,000 clients.
// Exit 0 when every measurement ran with no failed request; 77 when the machine has no
// PostgreSQL server binaries (the CTest entry then skips).
#include <libpq-fe.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "connpool/connpool.h"
#include "pg_cluster.h"
#include "pg_factory.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

bool SelectOne(PGconn* c) {
  PGresult* r = PQexec(c, "SELECT 1");
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  return ok;
}

struct Measurement {
  std::string mode;
  int clients = 0;
  double ops_per_s = 0;
  double p50_ms = 0, p99_ms = 0;
  uint64_t requests = 0, failures = 0;
};

connpool_pool_t* MakePool(const std::string& dsn, int size, bool reset) {
  connpool_config_t* cfg = connpool_config_new();
  const std::string n = std::to_string(size);
  const char* settings[][2] = {{"name", "pg_bench"},          {"max_size", n.c_str()},
                               {"min_idle", n.c_str()},       {"acquire_timeout_ms", "60000"},
                               {"reset_on_release", reset ? "true" : "false"}};
  char err[256];
  for (auto& s : settings) {
    if (connpool_config_set(cfg, s[0], s[1], err, sizeof err) != CONNPOOL_OK) {
      fprintf(stderr, "config %s: %s\n", s[0], err);
      connpool_config_free(cfg);
      return nullptr;
    }
  }
  connpool_pool_t* pool = nullptr;
  int rc = connpool_pool_new(cfg, connpool_pg_factory_new(dsn.c_str(), 10), &pool, err, sizeof err);
  connpool_config_free(cfg);
  if (rc != CONNPOOL_OK) {
    fprintf(stderr, "connpool_pool_new: %s\n", err);
    return nullptr;
  }
  if (connpool_pool_wait_ready(pool, 30000) != CONNPOOL_OK) {
    fprintf(stderr, "pool not ready\n");
    connpool_pool_free(pool);
    return nullptr;
  }
  return pool;
}

// One measurement: `clients` threads looping requests; pool == nullptr means unpooled.
Measurement Run(const std::string& mode, connpool_pool_t* pool, const std::string& dsn, int clients,
                double warmup_s, double seconds) {
  std::atomic<bool> go{false};
  std::atomic<uint64_t> failures{0};
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(clients));
  int64_t measure_from = 0, measure_to = 0;  // written before `go`, read after it
  auto client = [&](size_t i) {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    const int64_t from = measure_from, to = measure_to;
    for (;;) {
      const int64_t t0 = NowNs();
      if (t0 >= to) break;
      bool ok;
      if (pool != nullptr) {
        connpool_lease_t lease;
        void* conn = nullptr;
        int rc = connpool_acquire(pool, 60000, &lease, &conn);
        ok = rc == CONNPOOL_OK;
        if (ok) {
          ok = SelectOne(static_cast<PGconn*>(conn));
          if (ok) connpool_release(pool, lease);
          else connpool_release_broken(pool, lease);
        }
      } else {
        PGconn* c = PQconnectdb(dsn.c_str());
        ok = PQstatus(c) == CONNECTION_OK && SelectOne(c);
        PQfinish(c);
      }
      const int64_t t1 = NowNs();
      if (!ok) {
        if (failures.fetch_add(1) < 3) fprintf(stderr, "%s: a request failed\n", mode.c_str());
        continue;
      }
      if (t1 >= from && t1 <= to) lat[i].push_back(t1 - t0);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(clients));
  for (int i = 0; i < clients; ++i) threads.emplace_back(client, static_cast<size_t>(i));
  measure_from = NowNs() + static_cast<int64_t>(warmup_s * 1e9);
  measure_to = measure_from + static_cast<int64_t>(seconds * 1e9);
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Measurement m;
  m.mode = mode;
  m.clients = clients;
  m.requests = all.size();
  m.failures = failures.load();
  m.ops_per_s = static_cast<double>(all.size()) / seconds;
  if (!all.empty()) {
    m.p50_ms = static_cast<double>(all[all.size() / 2]) / 1e6;
    m.p99_ms = static_cast<double>(all[std::min(all.size() - 1, all.size() * 99 / 100)]) / 1e6;
  }
  printf("mode=%s clients=%d ops_per_s=%.0f p50_ms=%.3f p99_ms=%.3f littles_law_ms=%.1f requests=%llu failures=%llu\n",
         m.mode.c_str(), m.clients, m.ops_per_s, m.p50_ms, m.p99_ms,
         m.ops_per_s > 0 ? 1e3 * clients / m.ops_per_s : 0.0, static_cast<unsigned long long>(m.requests),
         static_cast<unsigned long long>(m.failures));
  fflush(stdout);
  return m;
}

std::vector<int> ParseList(const char* s) {
  std::vector<int> v;
  for (const char* p = s; *p != '\0';) {
    v.push_back(atoi(p));
    const char* c = strchr(p, ',');
    if (c == nullptr) break;
    p = c + 1;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> clients = {100, 1000};
  int pool_size = 10;
  double warmup = 1, seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--clients") clients = ParseList(argv[i + 1]);
    else if (a == "--pool") pool_size = atoi(argv[i + 1]);
    else if (a == "--warmup") warmup = atof(argv[i + 1]);
    else if (a == "--seconds") seconds = atof(argv[i + 1]);
    else {
      fprintf(stderr, "usage: connpool_pg_bench [--clients 100,1000] [--pool N] [--warmup S] [--seconds S]\n");
      return 2;
    }
  }
  std::string why = connpool_it::PgCluster::WhyUnsupported();
  if (!why.empty()) {
    fprintf(stderr, "skipped: %s\n", why.c_str());
    return 77;
  }
  // 1,000 unpooled clients hold up to 1,000 sockets at once.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int max_clients = *std::max_element(clients.begin(), clients.end());

  connpool_it::PgCluster pg;
  std::string err;
  // The harness configures a small server (max_connections = 60); ALTER SYSTEM overrides it
  // after a restart.
  // Headroom of 50 over clients + pool: the harness's admin session, the 3 slots PostgreSQL
  // reserves for superusers, and backends of finished requests still exiting.
  const std::string max_conn = std::to_string(max_clients + pool_size + 50);
  if (!pg.Init(&err) || !pg.Start(&err) ||
      !pg.Exec("ALTER SYSTEM SET max_connections = " + max_conn, &err) || !pg.Stop(&err) || !pg.Start(&err)) {
    fprintf(stderr, "cluster: %s\n%s\n", err.c_str(), pg.LogTail().c_str());
    return 1;
  }
  const std::string dsn = pg.Dsn() + " sslmode=disable connect_timeout=120";
  {
    PGconn* c = PQconnectdb(dsn.c_str());
    PGresult* r = PQexec(c, "SHOW max_connections");
    printf("# server: %s, max_connections=%s, loopback TCP, pool max_size=%d, warmup=%.1fs measure=%.1fs\n",
           PQparameterStatus(c, "server_version"), PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "?",
           pool_size, warmup, seconds);
    PQclear(r);
    PQfinish(c);
  }

  std::vector<Measurement> ms;
  for (int n : clients) {
    for (int reset = 0; reset < 2; ++reset) {
      connpool_pool_t* pool = MakePool(dsn, pool_size, reset == 1);
      if (pool == nullptr) return 1;
      ms.push_back(Run(reset ? "pooled+reset" : "pooled", pool, dsn, n, warmup, seconds));
      connpool_pool_free(pool);
    }
    ms.push_back(Run("unpooled", nullptr, dsn, n, warmup, seconds));
  }

  bool ok = true;
  printf("\n| clients | pooled ops/s | pooled p99 ms | pooled+reset ops/s | pooled+reset p99 ms | unpooled ops/s | "
         "unpooled p99 ms (window) | unpooled mean ms (Little) | pooled / unpooled |\n");
  printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i + 2 < ms.size(); i += 3) {
    const Measurement &p = ms[i], &pr = ms[i + 1], &u = ms[i + 2];
    printf("| %d | %.0f | %.2f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0fx |\n", p.clients, p.ops_per_s, p.p99_ms,
           pr.ops_per_s, pr.p99_ms, u.ops_per_s, u.p99_ms, u.ops_per_s > 0 ? 1e3 * u.clients / u.ops_per_s : 0.0,
           u.ops_per_s > 0 ? p.ops_per_s / u.ops_per_s : 0.0);
  }
  for (const Measurement& m : ms) ok = ok && m.failures == 0 && m.requests > 0;
  return ok ? 0 : 1;
}
