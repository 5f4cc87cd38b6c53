// SPDX-License-Identifier: Apache-2.0
#include "stats/stats_json.h"

#include <cjson/cJSON.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/redact.h"

namespace connpool {

std::string ValidUtf8(std::string_view in) {
  static const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(in.size());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    // Allowed range of the second byte, which rules out overlong forms, surrogates
    // (U+D800..U+DFFF) and code points above U+10FFFF (RFC 3629, table 3-7 of Unicode).
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char b = p[i + k];
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

namespace {

// Text from the pool as it may appear in stats and metrics: no secrets, valid UTF-8.
std::string Clean(std::string_view text) { return ValidUtf8(Redact(text)); }

const char* StatusName(int code) {
  switch (code) {
#define CONNPOOL_STATUS_NAME_(name, value, text) \
  case value: return "CONNPOOL_" #name;
    CONNPOOL_STATUS_MAP(CONNPOOL_STATUS_NAME_)
#undef CONNPOOL_STATUS_NAME_
  }
  return "CONNPOOL_EUNKNOWN";
}

// Integers are written as exact decimal text (raw JSON numbers): cJSON's doubles would round
// values above 2^53, which leases reach (the pool tag sits in their top 14 bits).
void U64(cJSON* obj, const char* key, uint64_t v) {
  cJSON_AddRawToObject(obj, key, std::to_string(v).c_str());
}
void I64(cJSON* obj, const char* key, int64_t v) {
  cJSON_AddRawToObject(obj, key, std::to_string(v).c_str());
}
// A duration or age: never negative, even if two clock readings raced.
void Ms(cJSON* obj, const char* key, int64_t v) { I64(obj, key, v < 0 ? 0 : v); }

void AddHistogram(cJSON* root, const char* key, const HistogramSummary& h) {
  cJSON* o = cJSON_AddObjectToObject(root, key);
  if (o == nullptr) return;
  U64(o, "count", h.count);
  U64(o, "sum", h.sum);
  U64(o, "p50", h.p50);
  U64(o, "p90", h.p90);
  U64(o, "p99", h.p99);
  U64(o, "p999", h.p999);
  U64(o, "max", h.max);
}

// A copy in memory from malloc(), so connpool_free (free) is right whatever allocator hooks
// another user of the shared libcjson in this process installed with cJSON_InitHooks.
char* Dup(const char* text, size_t len) {
  char* out = static_cast<char*>(malloc(len + 1));
  if (out != nullptr) memcpy(out, text, len + 1);
  return out;
}

}  // namespace

char* StatsToJson(const StatsSnapshot& s) {
  cJSON* root = cJSON_CreateObject();
  if (root == nullptr) return nullptr;
  // Field order follows DESIGN.md §5; docs/STATS.md describes each field.
  cJSON_AddStringToObject(root, "name", Clean(s.name).c_str());
  cJSON_AddStringToObject(root, "version", CONNPOOL_VERSION_STRING);
  cJSON_AddStringToObject(root, "state", HealthName(s.state));
  I64(root, "http_status", HealthHttpStatus(s.state));
  Ms(root, "uptime_ms", s.uptime_ms);
  Ms(root, "state_since_ms", s.state_since_ms);

  cJSON* c = cJSON_AddObjectToObject(root, "connections");
  if (c) {
    U64(c, "total", s.total);
    U64(c, "idle", s.idle);
    U64(c, "in_use", s.in_use);
    U64(c, "creating", s.creating);
    I64(c, "max_size", s.max_size);
    I64(c, "min_idle", s.min_idle);
    U64(c, "busy", s.busy);
    I64(c, "max_leases_per_conn", s.max_leases_per_conn);
  }
  U64(root, "waiters", s.waiters);

  cJSON* k = cJSON_AddObjectToObject(root, "counters");
  if (k) {
#define CONNPOOL_JSON_COUNTER(field, name, label, help) U64(k, #field, s.field);
    CONNPOOL_POOL_COUNTERS(CONNPOOL_JSON_COUNTER)
#undef CONNPOOL_JSON_COUNTER
  }
  AddHistogram(root, "acquire_wait_us", s.acquire_wait_us);
  AddHistogram(root, "lease_hold_us", s.lease_hold_us);
  AddHistogram(root, "create_us", s.create_us);

  cJSON* hg = cJSON_AddObjectToObject(root, "hangs");
  if (hg) {
    cJSON_AddBoolToObject(hg, "stalled", s.stalled);
    Ms(hg, "stalled_ms", s.stalled_ms);
    Ms(hg, "stall_after_ms", s.stall_after_ms);
    U64(hg, "abandoned_calls", s.abandoned_calls);
  }

  cJSON* r = cJSON_AddObjectToObject(root, "retry");
  if (r) {
    U64(r, "consecutive_failures", s.consecutive_failures);
    if (s.next_attempt_in_ms >= 0)
      Ms(r, "next_attempt_in_ms", s.next_attempt_in_ms);
    else
      cJSON_AddNullToObject(r, "next_attempt_in_ms");
    Ms(r, "outage_ms", s.outage_ms);
    I64(r, "create_limit", s.create_limit);
  }
  if (s.health_reason != nullptr)
    cJSON_AddStringToObject(root, "health_reason", s.health_reason);
  else
    cJSON_AddNullToObject(root, "health_reason");
  if (s.has_last_error) {
    cJSON* e = cJSON_AddObjectToObject(root, "last_error");
    if (e) {
      cJSON_AddStringToObject(e, "message", Clean(s.last_error_message).c_str());
      I64(e, "code", s.last_error_code);
      cJSON_AddStringToObject(e, "code_name", StatusName(s.last_error_code));
      Ms(e, "age_ms", s.last_error_age_ms);
    }
  } else {
    cJSON_AddNullToObject(root, "last_error");
  }
  cJSON* a = cJSON_AddObjectToObject(root, "adaptive");
  if (a) {
    cJSON_AddBoolToObject(a, "enabled", s.adaptive_enabled);
    Ms(a, "target_wait_ms", s.adaptive_target_wait_ms);
    I64(a, "floor", s.adaptive_floor);
    auto decision = [&](const char* key, const StatsSnapshot::AdaptiveDecisionInfo& d) {
      if (!d.valid) {
        cJSON_AddNullToObject(a, key);
        return;
      }
      cJSON* o = cJSON_AddObjectToObject(a, key);
      if (!o) return;
      cJSON_AddStringToObject(o, "action", d.action.c_str());
      I64(o, "from", d.from);
      I64(o, "to", d.to);
      cJSON_AddStringToObject(o, "reason", d.reason.c_str());
      Ms(o, "age_ms", d.age_ms);
    };
    decision("last_decision", s.adaptive_last_decision);
    decision("last_change", s.adaptive_last_change);
  }
  Ms(root, "leak_threshold_ms", s.leak_threshold_ms);
  cJSON* leaks = cJSON_AddArrayToObject(root, "leaks");
  if (leaks) {
    for (const LeakInfo& l : s.leaks) {
      cJSON* o = cJSON_CreateObject();
      if (!o) break;
      U64(o, "lease", l.lease);
      Ms(o, "held_ms", l.held_ms);
      // A string: thread ids are opaque and may not fit a double exactly.
      cJSON_AddStringToObject(o, "thread", std::to_string(l.thread).c_str());
      I64(o, "priority", l.priority);
      cJSON_AddItemToArray(leaks, o);
    }
  }
  char* printed = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (printed == nullptr) return nullptr;
  char* text = Dup(printed, strlen(printed));
  cJSON_free(printed);
  return text;
}

// --- Prometheus text format 0.0.4 ---------------------------------------------------------

namespace {

// Label values escape backslash, double quote and line feed; nothing else (format 0.0.4).
std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '"') out += "\\\"";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
  return out;
}

// The shortest decimal text that reads back as the same double; integers without exponent.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {  // 2^53: exact integers
    snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int prec = 1; prec <= 17; ++prec) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string FormatValue(uint64_t v) { return std::to_string(v); }

