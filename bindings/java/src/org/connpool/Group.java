// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A pool group (docs/GROUPS.md): routes acquires over pools by role. Writes go to the
 * {@link Role#PRIMARY}; reads to the least loaded healthy {@link Role#REPLICA}, else the
 * primary; keys to the {@link Role#SHARD} that owns them (consistent hashing). Unavailable
 * members are skipped without waiting. The returned {@link Lease} belongs to the member pool
 * it came from: close it as usual (try-with-resources).
 *
 * <pre>{@code
 * try (Group<Conn> g = new Group<Conn>("orders").add("main", Role.PRIMARY, primary).add("r1", Role.REPLICA, replica);
 *      Lease<Conn> lease = g.acquire(Intent.READ, Duration.ofSeconds(1))) {
 *   lease.get().query("...");
 * }
 * }</pre>
 *
 * The group does not own its pools: {@link #close()} leaves them open, and closing a pool
 * that is still in the group is safe (it is detached). Thread-safe.
 *
 * @param <T> the members' connection type
 */
public final class Group<T> implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final NativeGroup nat;
  // Index = the native member index (add order); adds are serialised by `this`.
  private final List<Pool<T>> members = new CopyOnWriteArrayList<>();

  /** A new, empty group; {@code name} labels it in stats. */
  public Group(String name) {
    if (name == null) throw new PoolConfigException("group name is null");
    NativeGroup g = new NativeGroup(name);
    int rc = g.status();
    if (rc != Status.OK.swigValue()) {
      g.delete();
      throw PoolException.of(rc, "group name must not be empty");
    }
    nat = g;
    NativeGroup ref = g;  // the Cleaner must not capture `this`
    CLEANER.register(this, ref::delete);
  }

  /**
   * Adds {@code pool} as member {@code name} with {@code role}. Throws
   * {@link PoolConfigException} for a taken name, a pool already in a group, a second primary,
   * and {@link PoolClosedException} for a closed group or pool. Returns this group.
   */
  public synchronized Group<T> add(String name, Role role, Pool<T> pool) {
    if (name == null || role == null || pool == null) throw new PoolConfigException("name, role and pool must not be null");
    members.add(pool);  // first, so a concurrent acquire never sees an index we lack
    int rc;
    try {
      rc = nat.add(name, role.swigValue(), pool.nativePool());
    } finally {
      Reference.reachabilityFence(this);
      Reference.reachabilityFence(pool);
    }
    if (rc != Status.OK.swigValue()) {
      members.remove(members.size() - 1);
      throw PoolException.of(rc, rc == Status.EINVAL.swigValue() ? nat.error() : "group add '" + name + "'");
    }
    return this;
  }

  /** A connection for {@code intent} (WRITE: the primary; READ: a replica, else the primary). */
  public Lease<T> acquire(Intent intent, Duration timeout) {
    if (intent == null) throw new PoolConfigException("intent is null");
    long[] lease = new long[1], handle = new long[1];
    int[] member = new int[1];
    int rc;
    try {
      rc = nat.acquire(intent.swigValue(), Pool.millis(timeout), lease, handle, member);
    } finally {
      Reference.reachabilityFence(this);
    }
    return adopt(rc, lease[0], handle[0], member[0]);
  }

  /** A connection from the shard owning {@code key}; no fallback to another shard. */
  public Lease<T> acquireKey(long key, Duration timeout) {
    long[] lease = new long[1], handle = new long[1];
    int[] member = new int[1];
    int rc;
    try {
      rc = nat.acquireKey(key, Pool.millis(timeout), lease, handle, member);
    } finally {
      Reference.reachabilityFence(this);
    }
    return adopt(rc, lease[0], handle[0], member[0]);
  }

  private Lease<T> adopt(int rc, long lease, long handle, int member) {
    if (rc != Status.OK.swigValue())
      throw PoolException.of(rc, rc == Status.EINVAL.swigValue() ? nat.error() : null);
    return members.get(member).adopt(lease, handle);
  }

  /** The group stats document (members with roles, states and stats; totals; counters). */
  public String statsJson() {
    String s;
    try {
      s = nat.statsJson();
    } finally {
      Reference.reachabilityFence(this);
    }
    if (s.isEmpty()) throw new PoolClosedException("no stats for a closed group");
    return s;
  }

  /** The group stats document, typed; each attached member's document as a {@link PoolStats}. */
  public GroupStats stats() {
    return StatsCodec.group(statsJson());
  }

  /**
   * {@link #statsJson()} untyped (maps, lists, Long, Double, Boolean, String, null); what
   * {@code stats()} returned before 1.2.
   *
   * @deprecated use {@link #stats()} (typed) or {@link #statsJson()}
   */
  @Deprecated(since = "1.2.0")
  public Map<String, Object> statsMap() {
    return StatsCodec.map(statsJson());
  }

  /** Frees the group; the member pools stay open. Idempotent. */
  @Override
  public void close() {
    try {
      nat.close();
    } finally {
      Reference.reachabilityFence(this);
    }
  }
}
