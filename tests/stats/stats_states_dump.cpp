// SPDX-License-Identifier: Apache-2.0
// Drives pools through every state through the C API and prints their live stats JSON, one
// document per line as "<label>\t<json>", for validate_stats.py to check against
// docs/stats.schema.json. Exits non-zero if a state cannot be reached.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "stats_test_util.h"

namespace {

using stats_test::Backend;
using stats_test::Eventually;
using stats_test::MakePool;
using stats_test::Take;

int g_failures = 0;

void Dump(const char* label, connpool_pool_t* pool) {
  std::string text = Take(connpool_pool_stats_json(pool));
  printf("%s\t%s\n", label, text.c_str());
  fflush(stdout);
}

void Require(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "stats_states_dump: could not reach: %s\n", what);
    ++g_failures;
  }
}

bool StateIs(connpool_pool_t* pool, int state) {
  return Eventually([&] { return connpool_pool_state(pool) == state; });
}

}  // namespace

int main() {
  // starting: the backend is down; the pool retries with backoff and reports why.
  {
    Backend b;
    b.up = false;
    connpool_pool_t* pool = MakePool(&b, {{"name", "starting"}, {"retry_initial_ms", "60000"}});
    if (pool == nullptr) return 2;
    Require(Eventually([&] { return b.create_failures.load() >= 1; }), "starting with a failure");
    Dump("starting", pool);
    connpool_pool_free(pool);
  }
  // unavailable at once: a FATAL create (bad credentials).
  {
    Backend b;
    b.up = false;
    b.fatal = true;
    b.error_text = "FATAL: password authentication failed for user \"app\" (password=hunter2)";
    connpool_pool_t* pool = MakePool(&b, {{"name", "fatal"}});
    if (pool == nullptr) return 2;
    Require(StateIs(pool, CONNPOOL_STATE_UNAVAILABLE), "unavailable after FATAL");
    Dump("unavailable-fatal", pool);
    connpool_pool_free(pool);
  }
  // ready, idle and busy (with waiters), degraded, unavailable, ready again, draining, closed.
  {
    Backend b;
    connpool_pool_t* pool = MakePool(&b, {{"name", "orders"}, {"max_size", "3"}, {"min_idle", "2"},
                                          {"retry_initial_ms", "10"}, {"retry_max_ms", "40"},
                                          {"unavailable_after_ms", "300"}, {"maintenance_interval_ms", "10"},
                                          {"leak_threshold_ms", "30"}});
    if (pool == nullptr) return 2;
    Require(connpool_pool_wait_ready(pool, 10000) == CONNPOOL_OK, "ready");
    Require(Eventually([&] { return b.creates.load() >= 2; }), "min_idle warm");
    Dump("ready-idle", pool);

    std::vector<connpool_lease_t> held(3);
    for (auto& l : held) Require(connpool_acquire(pool, 5000, &l, nullptr) == CONNPOOL_OK, "acquire");
    std::thread waiter([&] {
      connpool_lease_t l;
      if (connpool_acquire(pool, 10000, &l, nullptr) == CONNPOOL_OK) connpool_release(pool, l);
    });
    Require(Eventually([&] {
              stats_test::Json j = stats_test::Stats(pool);
              return stats_test::Int(j.get(), "waiters") == 1;
            }),
            "a waiter");
    Dump("ready-busy-waiter", pool);
    // Leases held past leak_threshold_ms show up as leaks.
    Require(Eventually([&] {
              stats_test::Json j = stats_test::Stats(pool);
              return cJSON_GetArraySize(stats_test::At(j.get(), "leaks")) == 3;
            }),
            "leaks");
    Dump("ready-leaks", pool);
    connpool_release(pool, held[0]);
    waiter.join();
    b.up = false;
    connpool_release_broken(pool, held[1]);  // the replacement fails: degraded
    Require(Eventually([&] { return connpool_pool_state(pool) != CONNPOOL_STATE_READY; }), "degraded");
    Dump("degraded", pool);
    Require(StateIs(pool, CONNPOOL_STATE_UNAVAILABLE), "unavailable after the cutoff");
    connpool_lease_t l;
    connpool_acquire(pool, 1000, &l, nullptr);  // fails fast: EUNAVAILABLE
    Dump("unavailable", pool);
    b.up = true;
    Require(StateIs(pool, CONNPOOL_STATE_READY), "recovered");
    Dump("recovered", pool);
    Require(connpool_pool_drain(pool, 0) == CONNPOOL_ETIMEOUT, "draining with a lease out");
    Dump("draining", pool);
    connpool_release(pool, held[2]);
    Require(StateIs(pool, CONNPOOL_STATE_CLOSED), "closed");
    Dump("closed", pool);
    connpool_pool_free(pool);
  }
  // Names that need escaping or are not valid UTF-8.
  for (const char* name : {"say \"hi\"\n\ttab", "ünïcødé ✓ 池", "bad \xff\xe2\x82 utf8", "\x01\x1f\x7f"}) {
    Backend b;
    connpool_pool_t* pool = MakePool(&b, {{"name", name}});
    if (pool == nullptr) return 2;
    Require(connpool_pool_wait_ready(pool, 10000) == CONNPOOL_OK, "ready (odd name)");
    Dump("odd-name", pool);
    connpool_pool_free(pool);
  }
  return g_failures == 0 ? 0 : 1;
}
