// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;

/**
 * A pool's stats document ({@link Pool#stats()}), typed: one component per field of
 * docs/STATS.md, in the same order, named in camelCase ({@code in_use} is {@link
 * Connections#inUse()}). The test StatsTypedTest checks the tree against
 * docs/stats.schema.json and against live documents, field by field.
 *
 * <p>Counts are {@code long}, settings bounded by the configuration ({@code max_size}, ...) are
 * {@code int}. Enumerated values ({@code state}, {@code health_reason}, an adaptive decision's
 * {@code action}) stay the document's strings, so a value added by a newer library decodes
 * too. Fields the document may hold as {@code null} are references ({@code null} then). A
 * field or object missing from the document (an older system library) decodes as 0, false or
 * null; a field this class does not know (a newer one) is ignored.
 */
public record PoolStats(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("state") String state,
    @JsonProperty("http_status") int httpStatus,
    @JsonProperty("uptime_ms") long uptimeMs,
    @JsonProperty("state_since_ms") long stateSinceMs,
    @JsonProperty("connections") Connections connections,
    @JsonProperty("waiters") long waiters,
    @JsonProperty("counters") Counters counters,
    @JsonProperty("acquire_wait_us") Histogram acquireWaitUs,
    @JsonProperty("lease_hold_us") Histogram leaseHoldUs,
    @JsonProperty("create_us") Histogram createUs,
    @JsonProperty("hangs") Hangs hangs,
    @JsonProperty("retry") Retry retry,
    @JsonProperty("health_reason") String healthReason,
    @JsonProperty("last_error") LastError lastError,
    @JsonProperty("adaptive") Adaptive adaptive,
    @JsonProperty("leak_threshold_ms") long leakThresholdMs,
    @JsonProperty("leaks") List<Leak> leaks) {

  public PoolStats {
    leaks = leaks == null ? List.of() : List.copyOf(leaks);
  }

  /** {@code connections}: connections by state (one pass over the slots, so they add up). */
  public record Connections(
      @JsonProperty("total") long total,
      @JsonProperty("idle") long idle,
      @JsonProperty("in_use") long inUse,
      @JsonProperty("creating") long creating,
      @JsonProperty("max_size") int maxSize,
      @JsonProperty("min_idle") int minIdle,
      @JsonProperty("busy") long busy,
      @JsonProperty("max_leases_per_conn") int maxLeasesPerConn) {}

  /** {@code counters}: event counts since the pool was made; they only grow. */
  public record Counters(
      @JsonProperty("acquired") long acquired,
      @JsonProperty("timeouts") long timeouts,
      @JsonProperty("unavailable") long unavailable,
      @JsonProperty("overload") long overload,
      @JsonProperty("closed_rejected") long closedRejected,
      @JsonProperty("canceled") long canceled,
      @JsonProperty("created") long created,
      @JsonProperty("create_failures") long createFailures,
      @JsonProperty("destroyed") long destroyed,
      @JsonProperty("validation_failures") long validationFailures,
      @JsonProperty("reset_failures") long resetFailures,
      @JsonProperty("closed_idle") long closedIdle,
      @JsonProperty("closed_lifetime") long closedLifetime,
      @JsonProperty("closed_broken") long closedBroken,
      @JsonProperty("closed_max_uses") long closedMaxUses,
      @JsonProperty("stale_releases") long staleReleases,
      @JsonProperty("closed_shrink") long closedShrink,
      @JsonProperty("creates_abandoned") long createsAbandoned,
      @JsonProperty("validations_abandoned") long validationsAbandoned,
      @JsonProperty("resets_abandoned") long resetsAbandoned,
      @JsonProperty("stalls") long stalls) {}

  /** {@code acquire_wait_us}, {@code lease_hold_us}, {@code create_us}: microseconds. */
  public record Histogram(
      @JsonProperty("count") long count,
      @JsonProperty("sum") long sum,
      @JsonProperty("p50") long p50,
      @JsonProperty("p90") long p90,
      @JsonProperty("p99") long p99,
      @JsonProperty("p999") long p999,
      @JsonProperty("max") long max) {}

  /** {@code hangs}: a stalled backend and factory callbacks given up on. */
  public record Hangs(
      @JsonProperty("stalled") boolean stalled,
      @JsonProperty("stalled_ms") long stalledMs,
      @JsonProperty("stall_after_ms") long stallAfterMs,
      @JsonProperty("abandoned_calls") long abandonedCalls) {}

  /**
   * {@code retry}: backoff and outage. {@code nextAttemptInMs} is null when no retry is
   * scheduled; {@code createLimit} is null only in a document that lacks it.
   */
  public record Retry(
      @JsonProperty("consecutive_failures") long consecutiveFailures,
      @JsonProperty("next_attempt_in_ms") Long nextAttemptInMs,
      @JsonProperty("outage_ms") long outageMs,
      @JsonProperty("create_limit") @JsonInclude(JsonInclude.Include.NON_NULL) Integer createLimit) {}

  /** {@code last_error}: the most recent failure, redacted. */
  public record LastError(
      @JsonProperty("message") String message,
      @JsonProperty("code") int code,
      @JsonProperty("code_name") String codeName,
      @JsonProperty("age_ms") long ageMs) {}

  /** {@code adaptive}: adaptive sizing (docs/SIZING.md); both decisions may be null. */
  public record Adaptive(
      @JsonProperty("enabled") boolean enabled,
      @JsonProperty("target_wait_ms") long targetWaitMs,
      @JsonProperty("floor") int floor,
      @JsonProperty("last_decision") AdaptiveDecision lastDecision,
      @JsonProperty("last_change") AdaptiveDecision lastChange) {}

  /** One adaptive sizing decision: {@code action} is "hold", "raise" or "lower". */
  public record AdaptiveDecision(
      @JsonProperty("action") String action,
      @JsonProperty("from") long from,
      @JsonProperty("to") long to,
      @JsonProperty("reason") String reason,
      @JsonProperty("age_ms") long ageMs) {}

  /**
   * One entry of {@code leaks}. {@code lease} is the unsigned 64-bit lease as {@link
   * Lease#id()} gives it (the same bits, so above 2^63 it is negative here); {@code thread} is
   * an opaque id.
   */
  public record Leak(
      @JsonProperty("lease") @JsonSerialize(using = StatsCodec.UnsignedLongSerializer.class)
          @JsonDeserialize(using = StatsCodec.UnsignedLongDeserializer.class) long lease,
      @JsonProperty("held_ms") long heldMs,
      @JsonProperty("thread") String thread,
      @JsonProperty("priority") int priority) {}
}
