// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;

namespace ConnPool
{
    /// <summary>
    /// The stats document (docs/STATS.md, docs/stats.schema.json) as objects:
    /// <c>pool.Stats().Connections.InUse</c>. One class per JSON object, one property per field,
    /// named as the field in .NET casing; <see cref="Pool{T}.StatsJson"/> is the raw text.
    /// </summary>
    /// <remarks>
    /// Decoded with the framework's DataContractJsonSerializer. Fields a newer library adds are
    /// ignored (the schema only ever grows). Integers are 64-bit and exact; a lease is a
    /// <c>ulong</c> (compare with <c>(ulong)lease.Id</c>). Fields that may be JSON null are
    /// nullable (<c>long?</c>) or null references. The test StatsTest checks every field of a
    /// live document and of the schema against these classes.
    /// </remarks>
    [DataContract]
    public sealed class PoolStats
    {
        private static readonly DataContractJsonSerializer Serializer = new DataContractJsonSerializer(typeof(PoolStats));

        /// <summary>Decodes a stats document (<see cref="Pool{T}.StatsJson"/>).</summary>
        /// <exception cref="PoolException">not a stats document (EINVAL)</exception>
        public static PoolStats Parse(string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            try
            {
                using (var s = new MemoryStream(Encoding.UTF8.GetBytes(json)))
                    return (PoolStats)Serializer.ReadObject(s);
            }
            catch (SerializationException e)
            {
                throw PoolException.From((int)Status.EINVAL, "stats JSON: " + e.Message);
            }
        }

        [DataMember(Name = "name")] public string Name { get; private set; }
        [DataMember(Name = "version")] public string Version { get; private set; }
        /// <summary>"starting", "ready", "degraded", "unavailable", "draining" or "closed".</summary>
        [DataMember(Name = "state")] public string State { get; private set; }
        [DataMember(Name = "http_status")] public int HttpStatus { get; private set; }
        [DataMember(Name = "uptime_ms")] public long UptimeMs { get; private set; }
        [DataMember(Name = "state_since_ms")] public long StateSinceMs { get; private set; }
        [DataMember(Name = "connections")] public ConnectionStats Connections { get; private set; }
        [DataMember(Name = "waiters")] public long Waiters { get; private set; }
        [DataMember(Name = "counters")] public CounterStats Counters { get; private set; }
        [DataMember(Name = "acquire_wait_us")] public Histogram AcquireWaitUs { get; private set; }
        [DataMember(Name = "lease_hold_us")] public Histogram LeaseHoldUs { get; private set; }
        [DataMember(Name = "create_us")] public Histogram CreateUs { get; private set; }
        [DataMember(Name = "hangs")] public HangStats Hangs { get; private set; }
        [DataMember(Name = "retry")] public RetryStats Retry { get; private set; }
        /// <summary>"outage", "capacity", "fatal", "stalled", or null.</summary>
        [DataMember(Name = "health_reason")] public string HealthReason { get; private set; }
        /// <summary>Null when no create has failed.</summary>
        [DataMember(Name = "last_error")] public ErrorInfo LastError { get; private set; }
        [DataMember(Name = "adaptive")] public AdaptiveStats Adaptive { get; private set; }
        [DataMember(Name = "leak_threshold_ms")] public long LeakThresholdMs { get; private set; }
        [DataMember(Name = "leaks")] public Leak[] Leaks { get; private set; }

        [DataContract]
        public sealed class ConnectionStats
        {
            [DataMember(Name = "total")] public long Total { get; private set; }
            [DataMember(Name = "idle")] public long Idle { get; private set; }
            [DataMember(Name = "in_use")] public long InUse { get; private set; }
            [DataMember(Name = "creating")] public long Creating { get; private set; }
            [DataMember(Name = "max_size")] public long MaxSize { get; private set; }
            [DataMember(Name = "min_idle")] public long MinIdle { get; private set; }
            [DataMember(Name = "busy")] public long Busy { get; private set; }
            [DataMember(Name = "max_leases_per_conn")] public long MaxLeasesPerConn { get; private set; }
        }

