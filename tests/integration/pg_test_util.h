// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the PostgreSQL integration tests: a fixture owning one throwaway cluster
// and the pools made against it, stats JSON reading, bounded polling, and a multi-threaded
// query load that records what every caller saw.
#ifndef CONNPOOL_TESTS_INTEGRATION_PG_TEST_UTIL_H
#define CONNPOOL_TESTS_INTEGRATION_PG_TEST_UTIL_H

#include <connpool/connpool.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pg_cluster.h"

namespace connpool_it {

using Settings = std::vector<std::pair<std::string, std::string>>;

int64_t NowNs();
inline double MsBetween(int64_t from_ns, int64_t to_ns) { return static_cast<double>(to_ns - from_ns) / 1e6; }

// Polls `cond` every `poll_ms` until it holds (true) or `timeout_ms` passes (false). Waiting
// on an observable condition with a deadline, never a fixed sleep.
bool WaitUntil(const std::function<bool()>& cond, int64_t timeout_ms, int64_t poll_ms = 2);

// The fields of connpool_pool_stats_json the tests look at.
struct PoolStats {
  std::string raw;
  std::string state;
  int http_status = 0;
  int64_t total = 0, idle = 0, in_use = 0, creating = 0, waiters = 0;
  std::map<std::string, int64_t> counters;
  int64_t consecutive_failures = 0;
  int64_t next_attempt_in_ms = -1;  // -1: null
  int64_t outage_ms = 0;
  std::string health_reason;  // "" when null
  int64_t create_us_max = 0;
  bool has_last_error = false;
  std::string last_error;
  int last_error_code = 0;
  int64_t counter(const std::string& name) const {
    auto it = counters.find(name);
    return it == counters.end() ? -1 : it->second;
  }
};
PoolStats ReadStats(connpool_pool_t* pool);

// Runs one statement on a leased PGconn; true when it returned rows or completed. `value`
// gets the first column of the first row.
bool RunSql(void* conn, const char* sql, std::string* value = nullptr, std::string* err = nullptr);

// The most attempts a pool may make within `elapsed_ms` if it honours the backoff: the n-th
// retry waits at least min(initial * multiplier^(n-1), max) * (1 - jitter) after the n-th
// failure. Used to prove that a crowd of callers does not hammer a backend that is down.
int64_t MaxAttemptsWithin(double elapsed_ms, double initial_ms, double max_ms, double multiplier,
                          double jitter);

// Threads that acquire, run SELECT 1 and release (release_broken when the query fails) until
// stopped, recording every outcome. Callers "think" 1 ms after a fail-fast error, as a
// service answering 503 would, instead of spinning.
class QueryLoad {
 public:
  QueryLoad(connpool_pool_t* pool, int threads, int64_t acquire_timeout_ms);
  ~QueryLoad();
  void Stop();

  uint64_t count(int status) const;  // acquires that returned `status`
  // Acquires that returned anything but the given codes.
  uint64_t count_except(std::initializer_list<int> allowed) const;
  uint64_t queries_ok() const { return queries_ok_.load(); }
  uint64_t query_failures() const;
  // Query failures on leases whose acquire began at or after `t_ns`.
  uint64_t query_failures_since(int64_t t_ns) const;
  // Latencies (ns) of acquires that returned EUNAVAILABLE and began while the pool was
  // already unavailable (not waiters it woke when it turned unavailable).
  std::vector<int64_t> unavailable_latencies() const;
  std::string Summary() const;

 private:
  void Run();

  connpool_pool_t* const pool_;
  const int64_t timeout_ms_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> by_status_[CONNPOOL_STATUS_COUNT_ + 1] = {};  // last: unknown codes
  std::atomic<uint64_t> queries_ok_{0};
  mutable std::mutex mu_;
  std::vector<int64_t> failure_starts_;     // guarded by mu_
  std::vector<std::string> failure_texts_;  // guarded by mu_ (first few)
  std::vector<int64_t> unavailable_ns_;     // guarded by mu_
  std::vector<std::thread> threads_;
};

// Summary of a latency sample, in microseconds.
struct LatencySummary {
  size_t n = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
};
LatencySummary Summarize(std::vector<int64_t> ns);

// Owns one cluster (made in SetUp, destroyed in TearDown even when the test fails) and the
// pools a test makes. Skips the test when PostgreSQL is not installed.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A pool over connpool_pg_factory on `dsn` (default: the trusted app user), with the
  // resilience settings every scenario shares plus `extra`. Fails the test on error.
  connpool_pool_t* MakePool(const Settings& extra, const std::string& dsn = "");
  connpool_pool_t* MakePoolWithFactory(const Settings& extra, connpool_factory_t* factory);
  // Frees one pool early (TearDown frees the rest).
  void FreePool(connpool_pool_t* pool);

  // pg_ctl -w start / stop -m immediate; the times bracket the call (steady clock, ns):
  // the server may stop accepting connections well before pg_ctl returns.
  void StartServer();
  void StopServer();
  int64_t stop_begin_ns_ = 0, stop_end_ns_ = 0, start_begin_ns_ = 0, start_end_ns_ = 0;

  // Waits until the pool is quiet (nothing leased, creating or waiting) and the server's
  // client backends equal the pool's connections.total; reports both on failure.
  void ExpectNoLeaks(connpool_pool_t* pool, int64_t timeout_ms = 10000);
  // Holds `n` leases at once, runs a query on each (each must succeed), releases them: every
  // connection the pool keeps has been handed out and checked.
  void LeaseAllAndQuery(connpool_pool_t* pool, int n);

  static void Timing(const std::string& what, double ms);

  PgCluster pg_;
  std::vector<connpool_pool_t*> pools_;
};

// The settings shared by the scenarios: fast backoff and cutoff, frequent maintenance.
extern const Settings kResilience;

}  // namespace connpool_it

#endif
