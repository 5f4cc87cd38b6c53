// SPDX-License-Identifier: Apache-2.0
#include "pg_test_util.h"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "pg_factory.h"
#include "../common/eventually.h"

namespace connpool_it {

// retry_initial_ms .. retry_max_ms: 50 ms doubling to 500 ms; unavailable 2 s into an outage;
// maintenance every 100 ms so time-driven changes are prompt; acquires wait 1 s by default.
const Settings kResilience = {
    {"retry_initial_ms", "50"},      {"retry_max_ms", "500"},
    {"retry_multiplier", "2"},       {"retry_jitter", "0.2"},
    {"unavailable_after_ms", "2000"}, {"maintenance_interval_ms", "100"},
    {"acquire_timeout_ms", "1000"},   {"connect_concurrency", "2"},
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool WaitUntil(const std::function<bool()>& cond, int64_t timeout_ms, int64_t poll_ms) {
  return connpool_test::Eventually(cond, std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(poll_ms));
}

namespace {

int64_t Int(const cJSON* obj, const char* key, int64_t fallback = -1) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsNumber(v) ? static_cast<int64_t>(v->valuedouble) : fallback;
}

}  // namespace

PoolStats ReadStats(connpool_pool_t* pool) {
  PoolStats s;
  char* text = connpool_pool_stats_json(pool);
  if (text == nullptr) return s;
  s.raw = text;
  connpool_free(text);
  cJSON* root = cJSON_Parse(s.raw.c_str());
  if (root == nullptr) return s;
  if (const cJSON* st = cJSON_GetObjectItemCaseSensitive(root, "state"); cJSON_IsString(st))
    s.state = st->valuestring;
  s.http_status = static_cast<int>(Int(root, "http_status"));
  s.waiters = Int(root, "waiters");
  if (const cJSON* c = cJSON_GetObjectItemCaseSensitive(root, "connections")) {
    s.total = Int(c, "total");
    s.idle = Int(c, "idle");
    s.in_use = Int(c, "in_use");
    s.creating = Int(c, "creating");
  }
  if (const cJSON* k = cJSON_GetObjectItemCaseSensitive(root, "counters")) {
    for (const cJSON* e = k->child; e != nullptr; e = e->next)
      if (cJSON_IsNumber(e)) s.counters[e->string] = static_cast<int64_t>(e->valuedouble);
  }
  if (const cJSON* r = cJSON_GetObjectItemCaseSensitive(root, "retry")) {
    s.consecutive_failures = Int(r, "consecutive_failures");
    s.next_attempt_in_ms = Int(r, "next_attempt_in_ms");
    s.outage_ms = Int(r, "outage_ms");
  }
  if (const cJSON* h = cJSON_GetObjectItemCaseSensitive(root, "health_reason"); cJSON_IsString(h))
    s.health_reason = h->valuestring;
  if (const cJSON* c = cJSON_GetObjectItemCaseSensitive(root, "create_us")) s.create_us_max = Int(c, "max", 0);
  const cJSON* e = cJSON_GetObjectItemCaseSensitive(root, "last_error");
  if (cJSON_IsObject(e)) {
    s.has_last_error = true;
    if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(e, "message"); cJSON_IsString(m))
      s.last_error = m->valuestring;
    s.last_error_code = static_cast<int>(Int(e, "code"));
  }
  cJSON_Delete(root);
  return s;
}

bool RunSql(void* conn, const char* sql, std::string* value, std::string* err) {
  PGconn* pg = static_cast<PGconn*>(conn);
  PGresult* r = PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
  if (ok && value != nullptr && PQntuples(r) > 0) *value = PQgetvalue(r, 0, 0);
  if (!ok && err != nullptr) *err = PQerrorMessage(pg);
  PQclear(r);
  return ok;
}

int64_t MaxAttemptsWithin(double elapsed_ms, double initial_ms, double max_ms, double multiplier,
                          double jitter) {
  // Attempt 1 may come at once; attempt n+1 comes at least min_delay(n) after attempt n.
  int64_t attempts = 1;
  double t = 0, base = initial_ms;
  for (;;) {
    double d = std::min(base, max_ms) * (1.0 - jitter);
    if (t + d > elapsed_ms) return attempts;
    t += d;
    ++attempts;
    base *= multiplier;
  }
}

