#include "stats_json.h"

#include <cjson/cJSON.h>

#include <cstdlib>
#include <cstring>

#include "redact.h"

namespace connpool {

namespace {

// cJSON stores numbers as doubles: exact for integers below 2^53, which counters of a
// process's lifetime do not reach.
void Num(cJSON* obj, const char* key, double v) { cJSON_AddNumberToObject(obj, key, v); }

void AddHistogram(cJSON* root, const char* key, const HistogramSummary& h) {
  cJSON* o = cJSON_AddObjectToObject(root, key);
  if (o == nullptr) return;
  Num(o, "count", static_cast<double>(h.count));
  Num(o, "p50", static_cast<double>(h.p50));
  Num(o, "p90", static_cast<double>(h.p90));
  Num(o, "p99", static_cast<double>(h.p99));
  Num(o, "p999", static_cast<double>(h.p999));
  Num(o, "max", static_cast<double>(h.max));
}

}  // namespace

char* StatsToJson(const StatsSnapshot& s) {
  cJSON* root = cJSON_CreateObject();
  if (root == nullptr) return nullptr;
  cJSON_AddStringToObject(root, "name", s.name.c_str());
  cJSON_AddStringToObject(root, "version", CONNPOOL_VERSION_STRING);
  cJSON_AddStringToObject(root, "state", HealthName(s.state));
  Num(root, "http_status", HealthHttpStatus(s.state));
  Num(root, "uptime_ms", static_cast<double>(s.uptime_ms));
  Num(root, "state_since_ms", static_cast<double>(s.state_since_ms));

  cJSON* c = cJSON_AddObjectToObject(root, "connections");
  if (c) {
    Num(c, "total", static_cast<double>(s.total));
    Num(c, "idle", static_cast<double>(s.idle));
    Num(c, "in_use", static_cast<double>(s.in_use));
    Num(c, "creating", static_cast<double>(s.creating));
    Num(c, "max_size", static_cast<double>(s.max_size));
    Num(c, "min_idle", static_cast<double>(s.min_idle));
  }
  Num(root, "waiters", static_cast<double>(s.waiters));

  cJSON* k = cJSON_AddObjectToObject(root, "counters");
  if (k) {
    const struct {
      const char* name;
      uint64_t v;
    } counters[] = {
        {"acquired", s.acquired}, {"timeouts", s.timeouts}, {"unavailable", s.unavailable},
        {"overload", s.overload}, {"closed_rejected", s.closed_rejected}, {"created", s.created},
        {"create_failures", s.create_failures}, {"destroyed", s.destroyed},
        {"validation_failures", s.validation_failures}, {"reset_failures", s.reset_failures},
        {"closed_idle", s.closed_idle}, {"closed_lifetime", s.closed_lifetime},
        {"closed_broken", s.closed_broken}, {"closed_max_uses", s.closed_max_uses},
        {"stale_releases", s.stale_releases},
    };
    for (const auto& e : counters) Num(k, e.name, static_cast<double>(e.v));
  }
  AddHistogram(root, "acquire_wait_us", s.acquire_wait_us);
  AddHistogram(root, "lease_hold_us", s.lease_hold_us);
  AddHistogram(root, "create_us", s.create_us);

  cJSON* r = cJSON_AddObjectToObject(root, "retry");
  if (r) {
    Num(r, "consecutive_failures", static_cast<double>(s.consecutive_failures));
    if (s.next_attempt_in_ms >= 0)
      Num(r, "next_attempt_in_ms", static_cast<double>(s.next_attempt_in_ms));
    else
      cJSON_AddNullToObject(r, "next_attempt_in_ms");
    Num(r, "outage_ms", static_cast<double>(s.outage_ms));
  }
  if (s.has_last_error) {
    cJSON* e = cJSON_AddObjectToObject(root, "last_error");
    if (e) {
      cJSON_AddStringToObject(e, "message", Redact(s.last_error_message).c_str());
      Num(e, "code", s.last_error_code);
      Num(e, "age_ms", static_cast<double>(s.last_error_age_ms));
    }
  } else {
    cJSON_AddNullToObject(root, "last_error");
  }
  cJSON* leaks = cJSON_AddArrayToObject(root, "leaks");
  if (leaks) {
    for (const LeakInfo& l : s.leaks) {
      cJSON* o = cJSON_CreateObject();
      if (!o) break;
      Num(o, "lease", static_cast<double>(l.lease));
      Num(o, "held_ms", static_cast<double>(l.held_ms));
      cJSON_AddStringToObject(o, "thread", std::to_string(l.thread).c_str());
      Num(o, "priority", l.priority);
      cJSON_AddItemToArray(leaks, o);
    }
  }
  char* text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return text;
}

namespace {

// Label values escape backslash, double quote and newline (text format 0.0.4).
std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '"') out += "\\\"";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
  return out;
}