class Exposition {
 public:
  explicit Exposition(const std::string& pool_label) : pool_(pool_label) {}

  // Starts a metric family: its # HELP and # TYPE lines. Every sample of the family must
  // follow before the next family starts (the format requires families to be contiguous).
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;  // static texts without backslash or line feed: no escaping needed
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample with the pool label and optional further labels `extra` (already escaped,
  // e.g. `state="idle"`).
  template <typename V>
  void Sample(const std::string& name, V value, const std::string& extra = std::string()) {
    out_ += name;
    out_ += '{';
    out_ += pool_;
    if (!extra.empty()) {
      out_ += ',';
      out_ += extra;
    }
    out_ += "} ";
    out_ += FormatValue(value);
    out_ += '\n';
  }
  template <typename V>
  void Single(const char* name, const char* type, const char* help, V value) {
    Family(name, type, help);
    Sample(name, value);
  }
  // A summary from a histogram summary in microseconds, exposed in seconds.
  void Summary(const char* name, const char* help, const HistogramSummary& h) {
    Family(name, "summary", help);
    const struct {
      const char* q;
      uint64_t us;
    } quantiles[] = {{"0.5", h.p50}, {"0.9", h.p90}, {"0.99", h.p99}, {"0.999", h.p999}};
    for (const auto& q : quantiles)
      Sample(name, static_cast<double>(q.us) / 1e6, std::string("quantile=\"") + q.q + "\"");
    Sample(std::string(name) + "_sum", static_cast<double>(h.sum) / 1e6);
    Sample(std::string(name) + "_count", h.count);
  }
  // A histogram in seconds from one reading in microseconds: cumulative buckets by
  // construction, and +Inf equals _count.
  template <size_t N>
  void Hist(const char* name, const char* help, const Histogram::Counts& c, const uint64_t (&bounds_us)[N]) {
    Family(name, "histogram", help);
    const std::string n(name);
    for (uint64_t bound : bounds_us)
      Sample(n + "_bucket", c.CountAtMost(bound), "le=\"" + FormatValue(static_cast<double>(bound) / 1e6) + "\"");
    Sample(n + "_bucket", c.count, "le=\"+Inf\"");
    Sample(n + "_sum", static_cast<double>(c.sum) / 1e6);
    Sample(n + "_count", c.count);
  }
  const std::string& text() const { return out_; }

 private:
  const std::string pool_;
  std::string out_;
};

// Bucket bounds of connpool_acquire_wait_seconds, in microseconds: 10 us (an uncontended
// acquire) up to 60 s (far past any sane acquire timeout), roughly 1-2.5-5 per decade.
constexpr uint64_t kWaitBoundsUs[] = {10,     50,     100,     250,     500,     1000,    2500,
                                      5000,   10000,  25000,   50000,   100000,  250000,  500000,
                                      1000000, 2500000, 5000000, 10000000, 30000000, 60000000};

}  // namespace

