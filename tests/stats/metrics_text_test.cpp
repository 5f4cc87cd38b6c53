// SPDX-License-Identifier: Apache-2.0
// connpool_pool_metrics_text: every line parsed by a strict exposition-format parser
// (prom_parser.h), in every pool state, with hostile pool names; the families a Prometheus
// user expects; histogram buckets cumulative and +Inf == _count; figures that agree with the
// stats JSON.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "prom_parser.h"
#include "stats_test_util.h"

namespace {

using stats_test::Backend;
using stats_test::Eventually;
using stats_test::Int;
using stats_test::MakePool;
using stats_test::Stats;
using stats_test::Take;

prom::Exposition ParseOrFail(const std::string& text) {
  prom::Exposition e;
  std::string err;
  EXPECT_TRUE(prom::Parse(text, &e, &err)) << err << "\n--- text ---\n" << text;
  EXPECT_TRUE(prom::CheckSemantics(e, &err)) << err << "\n--- text ---\n" << text;
  return e;
}

// The structure every exposition of one pool must have, whatever its state.
void CheckStructure(const prom::Exposition& e, const std::string& pool_name, int http_status) {
  ASSERT_FALSE(e.families.empty());
  for (const prom::Family& f : e.families) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(f.name.rfind("connpool_", 0), 0u) << "every family is namespaced connpool_";
    EXPECT_TRUE(f.has_help && f.has_type);
    EXPECT_FALSE(f.samples.empty());
    bool is_counter_name = f.name.size() > 6 && f.name.compare(f.name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(f.type == "counter", is_counter_name) << "counters, and only counters, end in _total";
    for (const prom::Sample& s : f.samples) {
      const std::string* pool = s.Label("pool");
      ASSERT_NE(pool, nullptr) << "line " << s.line << " has no pool label";
      EXPECT_EQ(*pool, pool_name) << "line " << s.line;
      EXPECT_EQ(s.labels.front().first, "pool");
    }
  }
  const struct {
    const char* name;
    const char* type;
  } required[] = {
      {"connpool_up", "gauge"},
      {"connpool_connections", "gauge"},
      {"connpool_waiters", "gauge"},
      {"connpool_max_size", "gauge"},
      {"connpool_acquired_total", "counter"},
      {"connpool_timeouts_total", "counter"},
      {"connpool_unavailable_total", "counter"},
      {"connpool_overload_total", "counter"},
      {"connpool_created_total", "counter"},
      {"connpool_create_failures_total", "counter"},
      {"connpool_destroyed_total", "counter"},
      {"connpool_closed_total", "counter"},
      {"connpool_acquire_wait_seconds", "histogram"},
      {"connpool_lease_hold_seconds", "summary"},
      {"connpool_create_seconds", "summary"},
  };
  for (const auto& r : required) {
    const prom::Family* f = e.Find(r.name);
    ASSERT_NE(f, nullptr) << "missing family " << r.name;
    EXPECT_EQ(f->type, r.type) << r.name;
  }
  const prom::Family* up = e.Find("connpool_up");
  ASSERT_EQ(up->samples.size(), 1u);
  EXPECT_EQ(up->samples[0].value, http_status == 200 ? 1.0 : 0.0);
  std::vector<std::string> states;
  for (const prom::Sample& s : e.Find("connpool_connections")->samples)
    states.push_back(s.Label("state") ? *s.Label("state") : "?");
  EXPECT_EQ(states, (std::vector<std::string>{"idle", "in_use", "creating"}));
}

// Parses the pool's metrics and checks structure; returns the parse for further checks.
prom::Exposition Metrics(connpool_pool_t* pool, const std::string& name) {
  std::string text = Take(connpool_pool_metrics_text(pool));
  EXPECT_FALSE(text.empty());
  prom::Exposition e = ParseOrFail(text);
  CheckStructure(e, name, connpool_pool_http_status(pool));
  return e;
}

double Value(const prom::Exposition& e, const std::string& family, const std::string& sample,
             const std::string& label = "", const std::string& label_value = "") {
  const prom::Family* f = e.Find(family);
  if (f == nullptr) return -1;
  for (const prom::Sample& s : f->samples)
    if (s.name == sample && (label.empty() || (s.Label(label) && *s.Label(label) == label_value)))
      return s.value;
  return -1;
}

TEST(MetricsText, NullPoolGivesNull) { EXPECT_EQ(connpool_pool_metrics_text(nullptr), nullptr); }

TEST(MetricsText, ReadyPoolWithTrafficAgreesWithStatsJson) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "orders"}, {"max_size", "4"}, {"min_idle", "2"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  std::vector<connpool_lease_t> held;
  for (int i = 0; i < 4; ++i) {
    connpool_lease_t l;
    ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
    held.push_back(l);
  }
  connpool_lease_t extra;
  EXPECT_EQ(connpool_acquire(pool, 1, &extra, nullptr), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(connpool_release(pool, held.back()), CONNPOOL_OK);
  EXPECT_EQ(connpool_release(pool, held.back()), CONNPOOL_ESTALE);
  held.pop_back();

  // Quiescent now: no thread touches the pool, so metrics and JSON must agree exactly.
  prom::Exposition e = Metrics(pool, "orders");
  auto j = Stats(pool);
  ASSERT_TRUE(j);
  EXPECT_EQ(Value(e, "connpool_connections", "connpool_connections", "state", "idle"), Int(j.get(), "connections.idle"));
  EXPECT_EQ(Value(e, "connpool_connections", "connpool_connections", "state", "in_use"), 3);
  EXPECT_EQ(Value(e, "connpool_connections", "connpool_connections", "state", "creating"),
            Int(j.get(), "connections.creating"));
  EXPECT_EQ(Value(e, "connpool_acquired_total", "connpool_acquired_total"), 4);
  EXPECT_EQ(Value(e, "connpool_timeouts_total", "connpool_timeouts_total"), 1);
  EXPECT_EQ(Value(e, "connpool_stale_releases_total", "connpool_stale_releases_total"), 1);
  EXPECT_EQ(Value(e, "connpool_max_size", "connpool_max_size"), 4);
  EXPECT_EQ(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_count"),
            Int(j.get(), "acquire_wait_us.count"));
  EXPECT_EQ(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_count"), 4);
  EXPECT_EQ(Value(e, "connpool_lease_hold_seconds", "connpool_lease_hold_seconds_count"), 1);
  EXPECT_EQ(Value(e, "connpool_up", "connpool_up"), 1);
  for (connpool_lease_t l : held) EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  connpool_pool_free(pool);
}

TEST(MetricsText, EveryStateParses) {
  Backend b;
  b.up = false;
  connpool_pool_t* pool = MakePool(&b, {{"name", "states"}, {"max_size", "2"}, {"min_idle", "1"},
                                        {"retry_initial_ms", "10"}, {"retry_max_ms", "40"},
                                        {"unavailable_after_ms", "200"}, {"maintenance_interval_ms", "10"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(Eventually([&] { return b.create_failures.load() >= 1; }));
  EXPECT_EQ(connpool_pool_state(pool), CONNPOOL_STATE_STARTING);
  Metrics(pool, "states");

  b.up = true;
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  Metrics(pool, "states");

  // Degraded: a connection breaks and its replacement cannot be created.
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  b.up = false;
  ASSERT_EQ(connpool_release_broken(pool, l), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) != CONNPOOL_STATE_READY; }));
  prom::Exposition degraded = Metrics(pool, "states");
  EXPECT_GE(Value(degraded, "connpool_consecutive_failures", "connpool_consecutive_failures"), 1);

  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_UNAVAILABLE; }));
  EXPECT_EQ(connpool_acquire(pool, 1000, &l, nullptr), CONNPOOL_EUNAVAILABLE);
  prom::Exposition down = Metrics(pool, "states");
  EXPECT_EQ(Value(down, "connpool_up", "connpool_up"), 0);
  EXPECT_EQ(Value(down, "connpool_unavailable_total", "connpool_unavailable_total"), 1);
  EXPECT_GT(Value(down, "connpool_outage_seconds", "connpool_outage_seconds"), 0);

  b.up = true;
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_READY; }));
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  EXPECT_EQ(connpool_pool_drain(pool, 0), CONNPOOL_ETIMEOUT);
  EXPECT_EQ(connpool_pool_state(pool), CONNPOOL_STATE_DRAINING);
  Metrics(pool, "states");
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] { return connpool_pool_state(pool) == CONNPOOL_STATE_CLOSED; }));
  prom::Exposition closed = Metrics(pool, "states");
  EXPECT_EQ(Value(closed, "connpool_state", "connpool_state"), CONNPOOL_STATE_CLOSED);
  connpool_pool_free(pool);
}