void Metric(std::string* out, const char* name, const char* type, const char* help,
            const std::string& labels, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
          name + "{" + labels + "} " + buf + "\n";
}

}  // namespace

char* StatsToPrometheus(const StatsSnapshot& s, const Histogram& wait, uint64_t zero_wait) {
  const std::string pool = "pool=\"" + EscapeLabel(Redact(s.name)) + "\"";
  std::string out;
  Metric(&out, "connpool_up", "gauge", "1 when the pool is ready or degraded, else 0.", pool,
         HealthHttpStatus(s.state) == 200 ? 1 : 0);
  Metric(&out, "connpool_state", "gauge", "Health state code (0 starting .. 5 closed).", pool,
         static_cast<int>(s.state));
  out += "# HELP connpool_connections Connections by state.\n# TYPE connpool_connections gauge\n";
  const struct {
    const char* state;
    uint64_t v;
  } conns[] = {{"idle", s.idle}, {"in_use", s.in_use}, {"creating", s.creating}};
  for (const auto& c : conns)
    out += "connpool_connections{" + pool + ",state=\"" + c.state + "\"} " + std::to_string(c.v) + "\n";
  Metric(&out, "connpool_max_size", "gauge", "Configured max_size.", pool, static_cast<double>(s.max_size));
  Metric(&out, "connpool_waiters", "gauge", "Acquires waiting for a connection.", pool,
         static_cast<double>(s.waiters));
  const struct {
    const char* name;
    const char* help;
    uint64_t v;
  } counters[] = {
      {"connpool_acquired_total", "Acquires that returned a lease.", s.acquired},
      {"connpool_timeouts_total", "Acquires that ended with ETIMEOUT.", s.timeouts},
      {"connpool_unavailable_total", "Acquires that ended with EUNAVAILABLE.", s.unavailable},
      {"connpool_overload_total", "Acquires that ended with EOVERLOAD.", s.overload},
      {"connpool_created_total", "Connections created.", s.created},
      {"connpool_create_failures_total", "Failed creates.", s.create_failures},
      {"connpool_destroyed_total", "Connections destroyed.", s.destroyed},
      {"connpool_validation_failures_total", "Connections that failed validation.", s.validation_failures},
      {"connpool_stale_releases_total", "Releases refused with ESTALE.", s.stale_releases},
  };
  for (const auto& c : counters) Metric(&out, c.name, "counter", c.help, pool, static_cast<double>(c.v));
  Metric(&out, "connpool_consecutive_failures", "gauge", "Creates failed in a row.", pool,
         static_cast<double>(s.consecutive_failures));
  Metric(&out, "connpool_outage_seconds", "gauge", "Seconds since the current outage began (0: none).",
         pool, static_cast<double>(s.outage_ms) / 1000.0);

  out += "# HELP connpool_acquire_wait_seconds Time acquires waited for a lease.\n"
         "# TYPE connpool_acquire_wait_seconds histogram\n";
  static const uint64_t kBoundsUs[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
  for (uint64_t b : kBoundsUs) {
    char le[32];
    snprintf(le, sizeof le, "%g", static_cast<double>(b) / 1e6);
    out += "connpool_acquire_wait_seconds_bucket{" + pool + ",le=\"" + le + "\"} " +
           std::to_string(wait.CountAtMost(b, zero_wait)) + "\n";
  }
  HistogramSummary h = wait.Summarize(zero_wait);
  out += "connpool_acquire_wait_seconds_bucket{" + pool + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  char sum[64];
  snprintf(sum, sizeof sum, "%.17g", static_cast<double>(wait.Sum()) / 1e6);
  out += "connpool_acquire_wait_seconds_sum{" + pool + "} " + sum + "\n";
  out += "connpool_acquire_wait_seconds_count{" + pool + "} " + std::to_string(h.count) + "\n";

  char* text = static_cast<char*>(malloc(out.size() + 1));
  if (text) memcpy(text, out.c_str(), out.size() + 1);
  return text;
}

}  // namespace connpool