char* StatsToPrometheus(const StatsSnapshot& s, const Histogram& wait, uint64_t zero_wait) {
  Exposition m("pool=\"" + EscapeLabel(Clean(s.name)) + "\"");

  m.Single("connpool_up", "gauge", "1 when the pool is ready or degraded (serving), else 0.",
           uint64_t{HealthHttpStatus(s.state) == 200 ? 1u : 0u});
  m.Family("connpool_info", "gauge", "Always 1; the labels carry the library version.");
  m.Sample("connpool_info", uint64_t{1}, std::string("version=\"") + CONNPOOL_VERSION_STRING + "\"");
  m.Single("connpool_state", "gauge",
           "Health state code: 0 starting, 1 ready, 2 degraded, 3 unavailable, 4 draining, 5 closed.",
           static_cast<uint64_t>(s.state));
  m.Single("connpool_state_seconds", "gauge", "Seconds since the current state was entered.",
           static_cast<double>(s.state_since_ms) / 1e3);
  m.Single("connpool_uptime_seconds", "gauge", "Seconds since the pool was made.",
           static_cast<double>(s.uptime_ms) / 1e3);

  m.Family("connpool_connections", "gauge",
           "Connections by state; their sum is every live or being-created connection.");
  m.Sample("connpool_connections", s.idle, "state=\"idle\"");
  // busy, not in_use: with max_leases_per_conn > 1 in_use counts leases (connpool_leases).
  m.Sample("connpool_connections", s.busy, "state=\"in_use\"");
  m.Sample("connpool_connections", s.creating, "state=\"creating\"");
  m.Single("connpool_leases", "gauge",
           "Leases out now (more than connections in use when max_leases_per_conn > 1).", s.in_use);
  m.Single("connpool_max_size", "gauge", "Configured max_size.", static_cast<uint64_t>(s.max_size));
  m.Single("connpool_min_idle", "gauge", "Configured min_idle.", static_cast<uint64_t>(s.min_idle));
  m.Single("connpool_waiters", "gauge", "Acquires waiting for a connection now.", s.waiters);
  m.Single("connpool_leaked_leases", "gauge", "Leases held longer than leak_threshold_ms now.",
           static_cast<uint64_t>(s.leaks.size()));

  // The counters of stats/counters.h: plain counters first, then each labelled family (it
  // starts at the row that carries its help) with its samples in table order.
  const uint64_t values[] = {
#define CONNPOOL_PROM_COUNTER(field, name, label, help) s.field,
      CONNPOOL_POOL_COUNTERS(CONNPOOL_PROM_COUNTER)
#undef CONNPOOL_PROM_COUNTER
  };
  constexpr size_t kRows = sizeof(kPoolCounterRows) / sizeof(kPoolCounterRows[0]);
  static_assert(sizeof(values) / sizeof(values[0]) == kRows, "one value per counter row");
  for (size_t i = 0; i < kRows; ++i) {
    const CounterRow& r = kPoolCounterRows[i];
    if (r.prometheus_label[0] == '\0') m.Single(r.prometheus_name, "counter", r.help, values[i]);
  }
  for (size_t i = 0; i < kRows; ++i) {
    const CounterRow& first = kPoolCounterRows[i];
    if (first.prometheus_label[0] == '\0' || first.help == nullptr) continue;
    m.Family(first.prometheus_name, "counter", first.help);
    for (size_t j = i; j < kRows; ++j) {
      const CounterRow& r = kPoolCounterRows[j];
      if (std::strcmp(r.prometheus_name, first.prometheus_name) == 0) m.Sample(r.prometheus_name, values[j], r.prometheus_label);
    }
  }
  m.Single("connpool_abandoned_calls_running", "gauge",
           "Abandoned factory callbacks that have not returned yet (each holds a slot).", s.abandoned_calls);
  m.Single("connpool_stalled", "gauge", "1 while the pool is stalled (docs/HEALTH.md), else 0.",
           uint64_t{s.stalled ? 1u : 0u});

  m.Single("connpool_consecutive_failures", "gauge", "Creates failed in a row (0 when healthy).",
           s.consecutive_failures);
  m.Single("connpool_outage_seconds", "gauge", "Seconds since the current outage began (0: none).",
           static_cast<double>(s.outage_ms) / 1e3);
  // health_reason "capacity": the alert differs from an outage (the server is full, not down).
  m.Single("connpool_capacity_limited", "gauge",
           "1 while creates are refused but the pool's connections work (server full), else 0.",
           uint64_t{s.health_reason != nullptr && std::strcmp(s.health_reason, "capacity") == 0});

  // One reading of the live histogram gives every bucket, the sum and the count, so the
  // buckets are cumulative and +Inf equals _count by construction.
  const Histogram::Counts counts = wait.Read(zero_wait);
  m.Family("connpool_acquire_wait_seconds", "histogram",
           "Time acquires that returned a lease waited for it (buckets exact to 1/16). Acquires served "
           "by the lock-free fast path are not timed and count as 0 (the first bucket).");
  for (uint64_t bound : kWaitBoundsUs)
    m.Sample("connpool_acquire_wait_seconds_bucket", counts.CountAtMost(bound),
             "le=\"" + FormatValue(static_cast<double>(bound) / 1e6) + "\"");
  m.Sample("connpool_acquire_wait_seconds_bucket", counts.count, "le=\"+Inf\"");
  m.Sample("connpool_acquire_wait_seconds_sum", static_cast<double>(counts.sum) / 1e6);
  m.Sample("connpool_acquire_wait_seconds_count", counts.count);

  m.Summary("connpool_lease_hold_seconds", "Time leases were held, from acquire to release.",
            s.lease_hold_us);
  m.Summary("connpool_create_seconds", "Time factory creates took, successful or not.", s.create_us);
  // The same two as histograms: summaries' quantiles cannot be aggregated across instances.
  m.Hist("connpool_lease_hold_time_seconds",
         "Time leases were held, from acquire to release (precise clock for up to 16 leases per thread per 4 ms; faster threads' other leases count as 0).",
         s.lease_hold_counts, kWaitBoundsUs);
  m.Hist("connpool_create_time_seconds", "Time factory creates took, successful or not.", s.create_counts,
         kWaitBoundsUs);

  std::string out = m.text();
  if (s.otel_metrics) {
    // OpenTelemetry semantic conventions for database client connection pools, in Prometheus
    // form (dots become underscores, units as suffixes), labelled pool_name as they specify.
    Exposition o("pool_name=\"" + EscapeLabel(Clean(s.name)) + "\"");
    o.Family("db_client_connection_count", "gauge", "Connections by state (OpenTelemetry db.client.connection.count).");
    o.Sample("db_client_connection_count", s.idle, "state=\"idle\"");
    o.Sample("db_client_connection_count", s.busy, "state=\"used\"");
    o.Single("db_client_connection_idle_max", "gauge", "Most idle connections allowed (max_size).",
             static_cast<uint64_t>(s.max_size));
    o.Single("db_client_connection_idle_min", "gauge", "Fewest idle connections kept (min_idle).",
             static_cast<uint64_t>(s.min_idle));
    o.Single("db_client_connection_max", "gauge", "Most open connections allowed (max_size).",
             static_cast<uint64_t>(s.max_size));
    o.Single("db_client_connection_pending_requests", "gauge", "Acquires waiting for a connection now.", s.waiters);
    o.Single("db_client_connection_timeouts_total", "counter", "Acquires that timed out.", s.timeouts);
    o.Hist("db_client_connection_create_time_seconds", "Time to create a connection.", s.create_counts,
           kWaitBoundsUs);
    o.Hist("db_client_connection_wait_time_seconds",
           "Time to obtain a connection from the pool (fast-path acquires count as 0).", counts, kWaitBoundsUs);
    o.Hist("db_client_connection_use_time_seconds",
           "Time between borrowing a connection and returning it (precise for up to 16 leases per thread per 4 ms).", s.lease_hold_counts,
           kWaitBoundsUs);
    out += o.text();
  }
  return Dup(out.c_str(), out.size());
}

}  // namespace connpool