TEST(MetricsText, HostileNamesAreEscapedInLabels) {
  const std::vector<std::pair<std::string, std::string>> names = {
      // configured name, expected label value after unescaping
      {"say \"hi\"", "say \"hi\""},
      {"back\\slash\\n", "back\\slash\\n"},
      {"two\nlines", "two\nlines"},
      {"tab\tand \x01 control", "tab\tand \x01 control"},
      {"ünïcødé ✓ 池", "ünïcødé ✓ 池"},
      {"bad \xff utf8 \xe2\x82", "bad \xEF\xBF\xBD utf8 \xEF\xBF\xBD\xEF\xBF\xBD"},
      {"pool} 1\n# HELP evil", "pool} 1\n# HELP evil"},
  };
  for (const auto& n : names) {
    SCOPED_TRACE(n.first);
    Backend b;
    connpool_pool_t* pool = MakePool(&b, {{"name", n.first}});
    ASSERT_NE(pool, nullptr);
    ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
    Metrics(pool, n.second);
    connpool_pool_free(pool);
  }
}

TEST(MetricsText, AcquireWaitHistogramCountsWaitsInTheRightBuckets) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "hist"}, {"max_size", "1"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  // A second acquire must wait until the first lease comes back, which this thread does only
  // after seeing it queued (waiters == 1) and a real 60 ms having passed since it queued, so
  // its wait is at least 60 ms: it lands above le=0.05 and at or below +Inf.
  std::thread waiter([&] {
    connpool_lease_t l2;
    ASSERT_EQ(connpool_acquire(pool, 10000, &l2, nullptr), CONNPOOL_OK);
    EXPECT_EQ(connpool_release(pool, l2), CONNPOOL_OK);
  });
  ASSERT_TRUE(Eventually([&] { return Int(Stats(pool).get(), "waiters") == 1; }));
  const auto queued = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return std::chrono::steady_clock::now() - queued >= std::chrono::milliseconds(60); }));
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  waiter.join();
  prom::Exposition e = Metrics(pool, "hist");
  EXPECT_EQ(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_count"), 2);
  EXPECT_EQ(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_bucket", "le", "0.05"), 1);
  EXPECT_EQ(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_bucket", "le", "+Inf"), 2);
  EXPECT_GE(Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_sum"), 0.06);
  connpool_pool_free(pool);
}

TEST(MetricsText, ValidAndMonotonicWhileThePoolIsBusy) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "busy"}, {"max_size", "3"}, {"validate_on_acquire", "never"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 5; ++t)
    workers.emplace_back([&, t] {
      int i = 0;
      while (!stop.load()) {
        connpool_lease_t l;
        if (connpool_acquire(pool, 1000, &l, nullptr) != CONNPOOL_OK) continue;
        if (++i % (5 + t) == 0) connpool_release_broken(pool, l);
        else connpool_release(pool, l);
      }
    });
  std::map<std::string, double> last;
  for (int round = 0; round < 300; ++round) {
    prom::Exposition e = Metrics(pool, "busy");
    if (HasFailure()) break;
    for (const prom::Family& f : e.families) {
      for (const prom::Sample& s : f.samples) {
        bool monotonic = f.type == "counter" || s.name == "connpool_acquire_wait_seconds_count" ||
                         s.name == "connpool_acquire_wait_seconds_bucket" ||
                         s.name == "connpool_lease_hold_seconds_count";
        if (!monotonic) continue;
        std::string key = s.name;
        for (const auto& kv : s.labels) key += "," + kv.first + "=" + kv.second;
        ASSERT_GE(s.value, last[key]) << key << " went backwards in round " << round;
        last[key] = s.value;
      }
    }
    double total = 0;
    for (const prom::Sample& s : e.Find("connpool_connections")->samples) total += s.value;
    ASSERT_LE(total, 3);
  }
  stop = true;
  for (auto& w : workers) w.join();
  EXPECT_GT(last["connpool_acquired_total,pool=busy"], 0);
  connpool_pool_free(pool);
}

// docs/STATS.md lists every metric family with its type, and nothing else.
TEST(MetricsText, DocumentedFamiliesMatchTheOutput) {
  std::ifstream in(CONNPOOL_STATS_MD);
  ASSERT_TRUE(in) << CONNPOOL_STATS_MD;
  std::set<std::pair<std::string, std::string>> documented;
  const std::regex row("^\\| `(connpool_[a-z_]+)` \\| ([a-z]+) \\|");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) documented.insert({m[1].str(), m[2].str()});
  }
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "doc"}, {"leak_threshold_ms", "1000"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  std::set<std::pair<std::string, std::string>> produced;
  for (const prom::Family& f : Metrics(pool, "doc").families) produced.insert({f.name, f.type});
  connpool_pool_free(pool);
  EXPECT_EQ(documented, produced);
}

