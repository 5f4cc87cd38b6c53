// SPDX-License-Identifier: Apache-2.0
// The pool's counters, in one table. Each row names a monotonic count once; from the table come
// the StatsSnapshot fields, the "counters" object of the stats JSON (in this order), and the
// Prometheus text (a row with a label is one sample of a labelled family; the family's help is
// on its first row). tests/stats/counters_table_test.cpp checks docs/stats.schema.json and the
// rows of docs/STATS.md against it, so adding a counter here and nowhere else fails a test
// instead of shipping an undocumented field.
//
// Why an X-macro and not a constexpr array of member pointers: the rows also declare the
// snapshot's fields, which only the preprocessor can do, and the bindings' typed stats are
// checked against the schema the table is checked against.
#ifndef CONNPOOL_CORE_STATS_COUNTERS_H
#define CONNPOOL_CORE_STATS_COUNTERS_H

#include <atomic>
#include <cstdint>

// X(field, prometheus_name, prometheus_label, help)
//   field             StatsSnapshot member and key under "counters" in the stats JSON
//   prometheus_name   metric name; rows sharing it form one family
//   prometheus_label  "" for a plain counter, else the sample's label of its family
//   help              HELP text (for a family: on its first row, nullptr on the others)
#define CONNPOOL_POOL_COUNTERS(X)                                                \
  X(acquired, "connpool_acquired_total", "", "Acquires that returned a lease.") \
  CONNPOOL_POOL_BUMPED_COUNTERS(X)

// The rows after `acquired`: the counts the pool bumps, one relaxed atomic each in
// PoolCounters. `acquired` is not among them because the hot path bumps no shared counter: it is
// derived from the slot generations (Pool::AcquiredTotal).
#define CONNPOOL_POOL_BUMPED_COUNTERS(X)                                                                         \
  X(timeouts, "connpool_timeouts_total", "", "Acquires that ended with ETIMEOUT.")                              \
  X(unavailable, "connpool_unavailable_total", "", "Acquires that ended with EUNAVAILABLE.")                    \
  X(overload, "connpool_overload_total", "", "Acquires that ended with EOVERLOAD.")                             \
  X(closed_rejected, "connpool_closed_rejected_total", "",                                                      \
    "Acquires that ended with ECLOSED (draining or closed).")                                                   \
  X(canceled, "connpool_canceled_total", "",                                                                    \
    "Acquires that ended with ECANCELED (their cancel token was triggered).")                                   \
  X(created, "connpool_created_total", "", "Connections created.")                                              \
  X(create_failures, "connpool_create_failures_total", "", "Failed creates.")                                   \
  X(destroyed, "connpool_destroyed_total", "", "Connections destroyed.")                                        \
  X(validation_failures, "connpool_validation_failures_total", "", "Connections that failed validation.")       \
  X(reset_failures, "connpool_reset_failures_total", "", "Connections whose reset on release failed.")          \
  X(closed_idle, "connpool_closed_total", "reason=\"idle\"",                                                    \
    "Connections retired, by reason (idle timeout, lifetime, broken or failed validation, max_uses, shrink by " \
    "resize).")                                                                                                 \
  X(closed_lifetime, "connpool_closed_total", "reason=\"lifetime\"", nullptr)                                   \
  X(closed_broken, "connpool_closed_total", "reason=\"broken\"", nullptr)                                       \
  X(closed_max_uses, "connpool_closed_total", "reason=\"max_uses\"", nullptr)                                   \
  X(stale_releases, "connpool_stale_releases_total", "", "Releases refused with ESTALE.")                       \
  X(closed_shrink, "connpool_closed_total", "reason=\"shrink\"", nullptr)                                       \
  X(creates_abandoned, "connpool_abandoned_calls_total", "call=\"create\"",                                     \
    "Factory callbacks given up on after their timeout (create_timeout_ms, validation_timeout_ms, "            \
    "reset_timeout_ms), by callback.")                                                                          \
  X(validations_abandoned, "connpool_abandoned_calls_total", "call=\"validate\"", nullptr)                      \
  X(resets_abandoned, "connpool_abandoned_calls_total", "call=\"reset\"", nullptr)                              \
  X(stalls, "connpool_stalls_total", "",                                                                        \
    "Times the pool was found stalled (no lease back for stall_after_ms while all were out and acquires "      \
    "waited).")

namespace connpool {

struct CounterRow {
  const char* field;
  const char* prometheus_name;
  const char* prometheus_label;
  const char* help;
};

// The table as data, for tests and tools that walk it.
inline constexpr CounterRow kPoolCounterRows[] = {
#define CONNPOOL_COUNTER_ROW(field, name, label, help) {#field, name, label, help},
    CONNPOOL_POOL_COUNTERS(CONNPOOL_COUNTER_ROW)
#undef CONNPOOL_COUNTER_ROW
};

// The live counts behind the bumped rows, one per row and named as the row: `Pool::metrics_.counters.timeouts`
// is what StatsSnapshot::timeouts reads. Relaxed: each is a monotonic count read on its own, and
// no other data is published through it.
struct PoolCounters {
#define CONNPOOL_COUNTER_ATOMIC(field, name, label, help) std::atomic<uint64_t> field{0};
  CONNPOOL_POOL_BUMPED_COUNTERS(CONNPOOL_COUNTER_ATOMIC)
#undef CONNPOOL_COUNTER_ATOMIC

  // Copies every count into the same-named field of `out` (a StatsSnapshot).
  template <typename Snapshot>
  void CopyTo(Snapshot* out) const {
#define CONNPOOL_COUNTER_COPY(field, name, label, help) out->field = field.load(std::memory_order_relaxed);
    CONNPOOL_POOL_BUMPED_COUNTERS(CONNPOOL_COUNTER_COPY)
#undef CONNPOOL_COUNTER_COPY
  }
};

}  // namespace connpool

#endif  // CONNPOOL_CORE_STATS_COUNTERS_H
