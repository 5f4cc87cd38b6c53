// Renders a StatsSnapshot as the stats JSON of DESIGN.md §5 (docs/STATS.md) and as Prometheus
// text format 0.0.4.
#ifndef CONNPOOL_CORE_STATS_JSON_H
#define CONNPOOL_CORE_STATS_JSON_H

#include "histogram.h"
#include "pool.h"

namespace connpool {

// malloc'ed text (free with free()), or NULL when out of memory.
char* StatsToJson(const StatsSnapshot& s);
char* StatsToPrometheus(const StatsSnapshot& s, const Histogram& acquire_wait_us,
                        uint64_t zero_wait_acquires);

}  // namespace connpool

#endif
