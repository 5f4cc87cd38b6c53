// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A pool group's stats document ({@link Group#stats()}), typed: one component per field of
 * docs/GROUPS.md's document (docs/group_stats.schema.json), camelCase, with each attached
 * member's own document as a {@link PoolStats}. Decoded as {@link PoolStats} is: strings for
 * enumerated values ({@code role}, {@code state}), unknown fields ignored.
 */
public record GroupStats(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("writable") boolean writable,
    @JsonProperty("readable") boolean readable,
    @JsonProperty("counters") Counters counters,
    @JsonProperty("totals") Totals totals,
    @JsonProperty("last_error") String lastError,
    @JsonProperty("members") List<Member> members) {

  public GroupStats {
    members = members == null ? List.of() : List.copyOf(members);
  }

  /** {@code counters}: the group's routing counts. */
  public record Counters(
      @JsonProperty("acquired") long acquired,
      @JsonProperty("read_fallbacks") long readFallbacks,
      @JsonProperty("skipped_unavailable") long skippedUnavailable,
      @JsonProperty("timeouts") long timeouts,
      @JsonProperty("unavailable") long unavailable,
      @JsonProperty("closed") long closed,
      @JsonProperty("overload") long overload,
      @JsonProperty("factory_errors") long factoryErrors,
      @JsonProperty("invalid") long invalid) {}

  /** {@code totals}: member counts and sums over the attached members. */
  public record Totals(
      @JsonProperty("members") long members,
      @JsonProperty("attached") long attached,
      @JsonProperty("serving") long serving,
      @JsonProperty("connections") Connections connections,
      @JsonProperty("waiters") long waiters,
      @JsonProperty("acquired") long acquired) {

    /** {@code totals.connections}: the members' {@code connections}, summed. */
    public record Connections(
        @JsonProperty("total") long total,
        @JsonProperty("idle") long idle,
        @JsonProperty("in_use") long inUse,
        @JsonProperty("creating") long creating,
        @JsonProperty("max_size") long maxSize) {}
  }

  /**
   * One member, in add order. {@code role} is "primary", "replica" or "shard"; {@code stats}
   * is null once detached.
   */
  public record Member(
      @JsonProperty("name") String name,
      @JsonProperty("role") String role,
      @JsonProperty("attached") boolean attached,
      @JsonProperty("state") String state,
      @JsonProperty("acquired") long acquired,
      @JsonProperty("stats") PoolStats stats) {}
}
