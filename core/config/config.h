// SPDX-License-Identifier: Apache-2.0
// Pool settings and the one table of keys that validates them, serialises them and documents
// them (docs/CONFIGURATION.md is checked against ConfigKeys() by a test).
#ifndef CONNPOOL_CORE_CONFIG_H
#define CONNPOOL_CORE_CONFIG_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/status.h"

namespace connpool {

enum class ValidateMode : int64_t { kAlways = 0, kIdle = 1, kNever = 2 };

// Longest accepted pool name and string value; keeps stats, logs and metric labels bounded.
inline constexpr size_t kMaxNameBytes = 256;
// Longest JSON configuration document accepted (a full config is well under 2 KiB).
inline constexpr size_t kMaxConfigJsonBytes = 64 * 1024;
// Hard cap of max_size; the lease format reserves 17 bits for the slot index.
inline constexpr int64_t kMaxPoolSize = 100000;

// Plain settings with the defaults of DESIGN.md §3. -1 in startup_retry_ms means "forever".
struct Config {
  std::string name = "default";
  int64_t min_idle = 0;
  int64_t max_size = 10;
  int64_t acquire_timeout_ms = 30000;
  int64_t max_waiters = 0;
  int64_t idle_timeout_ms = 600000;
  int64_t max_lifetime_ms = 1800000;
  double lifetime_jitter_pct = 2.5;
  int64_t max_uses = 0;
  int64_t validate_on_acquire = static_cast<int64_t>(ValidateMode::kIdle);
  int64_t validation_idle_ms = 500;
  int64_t validation_timeout_ms = 5000;
  int64_t validate_interval_ms = 0;
  bool reset_on_release = true;
  int64_t leak_threshold_ms = 0;
  int64_t maintenance_interval_ms = 1000;
  int64_t connect_concurrency = 2;
  int64_t retry_initial_ms = 1000;
  int64_t retry_max_ms = 60000;
  double retry_multiplier = 2.0;
  double retry_jitter = 0.2;
  // Cap on the time between outage probes (docs/HEALTH.md); 0 = probes follow the plain backoff.
  int64_t probe_interval_ms = 1000;
  int64_t startup_retry_ms = -1;
  int64_t unavailable_after_ms = 30000;
  bool adaptive_sizing = false;
  int64_t adaptive_target_wait_ms = 20;
  int64_t max_leases_per_conn = 1;
  bool otel_metrics = false;
  // Hangs (docs/HEALTH.md, "Failure modes"): bounds on a callback that never returns, and the
  // age at which a pool whose leases stopped coming back reports itself stalled.
  int64_t stall_after_ms = 10000;
  int64_t reset_timeout_ms = 5000;
  int64_t create_timeout_ms = 30000;
  int64_t close_wait_ms = 5000;

  ValidateMode validate_mode() const { return static_cast<ValidateMode>(validate_on_acquire); }
};

enum class KeyKind { kString, kInt, kDouble, kBool, kChoice, kIntOrForever };

// One row of the key table.
struct KeySpec {
  const char* name;
  KeyKind kind;
  int64_t min;  // kInt / kIntOrForever range
  int64_t max;
  double dmin;  // kDouble range
  double dmax;
  const char* const* choices;  // kChoice: NULL-terminated names; the value is the index
  const char* help;
  std::string Config::*str_field;
  int64_t Config::*int_field;
  double Config::*double_field;
  bool Config::*bool_field;
};

// The table, in documentation order; `*count` receives its length.
const KeySpec* ConfigKeys(size_t* count);
const KeySpec* FindKey(const char* name);

// Sets `key` from its text form. On failure the config is unchanged and `err` names the key
// and the allowed range.
Status SetConfigValue(Config* cfg, const char* key, const char* value, std::string* err);
// The effective value of a key as text (as SetConfigValue accepts it).
std::string ConfigValueText(const Config& cfg, const KeySpec& spec);
// The allowed range of a key as text, e.g. "1..100000" or "always, idle, never".
std::string RangeText(const KeySpec& spec);
// Cross-key rules (min_idle <= max_size, retry_initial_ms <= retry_max_ms).
Status CheckConfig(const Config& cfg, std::string* err);

// JSON object of keys -> Config. Values may be numbers, booleans or strings.
Status ConfigFromJson(const char* json, Config* out, std::string* err);
// Every effective value in its natural JSON type; NULL when out of memory. Caller frees
// with free().
char* ConfigToJson(const Config& cfg);

}  // namespace connpool

#endif
