// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace connpool {

namespace {

constexpr int64_t kMsMax = std::numeric_limits<int32_t>::max();  // ~24.8 days
const char* const kValidateChoices[] = {"always", "idle", "never", nullptr};

KeySpec Str(const char* name, std::string Config::*f, const char* help) {
  return KeySpec{name, KeyKind::kString, 1, static_cast<int64_t>(kMaxNameBytes), 0, 0, nullptr,
                 help, f, nullptr, nullptr, nullptr};
}
KeySpec Int(const char* name, int64_t Config::*f, int64_t lo, int64_t hi, const char* help) {
  return KeySpec{name, KeyKind::kInt, lo, hi, 0, 0, nullptr, help, nullptr, f, nullptr, nullptr};
}
KeySpec Dbl(const char* name, double Config::*f, double lo, double hi, const char* help) {
  return KeySpec{name, KeyKind::kDouble, 0, 0, lo, hi, nullptr, help, nullptr, nullptr, f, nullptr};
}
KeySpec Bool(const char* name, bool Config::*f, const char* help) {
  return KeySpec{name, KeyKind::kBool, 0, 1, 0, 0, nullptr, help, nullptr, nullptr, nullptr, f};
}

const KeySpec kKeys[] = {
    Str("name", &Config::name, "label in stats, metrics and logs"),
    Int("min_idle", &Config::min_idle, 0, kMaxPoolSize,
        "idle connections kept warm by the background threads (as HikariCP minimumIdle); at most max_size"),
    Int("max_size", &Config::max_size, 1, kMaxPoolSize, "hard cap of live connections"),
    Int("acquire_timeout_ms", &Config::acquire_timeout_ms, 0, kMsMax,
        "wait used when an acquire passes a negative timeout"),
    Int("max_waiters", &Config::max_waiters, 0, kMsMax,
        "acquires allowed to wait at once; beyond it EOVERLOAD at once; 0 = unlimited"),
    Int("idle_timeout_ms", &Config::idle_timeout_ms, 0, kMsMax,
        "idle connections above min_idle are closed after this long; 0 = never"),
    Int("max_lifetime_ms", &Config::max_lifetime_ms, 0, kMsMax,
        "connections are retired after this age (minus jitter); 0 = never"),
    Dbl("lifetime_jitter_pct", &Config::lifetime_jitter_pct, 0.0, 50.0,
        "each connection lives up to this % less, so they don't all expire together"),
    Int("max_uses", &Config::max_uses, 0, kMsMax, "retire a connection after N leases; 0 = unlimited"),
    KeySpec{"validate_on_acquire", KeyKind::kChoice, 0, 2, 0, 0, kValidateChoices,
            "when to call validate before handing a connection out: always, idle (only if idle "
            "longer than validation_idle_ms), never",
            nullptr, &Config::validate_on_acquire, nullptr, nullptr},
    Int("validation_idle_ms", &Config::validation_idle_ms, 0, kMsMax,
        "a connection used this recently is trusted without a round trip"),
    Int("validation_timeout_ms", &Config::validation_timeout_ms, 1, kMsMax,
        "an acquire waits this long for the validate of the connection it claimed (validate runs "
        "on a pool thread); a validate that takes longer counts as failed and the connection is "
        "destroyed when it returns"),
    Int("validate_interval_ms", &Config::validate_interval_ms, 0, kMsMax,
        "background keepalive validation of idle connections; 0 = off"),
    Bool("reset_on_release", &Config::reset_on_release, "call reset (if set) on release"),
    Int("leak_threshold_ms", &Config::leak_threshold_ms, 0, kMsMax,
        "leases held longer are listed in stats and logged; 0 = off"),
    Int("maintenance_interval_ms", &Config::maintenance_interval_ms, 10, 3600000,
        "how often the maintenance thread checks idle, lifetime, keepalive, leaks and min_idle"),
    Int("connect_concurrency", &Config::connect_concurrency, 1, 64,
        "creates in flight at once (no thundering herd at startup)"),
    Int("retry_initial_ms", &Config::retry_initial_ms, 1, kMsMax, "first backoff delay"),
    Int("retry_max_ms", &Config::retry_max_ms, 1, kMsMax, "backoff cap"),
    Dbl("retry_multiplier", &Config::retry_multiplier, 1.0, 10.0, "backoff growth per failure"),
    Dbl("retry_jitter", &Config::retry_jitter, 0.0, 1.0, "+/- fraction of each backoff delay"),
    Int("probe_interval_ms", &Config::probe_interval_ms, 0, kMsMax,
        "during an outage, the longest time between two probes whatever the backoff has grown "
        "to, so a returning backend is noticed within this long; the first probe whose backoff "
        "reaches it comes at a random point within it (a fleet spreads out), later ones exactly "
        "this far apart; 0 = probes follow the plain retry_* backoff"),
    KeySpec{"startup_retry", KeyKind::kIntOrForever, 0, kMsMax, 0, 0, nullptr,
            "how long a pool that never connected keeps retrying before it turns unavailable: "
            "forever, or a number of ms",
            nullptr, &Config::startup_retry_ms, nullptr, nullptr},
    Int("unavailable_after_ms", &Config::unavailable_after_ms, 0, kMsMax,
        "after this long of continuous create failure, acquires fail fast with EUNAVAILABLE; "
        "0 = never"),
    Bool("otel_metrics", &Config::otel_metrics,
         "connpool_pool_metrics_text also emits the OpenTelemetry db.client.connection.* metrics "
         "(db_client_connection_*, label pool_name; docs/STATS.md)"),
    Bool("adaptive_sizing", &Config::adaptive_sizing,
         "move the pool's size (warm floor and cap on live connections) between min_idle and "
         "max_size: grow while callers wait and each raise lifts throughput, shrink back to the "
         "knee when hold times rise without it (docs/SIZING.md); false = the floor is min_idle, "
         "the cap max_size"),
    Int("adaptive_target_wait_ms", &Config::adaptive_target_wait_ms, 1, kMsMax,
        "adaptive sizing probes a raise while acquires wait longer than this on average (kept "
        "only if throughput rises), and lowers the size slowly once they wait under half of it"),
    Int("max_leases_per_conn", &Config::max_leases_per_conn, 1, 10000,
        "leases one connection may carry at once (HTTP/2 streams); above 1, acquire shares the "
        "least-loaded connection and creates only when all are full (docs/SIZING.md)"),
    Int("stall_after_ms", &Config::stall_after_ms, 0, kMsMax,
        "every connection leased, acquires waiting or timing out, and no lease back for this long: "
        "the pool reports itself stalled (state degraded, stall.stalled; docs/HEALTH.md); 0 = off"),
    Int("reset_timeout_ms", &Config::reset_timeout_ms, 0, kMsMax,
        "a release waits this long for reset (run on a pool thread); a reset that takes longer is "
        "abandoned: the release returns and the connection is destroyed when reset returns; "
        "0 = reset runs on the releasing thread, unbounded"),
    Int("create_timeout_ms", &Config::create_timeout_ms, 1, kMsMax,
        "a connector waits this long for a create (run on a pool thread); a create that takes "
        "longer counts as a failed create and whatever it returns later is destroyed"),
    Int("close_wait_ms", &Config::close_wait_ms, 0, kMsMax,
        "connpool_pool_free waits this long for callbacks still running on pool threads; a "
        "callback still running then is left to finish on its own (docs/HEALTH.md)"),
};

bool ParseInt(const char* text, int64_t* out) {
  if (*text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || end == text) return false;
  // strtoll skips leading blanks; a key=value pair with blanks is a typo worth refusing.
  if (*text == ' ' || *text == '\t' || *text == '\n') return false;
  *out = v;
  return true;
}

bool ParseDouble(const char* text, double* out) {
  if (*text == '\0' || *text == ' ' || *text == '\t' || *text == '\n') return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool ParseBool(const char* text, bool* out) {
  static const char* const kTrue[] = {"true", "1", "yes", "on"};
  static const char* const kFalse[] = {"false", "0", "no", "off"};
  for (const char* t : kTrue)
    if (strcmp(text, t) == 0) return *out = true, true;
  for (const char* f : kFalse)
    if (strcmp(text, f) == 0) return *out = false, true;
  return false;
}

std::string Quote(const char* value) {
  std::string v(value);
  if (v.size() > 64) v = v.substr(0, 64) + "...";
  return "'" + v + "'";
}

}  // namespace

const KeySpec* ConfigKeys(size_t* count) {
  *count = sizeof(kKeys) / sizeof(kKeys[0]);
  return kKeys;
}

const KeySpec* FindKey(const char* name) {
  for (const KeySpec& k : kKeys)
    if (strcmp(k.name, name) == 0) return &k;
  return nullptr;
}

std::string RangeText(const KeySpec& k) {
  switch (k.kind) {
    case KeyKind::kString:
      return "a string of 1.." + std::to_string(k.max) + " bytes";
    case KeyKind::kInt:
      return std::to_string(k.min) + ".." + std::to_string(k.max);
    case KeyKind::kDouble: {
      char buf[64];
      snprintf(buf, sizeof buf, "%g..%g", k.dmin, k.dmax);
      return buf;
    }
    case KeyKind::kBool:
      return "true or false";
    case KeyKind::kChoice: {
      std::string s;
      for (const char* const* c = k.choices; *c; ++c) s += (s.empty() ? "" : ", ") + std::string(*c);
      return s;
    }
    case KeyKind::kIntOrForever:
      return "forever or " + std::to_string(k.min) + ".." + std::to_string(k.max);
  }
  return "";
}

Status SetConfigValue(Config* cfg, const char* key, const char* value, std::string* err) {
  if (cfg == nullptr || key == nullptr || value == nullptr) {
    *err = "config, key and value must not be NULL";
    return Status::kEINVAL;
  }
  const KeySpec* k = FindKey(key);
  if (k == nullptr) {
    std::string shown(key);
    if (shown.size() > 64) shown = shown.substr(0, 64) + "...";
    *err = "unknown configuration key '" + shown + "'";
    return Status::kEINVAL;
  }
  auto bad = [&](const char* what) {
    *err = std::string(k->name) + ": " + Quote(value) + " " + what + " (allowed: " + RangeText(*k) + ")";
    return Status::kEINVAL;
  };
  switch (k->kind) {
    case KeyKind::kString: {
      size_t n = strlen(value);
      if (n < static_cast<size_t>(k->min) || n > static_cast<size_t>(k->max)) return bad("has a bad length");
      cfg->*(k->str_field) = value;
      return Status::kOK;
    }
    case KeyKind::kInt: {
      int64_t v;
      if (!ParseInt(value, &v)) return bad("is not an integer");
      if (v < k->min || v > k->max) return bad("is out of range");
      cfg->*(k->int_field) = v;
      return Status::kOK;
    }
    case KeyKind::kIntOrForever: {
      if (strcmp(value, "forever") == 0) {
        cfg->*(k->int_field) = -1;
        return Status::kOK;
      }
      int64_t v;
      if (!ParseInt(value, &v)) return bad("is neither 'forever' nor an integer");
      if (v < k->min || v > k->max) return bad("is out of range");
      cfg->*(k->int_field) = v;
      return Status::kOK;
    }
    case KeyKind::kDouble: {
      double v;
      if (!ParseDouble(value, &v)) return bad("is not a number");
      if (v < k->dmin || v > k->dmax) return bad("is out of range");
      cfg->*(k->double_field) = v;
      return Status::kOK;
    }
    case KeyKind::kBool: {
      bool v;
      if (!ParseBool(value, &v)) return bad("is not a boolean");
      cfg->*(k->bool_field) = v;
      return Status::kOK;
    }
    case KeyKind::kChoice: {
      int64_t i = 0;
      for (const char* const* c = k->choices; *c; ++c, ++i) {
        if (strcmp(*c, value) == 0) {
          cfg->*(k->int_field) = i;
          return Status::kOK;
        }
      }
      return bad("is not a valid choice");
    }
  }
  return Status::kEINTERNAL;
}

std::string ConfigValueText(const Config& cfg, const KeySpec& k) {
  switch (k.kind) {
    case KeyKind::kString: return cfg.*(k.str_field);
    case KeyKind::kInt: return std::to_string(cfg.*(k.int_field));
    case KeyKind::kIntOrForever: {
      int64_t v = cfg.*(k.int_field);
      return v < 0 ? "forever" : std::to_string(v);
    }
    case KeyKind::kDouble: {
      char buf[64];
      snprintf(buf, sizeof buf, "%g", cfg.*(k.double_field));
      return buf;
    }
    case KeyKind::kBool: return cfg.*(k.bool_field) ? "true" : "false";
    case KeyKind::kChoice: return k.choices[cfg.*(k.int_field)];
  }
  return "";
}

Status CheckConfig(const Config& cfg, std::string* err) {
  if (cfg.min_idle > cfg.max_size) {
    *err = "min_idle (" + std::to_string(cfg.min_idle) + ") must not exceed max_size (" +
           std::to_string(cfg.max_size) + ")";
    return Status::kEINVAL;
  }
  if (cfg.retry_initial_ms > cfg.retry_max_ms) {
    *err = "retry_initial_ms (" + std::to_string(cfg.retry_initial_ms) +
           ") must not exceed retry_max_ms (" + std::to_string(cfg.retry_max_ms) + ")";
    return Status::kEINVAL;
  }
  return Status::kOK;
}

}  // namespace connpool