        [DataContract]
        public sealed class CounterStats
        {
            [DataMember(Name = "acquired")] public long Acquired { get; private set; }
            [DataMember(Name = "timeouts")] public long Timeouts { get; private set; }
            [DataMember(Name = "unavailable")] public long Unavailable { get; private set; }
            [DataMember(Name = "overload")] public long Overload { get; private set; }
            [DataMember(Name = "closed_rejected")] public long ClosedRejected { get; private set; }
            [DataMember(Name = "canceled")] public long Canceled { get; private set; }
            [DataMember(Name = "created")] public long Created { get; private set; }
            [DataMember(Name = "create_failures")] public long CreateFailures { get; private set; }
            [DataMember(Name = "destroyed")] public long Destroyed { get; private set; }
            [DataMember(Name = "validation_failures")] public long ValidationFailures { get; private set; }
            [DataMember(Name = "reset_failures")] public long ResetFailures { get; private set; }
            [DataMember(Name = "closed_idle")] public long ClosedIdle { get; private set; }
            [DataMember(Name = "closed_lifetime")] public long ClosedLifetime { get; private set; }
            [DataMember(Name = "closed_broken")] public long ClosedBroken { get; private set; }
            [DataMember(Name = "closed_max_uses")] public long ClosedMaxUses { get; private set; }
            [DataMember(Name = "stale_releases")] public long StaleReleases { get; private set; }
            [DataMember(Name = "closed_shrink")] public long ClosedShrink { get; private set; }
            [DataMember(Name = "creates_abandoned")] public long CreatesAbandoned { get; private set; }
            [DataMember(Name = "validations_abandoned")] public long ValidationsAbandoned { get; private set; }
            [DataMember(Name = "resets_abandoned")] public long ResetsAbandoned { get; private set; }
            [DataMember(Name = "stalls")] public long Stalls { get; private set; }
        }

        /// <summary>acquire_wait_us, lease_hold_us, create_us: microseconds.</summary>
        [DataContract]
        public sealed class Histogram
        {
            [DataMember(Name = "count")] public long Count { get; private set; }
            [DataMember(Name = "sum")] public long Sum { get; private set; }
            [DataMember(Name = "p50")] public long P50 { get; private set; }
            [DataMember(Name = "p90")] public long P90 { get; private set; }
            [DataMember(Name = "p99")] public long P99 { get; private set; }
            [DataMember(Name = "p999")] public long P999 { get; private set; }
            [DataMember(Name = "max")] public long Max { get; private set; }
        }

        [DataContract]
        public sealed class HangStats
        {
            [DataMember(Name = "stalled")] public bool Stalled { get; private set; }
            [DataMember(Name = "stalled_ms")] public long StalledMs { get; private set; }
            [DataMember(Name = "stall_after_ms")] public long StallAfterMs { get; private set; }
            [DataMember(Name = "abandoned_calls")] public long AbandonedCalls { get; private set; }
        }

        [DataContract]
        public sealed class RetryStats
        {
            [DataMember(Name = "consecutive_failures")] public long ConsecutiveFailures { get; private set; }
            /// <summary>Null when no retry is scheduled.</summary>
            [DataMember(Name = "next_attempt_in_ms")] public long? NextAttemptInMs { get; private set; }
            [DataMember(Name = "outage_ms")] public long OutageMs { get; private set; }
            [DataMember(Name = "create_limit")] public long CreateLimit { get; private set; }
        }

        [DataContract]
        public sealed class ErrorInfo
        {
            [DataMember(Name = "message")] public string Message { get; private set; }
            [DataMember(Name = "code")] public int Code { get; private set; }
            [DataMember(Name = "code_name")] public string CodeName { get; private set; }
            [DataMember(Name = "age_ms")] public long AgeMs { get; private set; }
        }

        [DataContract]
        public sealed class AdaptiveStats
        {
            [DataMember(Name = "enabled")] public bool Enabled { get; private set; }
            [DataMember(Name = "target_wait_ms")] public long TargetWaitMs { get; private set; }
            [DataMember(Name = "floor")] public long Floor { get; private set; }
            /// <summary>Null before the first decision.</summary>
            [DataMember(Name = "last_decision")] public AdaptiveDecision LastDecision { get; private set; }
            /// <summary>Null before the first change of max_size.</summary>
            [DataMember(Name = "last_change")] public AdaptiveDecision LastChange { get; private set; }
        }

        [DataContract]
        public sealed class AdaptiveDecision
        {
            /// <summary>"hold", "raise" or "lower".</summary>
            [DataMember(Name = "action")] public string Action { get; private set; }
            [DataMember(Name = "from")] public long From { get; private set; }
            [DataMember(Name = "to")] public long To { get; private set; }
            [DataMember(Name = "reason")] public string Reason { get; private set; }
            [DataMember(Name = "age_ms")] public long AgeMs { get; private set; }
        }

        /// <summary>A lease held longer than leak_threshold_ms right now.</summary>
        [DataContract]
        public sealed class Leak
        {
            [DataMember(Name = "lease")] public ulong Lease { get; private set; }
            [DataMember(Name = "held_ms")] public long HeldMs { get; private set; }
            /// <summary>The acquiring thread's id, as decimal text.</summary>
            [DataMember(Name = "thread")] public string Thread { get; private set; }
            [DataMember(Name = "priority")] public int Priority { get; private set; }
        }
    }
}