QueryLoad::QueryLoad(connpool_pool_t* pool, int threads, int64_t acquire_timeout_ms)
    : pool_(pool), timeout_ms_(acquire_timeout_ms) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

QueryLoad::~QueryLoad() { Stop(); }

void QueryLoad::Stop() {
  stop_ = true;
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void QueryLoad::Run() {
  while (!stop_.load()) {
    connpool_lease_t lease;
    void* conn;
    const bool was_unavailable = connpool_pool_state(pool_) == CONNPOOL_STATE_UNAVAILABLE;
    const int64_t t0 = NowNs();
    int rc = connpool_acquire(pool_, timeout_ms_, &lease, &conn);
    const int64_t t1 = NowNs();
    by_status_[rc >= 0 && rc < CONNPOOL_STATUS_COUNT_ ? rc : CONNPOOL_STATUS_COUNT_]++;
    if (rc == CONNPOOL_OK) {
      std::string err;
      if (RunSql(conn, "SELECT 1", nullptr, &err)) {
        queries_ok_++;
        connpool_release(pool_, lease);
      } else {
        {
          std::lock_guard<std::mutex> lk(mu_);
          failure_starts_.push_back(t0);
          if (failure_texts_.size() < 5) failure_texts_.push_back(err);
        }
        connpool_release_broken(pool_, lease);
      }
      continue;
    }
    if (rc == CONNPOOL_EUNAVAILABLE && was_unavailable) {
      std::lock_guard<std::mutex> lk(mu_);
      unavailable_ns_.push_back(t1 - t0);
    }
    if (rc != CONNPOOL_ETIMEOUT) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

uint64_t QueryLoad::count(int status) const {
  return by_status_[status >= 0 && status < CONNPOOL_STATUS_COUNT_ ? status : CONNPOOL_STATUS_COUNT_].load();
}

uint64_t QueryLoad::count_except(std::initializer_list<int> allowed) const {
  uint64_t n = 0;
  for (int c = 0; c <= CONNPOOL_STATUS_COUNT_; ++c)
    if (std::find(allowed.begin(), allowed.end(), c) == allowed.end()) n += by_status_[c].load();
  return n;
}

uint64_t QueryLoad::query_failures() const {
  std::lock_guard<std::mutex> lk(mu_);
  return failure_starts_.size();
}

uint64_t QueryLoad::query_failures_since(int64_t t_ns) const {
  std::lock_guard<std::mutex> lk(mu_);
  return static_cast<uint64_t>(
      std::count_if(failure_starts_.begin(), failure_starts_.end(), [&](int64_t t) { return t >= t_ns; }));
}

std::vector<int64_t> QueryLoad::unavailable_latencies() const {
  std::lock_guard<std::mutex> lk(mu_);
  return unavailable_ns_;
}

std::string QueryLoad::Summary() const {
  std::ostringstream out;
  out << "acquires:";
  for (int c = 0; c <= CONNPOOL_STATUS_COUNT_; ++c)
    if (uint64_t n = by_status_[c].load())
      out << " " << (c < CONNPOOL_STATUS_COUNT_ ? connpool_errname(c) : "unknown") << "=" << n;
  out << "; queries ok=" << queries_ok_.load() << " failed=" << query_failures();
  std::lock_guard<std::mutex> lk(mu_);
  for (const std::string& t : failure_texts_) out << "\n  query error: " << t;
  return out.str();
}

LatencySummary Summarize(std::vector<int64_t> ns) {
  LatencySummary s;
  s.n = ns.size();
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(ns.size()))) - 1;
    return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1000.0;
  };
  s.p50_us = at(0.50);
  s.p99_us = at(0.99);
  s.max_us = static_cast<double>(ns.back()) / 1000.0;
  return s;
}

void PgTest::SetUp() {
  std::string why = PgCluster::WhyUnsupported();
  if (!why.empty()) GTEST_SKIP() << "PostgreSQL integration test skipped: " << why;
  std::string err;
  ASSERT_TRUE(pg_.Init(&err)) << err;
}

