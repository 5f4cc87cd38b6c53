// SPDX-License-Identifier: Apache-2.0
// Renders a StatsSnapshot as the stats JSON of DESIGN.md §5 (documented field by field in
// docs/STATS.md, checked against docs/stats.schema.json by tests/stats) and as Prometheus
// text exposition format 0.0.4.
//
// Both are pure functions of their inputs: they never touch the pool or its backend. Every
// text taken from the pool (its name, the last error) passes through Redact() and is made
// valid UTF-8 (invalid bytes become U+FFFD), so the output is always valid JSON / valid
// exposition text whatever bytes a name or a factory's error message holds.
#ifndef CONNPOOL_CORE_STATS_JSON_H
#define CONNPOOL_CORE_STATS_JSON_H

#include <cstdint>
#include <string>
#include <string_view>

#include "pool/pool.h"
#include "stats/histogram.h"

namespace connpool {

// malloc'ed text (free with free(), i.e. connpool_free), or NULL when out of memory.
char* StatsToJson(const StatsSnapshot& s);
// `acquire_wait_us` is the pool's live histogram: one reading of its buckets becomes the
// connpool_acquire_wait_seconds histogram, with `zero_wait_acquires` (acquires the pool did
// not record there because they never waited) added as zero waits. Every bucket, _sum and
// _count is then as monotonic as the histogram and `zero_wait_acquires` are, and le="+Inf"
// equals _count.
char* StatsToPrometheus(const StatsSnapshot& s, const Histogram& acquire_wait_us,
                        uint64_t zero_wait_acquires);

// Replaces every byte that does not start a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF included) with U+FFFD.
std::string ValidUtf8(std::string_view text);

}  // namespace connpool

#endif