// The parser itself must reject broken expositions, or the tests above could not fail.
TEST(PromParser, RejectsBrokenExpositions) {
  const std::string ok =
      "# HELP a_total A.\n# TYPE a_total counter\na_total{pool=\"p\"} 1\n"
      "# HELP h H.\n# TYPE h histogram\n"
      "h_bucket{pool=\"p\",le=\"0.1\"} 1\nh_bucket{pool=\"p\",le=\"+Inf\"} 2\n"
      "h_sum{pool=\"p\"} 0.5\nh_count{pool=\"p\"} 2\n";
  prom::Exposition e;
  std::string err;
  ASSERT_TRUE(prom::Parse(ok, &e, &err)) << err;
  ASSERT_TRUE(prom::CheckSemantics(e, &err)) << err;
  const std::vector<std::string> bad = {
      "",                                                              // empty
      "# TYPE a gauge\na{pool=\"p\"} 1",                               // no final line feed
      "# TYPE a gauge\n\na{pool=\"p\"} 1\n",                           // blank line
      "# random comment\n",                                            // comment
      "a{pool=\"p\"} 1\n",                                             // sample before TYPE
      "# TYPE a gauge\na{pool=\"p\"q\"} 1\n",                          // unescaped quote
      "# TYPE a gauge\na{pool=\"p\\t\"} 1\n",                          // bad escape
      "# TYPE a gauge\na{pool=\"p\"}  1\n",                            // two blanks
      "# TYPE a gauge\na{pool=\"p\"} one\n",                           // bad value
      "# TYPE a gauge\na{pool=\"p\"} 1\na{pool=\"p\"} 2\n",            // duplicate series
      "# TYPE a gauge\n# TYPE a gauge\n",                              // second TYPE
      "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n",               // not contiguous
      "# TYPE a gauge\na{1x=\"p\"} 1\n",                               // bad label name
      "# TYPE a wibble\n",                                             // unknown type
      "# TYPE a gauge\na{pool=\"\xff\"} 1\n",                          // invalid UTF-8
  };
  for (const std::string& t : bad) {
    prom::Exposition x;
    EXPECT_FALSE(prom::Parse(t, &x, &err)) << "accepted: " << t;
  }
  const std::vector<std::string> bad_semantics = {
      // not cumulative
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
      // +Inf != _count
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
      // no +Inf bucket
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_sum 1\nh_count 1\n",
      // le not increasing
      "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"0.5\"} 1\n"
      "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      // negative counter
      "# HELP c_total C.\n# TYPE c_total counter\nc_total -1\n",
      // missing HELP
      "# TYPE g gauge\ng 1\n",
  };
  for (const std::string& t : bad_semantics) {
    prom::Exposition x;
    ASSERT_TRUE(prom::Parse(t, &x, &err)) << err << ": " << t;
    EXPECT_FALSE(prom::CheckSemantics(x, &err)) << "accepted: " << t;
  }
}

}  // namespace