void PgTest::TearDown() {
  for (connpool_pool_t* p : pools_) connpool_pool_free(p);
  pools_.clear();
  if (HasFailure()) std::fprintf(stderr, "%s\n", pg_.LogTail().c_str());
  pg_.Destroy();
}

connpool_pool_t* PgTest::MakePool(const Settings& extra, const std::string& dsn) {
  connpool_factory_t* f = connpool_pg_factory_new(dsn.empty() ? pg_.Dsn().c_str() : dsn.c_str(), 2);
  EXPECT_NE(f, nullptr);
  return MakePoolWithFactory(extra, f);
}

connpool_pool_t* PgTest::MakePoolWithFactory(const Settings& extra, connpool_factory_t* factory) {
  connpool_config_t* cfg = connpool_config_new();
  char err[256] = {0};
  Settings all = kResilience;
  all.insert(all.end(), extra.begin(), extra.end());  // later settings win
  for (const auto& kv : all) {
    EXPECT_EQ(connpool_config_set(cfg, kv.first.c_str(), kv.second.c_str(), err, sizeof err), CONNPOOL_OK)
        << kv.first << "=" << kv.second << ": " << err;
  }
  connpool_pool_t* pool = nullptr;
  int rc = connpool_pool_new(cfg, factory, &pool, err, sizeof err);
  connpool_config_free(cfg);
  EXPECT_EQ(rc, CONNPOOL_OK) << err;
  if (pool != nullptr) pools_.push_back(pool);
  return pool;
}

void PgTest::FreePool(connpool_pool_t* pool) {
  pools_.erase(std::remove(pools_.begin(), pools_.end(), pool), pools_.end());
  connpool_pool_free(pool);
}

void PgTest::StartServer() {
  std::string err;
  start_begin_ns_ = NowNs();
  ASSERT_TRUE(pg_.Start(&err)) << err;
  start_end_ns_ = NowNs();
  Timing("pg_ctl -w start", MsBetween(start_begin_ns_, start_end_ns_));
}

void PgTest::StopServer() {
  std::string err;
  stop_begin_ns_ = NowNs();
  ASSERT_TRUE(pg_.Stop(&err)) << err;
  stop_end_ns_ = NowNs();
  Timing("pg_ctl -w -m immediate stop", MsBetween(stop_begin_ns_, stop_end_ns_));
}

void PgTest::ExpectNoLeaks(connpool_pool_t* pool, int64_t timeout_ms) {
  // Backends exit asynchronously after PQfinish, and new ones register a moment after the
  // connection is made: wait for the two sides to agree.
  PoolStats s;
  long server = -1;
  std::string err;
  bool agreed = WaitUntil(
      [&] {
        s = ReadStats(pool);
        server = pg_.ClientBackends(&err);
        return s.in_use == 0 && s.creating == 0 && s.waiters == 0 && server == s.total;
      },
      timeout_ms, 20);
  EXPECT_TRUE(agreed) << "server client backends=" << server << " (" << err
                      << "), pool connections.total=" << s.total << "\nstats: " << s.raw;
  EXPECT_EQ(s.counter("created") - s.counter("destroyed"), s.total) << s.raw;
  std::printf("[ leaks    ] quiescent: server client backends=%ld, pool connections.total=%lld\n", server,
              static_cast<long long>(s.total));
}

void PgTest::LeaseAllAndQuery(connpool_pool_t* pool, int n) {
  std::vector<connpool_lease_t> leases;
  for (int i = 0; i < n; ++i) {
    connpool_lease_t lease;
    void* conn;
    int rc = connpool_acquire(pool, 5000, &lease, &conn);
    ASSERT_EQ(rc, CONNPOOL_OK) << connpool_errname(rc) << "\n" << ReadStats(pool).raw;
    std::string err;
    EXPECT_TRUE(RunSql(conn, "SELECT 1", nullptr, &err)) << "a dead connection was handed out: " << err;
    leases.push_back(lease);
  }
  for (connpool_lease_t l : leases) EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
}

void PgTest::Timing(const std::string& what, double ms) {
  std::printf("[ timing   ] %-60s %9.1f ms\n", what.c_str(), ms);
  std::fflush(stdout);
}

}  // namespace connpool_it
