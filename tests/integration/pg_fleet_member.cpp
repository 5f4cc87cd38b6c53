// SPDX-License-Identifier: Apache-2.0
// One process of the fleet in PgFleetTest (pg_fleet_test.cpp): a pool with the default retry
// settings over a small libpq factory that records when each create began and whether it
// worked, under a light query load. Prints "ready" once the pool is, runs until its stdin
// closes, then prints "attempt <steady ns> <0|1>" per create and exits. CLOCK_MONOTONIC
// (std::chrono::steady_clock) is system-wide, so the driver compares times across processes.
//   usage: connpool_pg_fleet_member CONNINFO
#include <connpool/connpool.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Recorder {
  const char* conninfo;
  std::mutex mu;
  std::vector<std::pair<int64_t, int>> attempts;  // guarded by mu
};

int Create(void* ctx, void** conn_out, char* err, size_t errlen) {
  auto* r = static_cast<Recorder*>(ctx);
  const int64_t t = NowNs();
  PGconn* c = PQconnectdb(r->conninfo);
  const bool ok = PQstatus(c) == CONNECTION_OK;
  // The server's shutdown notices would go to stderr; the driver reads only stdout anyway.
  if (ok) PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  {
    std::lock_guard<std::mutex> lk(r->mu);
    r->attempts.emplace_back(t, ok ? 1 : 0);
  }
  if (!ok) {
    std::snprintf(err, errlen, "%s", PQerrorMessage(c));
    PQfinish(c);
    return CONNPOOL_FACTORY_RETRY;
  }
  *conn_out = c;
  return CONNPOOL_FACTORY_OK;
}

void Destroy(void*, void* conn) { PQfinish(static_cast<PGconn*>(conn)); }

int Validate(void*, void* conn) {
  PGresult* res = PQexec(static_cast<PGconn*>(conn), "");
  const bool ok = PQresultStatus(res) == PGRES_EMPTY_QUERY;
  PQclear(res);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CONNINFO\n", argv[0]);
    return 2;
  }
  Recorder rec;
  rec.conninfo = argv[1];
  connpool_factory_t* f = connpool_factory_new(&rec, nullptr, Create, Destroy);
  connpool_factory_set_validate(f, Validate);
  connpool_config_t* cfg = connpool_config_new();
  char err[256];
  const char* settings[][2] = {{"max_size", "2"}, {"min_idle", "1"}, {"validate_on_acquire", "always"},
                               {"unavailable_after_ms", "2000"}, {"maintenance_interval_ms", "100"}};
  for (auto& kv : settings) connpool_config_set(cfg, kv[0], kv[1], err, sizeof err);
  connpool_pool_t* pool = nullptr;
  if (connpool_pool_new(cfg, f, &pool, err, sizeof err) != CONNPOOL_OK) {
    std::fprintf(stderr, "pool: %s\n", err);
    return 1;
  }
  connpool_config_free(cfg);
  if (connpool_pool_wait_ready(pool, 10000) != CONNPOOL_OK) {
    std::fprintf(stderr, "not ready\n");
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop.load()) {
      connpool_lease_t lease;
      void* conn;
      if (connpool_acquire(pool, 200, &lease, &conn) == CONNPOOL_OK) {
        if (Validate(nullptr, conn) == 0) {
          connpool_release(pool, lease);
        } else {
          connpool_release_broken(pool, lease);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a caller's think time
    }
  });
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  stop = true;
  load.join();
  connpool_pool_free(pool);
  for (const auto& a : rec.attempts) std::printf("attempt %lld %d\n", static_cast<long long>(a.first), a.second);
  std::fflush(stdout);
  return 0;
}
