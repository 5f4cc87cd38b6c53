// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.util.Map;

/** Figures from a DataSource's stats document (docs/STATS.md); one instance is one snapshot. */
final class Stats {
  private final Map<String, Object> doc;

  private Stats(Map<String, Object> doc) {
    this.doc = doc;
  }

  static Stats of(PooledDataSource ds) {
    return new Stats(ds.stats());
  }

  static long counter(PooledDataSource ds, String name) {
    return of(ds).counter(name);
  }

  static long connections(PooledDataSource ds, String name) {
    return of(ds).connections(name);
  }

  long counter(String name) {
    return get("counters", name);
  }

  long connections(String name) {
    return get("connections", name);
  }

  @SuppressWarnings("unchecked")
  private long get(String section, String name) {
    Map<String, Object> s = (Map<String, Object>) doc.get(section);
    return ((Number) s.get(name)).longValue();
  }
}