namespace {

// With max_leases_per_conn > 1, connpool_connections counts connections (6 leases on 3
// connections once showed in_use = 6 and a sum above connections.total); leases have their
// own gauge. Lease hold and create time come as aggregatable histograms too.
TEST(MetricsText, SharedConnectionsCountConnectionsAndLeasesSeparately) {
  Backend b;
  connpool_pool_t* pool = MakePool(&b, {{"name", "mux"}, {"max_size", "3"}, {"min_idle", "3"},
                                        {"max_leases_per_conn", "2"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  ASSERT_TRUE(Eventually([&] { return Int(Stats(pool).get(), "connections.idle") == 3; }));
  std::vector<connpool_lease_t> held;
  for (int i = 0; i < 6; ++i) {
    connpool_lease_t l;
    ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
    held.push_back(l);
  }
  prom::Exposition e = Metrics(pool, "mux");
  auto j = Stats(pool);
  EXPECT_EQ(Value(e, "connpool_connections", "connpool_connections", "state", "in_use"), 3);
  EXPECT_EQ(Value(e, "connpool_leases", "connpool_leases"), 6);
  double sum = 0;
  for (const prom::Sample& s : e.Find("connpool_connections")->samples) sum += s.value;
  EXPECT_EQ(sum, Int(j.get(), "connections.total"));
  for (connpool_lease_t l : held) EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);

  e = Metrics(pool, "mux");
  for (const char* h : {"connpool_lease_hold_time_seconds", "connpool_create_time_seconds"}) {
    const prom::Family* f = e.Find(h);
    ASSERT_NE(f, nullptr) << h;
    EXPECT_EQ(f->type, "histogram") << h;
  }
  EXPECT_EQ(Value(e, "connpool_lease_hold_time_seconds", "connpool_lease_hold_time_seconds_count"), 6);
  EXPECT_EQ(Value(e, "connpool_create_time_seconds", "connpool_create_time_seconds_count"),
            Value(e, "connpool_create_seconds", "connpool_create_seconds_count"));
  connpool_pool_free(pool);
}

}  // namespace

namespace {

// otel_metrics = true adds the nine OpenTelemetry db.client.connection.* families (strictly
// parsed, histograms sound) with pool_name, agreeing with the connpool_ ones; off by default.
TEST(MetricsText, OtelMetricsParseAndAgree) {
  Backend b;
  connpool_pool_t* plain = MakePool(&b, {{"name", "plain"}});
  ASSERT_NE(plain, nullptr);
  std::string text = Take(connpool_pool_metrics_text(plain));
  EXPECT_EQ(text.find("db_client_connection"), std::string::npos) << "off by default";
  connpool_pool_free(plain);

  Backend b2;
  connpool_pool_t* pool = MakePool(&b2, {{"name", "otel"}, {"max_size", "4"}, {"min_idle", "2"}, {"otel_metrics", "true"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  connpool_lease_t l;
  ASSERT_EQ(connpool_acquire(pool, 5000, &l, nullptr), CONNPOOL_OK);
  prom::Exposition e = ParseOrFail(Take(connpool_pool_metrics_text(pool)));
  std::string err;
  EXPECT_TRUE(prom::CheckSemantics(e, &err)) << err;
  const struct {
    const char* name;
    const char* type;
  } otel[] = {{"db_client_connection_count", "gauge"},
              {"db_client_connection_idle_max", "gauge"},
              {"db_client_connection_idle_min", "gauge"},
              {"db_client_connection_max", "gauge"},
              {"db_client_connection_pending_requests", "gauge"},
              {"db_client_connection_timeouts_total", "counter"},
              {"db_client_connection_create_time_seconds", "histogram"},
              {"db_client_connection_wait_time_seconds", "histogram"},
              {"db_client_connection_use_time_seconds", "histogram"}};
  for (const auto& o : otel) {
    const prom::Family* f = e.Find(o.name);
    ASSERT_NE(f, nullptr) << o.name;
    EXPECT_EQ(f->type, o.type) << o.name;
    for (const prom::Sample& s : f->samples) {
      ASSERT_NE(s.Label("pool_name"), nullptr) << o.name;
      EXPECT_EQ(*s.Label("pool_name"), "otel");
    }
  }
  EXPECT_EQ(Value(e, "db_client_connection_count", "db_client_connection_count", "state", "used"), 1);
  EXPECT_EQ(Value(e, "db_client_connection_count", "db_client_connection_count", "state", "idle"),
            Value(e, "connpool_connections", "connpool_connections", "state", "idle"));
  EXPECT_EQ(Value(e, "db_client_connection_max", "db_client_connection_max"), 4);
  EXPECT_EQ(Value(e, "db_client_connection_idle_min", "db_client_connection_idle_min"), 2);
  EXPECT_EQ(Value(e, "db_client_connection_wait_time_seconds", "db_client_connection_wait_time_seconds_count"),
            Value(e, "connpool_acquire_wait_seconds", "connpool_acquire_wait_seconds_count"));
  EXPECT_EQ(connpool_release(pool, l), CONNPOOL_OK);
  connpool_pool_free(pool);
}

}  // namespace
