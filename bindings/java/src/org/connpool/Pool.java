// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * A connection pool over libconnpool, with connections made by your {@link ConnectionFactory}.
 *
 * <pre>{@code
 * try (Pool<Conn> pool = Pool.builder(new MyFactory()).maxSize(10).minIdle(2).build()) {
 *   try (Lease<Conn> lease = pool.acquire(Duration.ofSeconds(2))) {
 *     lease.get().query("...");
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safe. Failures are {@link PoolException}s ({@link PoolTimeoutException},
 * {@link PoolUnavailableException}, ...). {@link #close()} drains the pool: waiting acquires
 * fail with {@link PoolClosedException}, idle connections are destroyed, background threads
 * stop; leases still out stay valid and their connections are destroyed when they come back.
 * A pool that becomes unreachable without close() is closed by a Cleaner; it never keeps the
 * JVM from exiting (its native threads are daemon threads to Java).
 *
 * <p>Do not call {@link #close()} from inside a factory callback.
 *
 * @param <T> your connection type
 */
public final class Pool<T> implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final NativePool nat;
  /** The native pool's address, for the hand-written JNI hot path (FastPath); nat keeps it alive. */
  private final long ptr;
  private final FactoryAdapter<T> adapter;

  private Pool(NativeConfig config, ConnectionFactory<T> factory) {
    if (factory == null) throw new PoolConfigException("factory is null");
    adapter = new FactoryAdapter<>(factory);
    // The native pool owns the director from here on (a strong JNI reference until its last
    // callback); without this the adapter could be collected while the pool still calls it.
    adapter.swigReleaseOwnership();
    NativePool p = new NativePool(config, adapter);
    int rc = p.status();
    if (rc != Status.OK.swigValue()) {
      String err = p.error();
      p.delete();
      throw PoolException.of(rc, err);
    }
    nat = p;
    ptr = FastPath.pointer(p);
    // Must not capture `this`: it runs once the pool is unreachable.
    CLEANER.register(this, new Release(p));
  }

  private static final class Release implements Runnable {
    private final NativePool nat;

    Release(NativePool nat) {
      this.nat = nat;
    }

    @Override
    public void run() {
      nat.delete();  // closes first when close() was never called
    }
  }

  /** Starts a builder; settings are the configuration keys of docs/CONFIGURATION.md. */
  public static <T> Builder<T> builder(ConnectionFactory<T> factory) {
    return new Builder<>(factory);
  }

  /** A pool from a map of configuration keys to values (numbers, booleans, strings, Durations as ms). */
  public static <T> Pool<T> create(ConnectionFactory<T> factory, Map<String, ?> config) {
    Builder<T> b = builder(factory);
    if (config != null) config.forEach(b::set);
    return b.build();
  }

  /** Borrows a connection, waiting up to the configured acquire_timeout_ms. */
  public Lease<T> acquire() {
    return acquire(-1, 0);
  }

  /** Borrows a connection, waiting up to {@code timeout} ({@link Duration#ZERO}: do not wait). */
  public Lease<T> acquire(Duration timeout) {
    return acquire(millis(timeout), 0);
  }

  /** As {@link #acquire(Duration)}; higher priority waiters are served first. */
  public Lease<T> acquire(Duration timeout, int priority) {
    return acquire(millis(timeout), priority);
  }

  private static final int OK = Status.OK.swigValue();
  private static final int PENDING = Status.PENDING.swigValue();
  private static final int CANCELED = Status.ECANCELED.swigValue();
  private static final int STALE = Status.ESTALE.swigValue();
  /**
   * Per thread: its cancel token for blocking acquires, replaced once an interrupt triggered
   * it, and the 8 bytes the native acquire writes the lease into (so that one call returns
   * both the connection's handle and its lease, and a cycle allocates nothing for them).
   */
  private static final class ThreadState {
    CancelHandle cancel;
    /** cancel's native token address (0: none), for FastPath.acquire. */
    long cancelPtr;
    // A cache line of its own: the native acquire stores into it on every call, and a buffer
    // that shared its line with another thread's would bounce between cores.
    final ByteBuffer leaseOut = ByteBuffer.allocateDirect(128).alignedSlice(64).order(ByteOrder.nativeOrder());
    final long leaseOutPtr = FastPath.address(leaseOut);

    ThreadState() {
      if (leaseOutPtr == 0) throw new UnsupportedOperationException("this JVM gives no address for direct buffers");
    }

    CancelHandle renew() {
      CancelHandle c = new CancelHandle();
      cancel = c;
      cancelPtr = FastPath.pointer(c.token());
      return c;
    }

    void drop() {
      cancel = null;
      cancelPtr = 0;
    }
  }

  private static final ThreadLocal<ThreadState> THREAD_STATE = ThreadLocal.withInitial(ThreadState::new);

  private Lease<T> acquire(long timeoutMs, int priority) {
    if (timeoutMs == 0) return acquireBlocking(timeoutMs, priority);
    ThreadState state = THREAD_STATE.get();
    try {
      CancelHandle cancel = state.cancel;
      if (cancel == null) cancel = state.renew();
      // The asynchronous call serves a free connection at once, like connpool_acquire; only a
      // wait goes through the dispatcher, so the waiting thread parks in Java, where an
      // interrupt reaches it (a thread blocked in native code would not notice one).
      // One number back: the connection's handle, with its lease in the thread's leaseOut, or
      // minus the status with the ticket above it.
      long r = FastPath.acquire(ptr, timeoutMs, priority, state.cancelPtr, state.leaseOutPtr);
      if (r > 0) return adopt(state.leaseOut.getLong(0), r);
      long v = -r;
      int rc = (int) (v & 0xff);
      if (rc != PENDING) throw failure(rc);
      return awaitPending(v >>> 8, cancel, state);
    } finally {
      // The Cleaner must not free the native pool while a call on it is running.
      Reference.reachabilityFence(this);
    }
  }

  // The plain blocking call, for timeout 0: it never waits for another lease (nothing to
  // interrupt) and, unlike the asynchronous call, still opens a connection when the pool has
  // room.
  private Lease<T> acquireBlocking(long timeoutMs, int priority) {
    long[] leaseAndHandle = new long[2];
    try {
      int rc = nat.acquireInto(timeoutMs, priority, leaseAndHandle);
      if (rc != OK) throw failure(rc);
      return adopt(leaseAndHandle[0], leaseAndHandle[1]);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  private Lease<T> awaitPending(long ticket, CancelHandle cancel, ThreadState state) {
    Thread me = Thread.currentThread();
    ParkedAcquire wait = new ParkedAcquire(this, cancel, me);
    adapter.await(ticket, wait);
    if (!wait.await()) {
      cancel.trigger();
      if (wait.abandon()) {
        // The outcome, when it comes, gives its lease back and frees the token.
        state.drop();
        throw new PoolInterruptedException("interrupted while waiting; " + nat.explain(CANCELED));
      }
      // The outcome arrived as we were interrupted: take it (the flag stays set).
    }
    if (cancel.triggered()) {  // spent: the next acquire of this thread needs a new token
      state.drop();
      cancel.free();
    }
    int rc = wait.status();
    if (rc == OK) return adopt(wait.lease(), wait.handle());
    if (rc == CANCELED) throw new PoolInterruptedException("interrupted while waiting; " + nat.explain(CANCELED));
    throw failure(rc);
  }

  /**
   * Borrows a connection without blocking the caller: the future completes with the lease, or
   * with the {@link PoolException} acquire would have thrown, on the common ForkJoinPool.
   * {@code cancel(true)} ends the wait; a lease that was handed over just before the cancel is
   * given back, never leaked.
   */
  public CompletableFuture<Lease<T>> acquireAsync(Duration timeout) {
    return acquireAsync(timeout, 0, ForkJoinPool.commonPool());
  }

  /**
   * As {@link #acquireAsync(Duration)}, with a priority, completing the future on
   * {@code executor} (never on the pool's own thread, so chained stages cannot stall the pool).
   */
  public CompletableFuture<Lease<T>> acquireAsync(Duration timeout, int priority, Executor executor) {
    if (executor == null) throw new NullPointerException("executor");
    long[] out = new long[3];
    CancelHandle cancel = new CancelHandle();
    try {
      int rc = nat.acquireAsyncInto(millis(timeout), priority, cancel.token(), out);
      if (rc == PENDING) {
        LeaseFuture<T> f = new LeaseFuture<>(this, cancel, executor);
        adapter.await(out[2], f);
        return f;
      }
      cancel.free();
      if (rc == OK) return CompletableFuture.completedFuture(adopt(out[0], out[1]));
      return CompletableFuture.failedFuture(failure(rc));
    } catch (PoolException e) {
      return CompletableFuture.failedFuture(e);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The exception for a failed acquire, with the pool's own account of why (explain line). */
  PoolException failure(int rc) {
    String why;
    try {
      why = nat.explain(rc);
    } finally {
      Reference.reachabilityFence(this);
    }
    return PoolException.of(rc, why);
  }

  /**
   * Gives {@code lease} back by its value. CONNPOOL_ESTALE (the pool's compare-and-swap
   * refused a lease that is back already, and nothing changed) is returned, not thrown, for
   * {@link Lease}'s close to ignore; other failures throw.
   */
  int release(long lease, boolean broken) {
    int rc;
    try {
      rc = FastPath.release(ptr, lease, broken ? 1 : 0);
    } finally {
      Reference.reachabilityFence(this);
    }
    if (rc != 0 && rc != STALE) throw PoolException.of(rc, "release of lease " + Long.toUnsignedString(lease));
    return rc;
  }

  /** Waits until the pool is ready or degraded. */
  public void awaitReady(Duration timeout) {
    int rc;
    try {
      rc = nat.waitReady(millis(timeout));
    } finally {
      Reference.reachabilityFence(this);
    }
    if (rc != 0) throw PoolException.of(rc, "state " + state());
  }

  /**
   * Stops new acquires, destroys idle connections and waits up to {@code deadline} for leases
   * to come back. True when none remain (the pool is then closed).
   */
  public boolean drain(Duration deadline) {
    int rc;
    try {
      rc = nat.drain(millis(deadline));
    } finally {
      Reference.reachabilityFence(this);
    }
    if (rc == Status.OK.swigValue()) return true;
    if (rc == Status.ETIMEOUT.swigValue()) return false;
    throw PoolException.of(rc, "drain");
  }

  /**
   * Changes min_idle and max_size at run time (docs/SIZING.md). Growing takes effect at once
   * (waiters get new connections); shrinking closes idle connections now and leased ones as
   * they come back, never taking a lease away.
   *
   * @throws PoolConfigException a size out of range (min_idle 0..100000, max_size 1..100000, min_idle <= max_size)
   * @throws PoolClosedException the pool is draining or closed
   */
  public void resize(int minIdle, int maxSize) {
    int rc;
    try {
      rc = nat.resize(minIdle, maxSize);
    } finally {
      Reference.reachabilityFence(this);
    }
    if (rc != Status.OK.swigValue())
      throw PoolException.of(rc, "resize(min_idle=" + minIdle + ", max_size=" + maxSize + "); allowed: min_idle 0..100000, max_size 1..100000, min_idle <= max_size");
  }

  public State state() {
    try {
      return State.swigToEnum(nat.state());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** 200 when ready or degraded, else 503: what a readiness probe should answer. */
  public int httpStatus() {
    try {
      return nat.httpStatus();
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The stats document (docs/STATS.md). Never touches the backend. */
  public String statsJson() {
    String s;
    try {
      s = nat.statsJson();
    } finally {
      Reference.reachabilityFence(this);
    }
    if (s.isEmpty()) throw new PoolClosedException("no stats for a closed pool");
    return s;
  }

  /**
   * The stats document, typed (one component per field of docs/STATS.md). Never touches the
   * backend. Fields a newer native library adds are ignored; {@link #statsJson()} has them all.
   */
  public PoolStats stats() {
    return StatsCodec.pool(statsJson());
  }

  /**
   * The stats document untyped: maps, lists, Long (BigInteger above 2^63), Double, String,
   * Boolean and null; what {@code stats()} returned before 1.2.
   *
   * @deprecated use {@link #stats()} (typed) or {@link #statsJson()}
   */
  @Deprecated(since = "1.2.0")
  public Map<String, Object> statsMap() {
    return StatsCodec.map(statsJson());
  }

  /** The same figures in Prometheus text format. */
  public String metricsText() {
    String s;
    try {
      s = nat.metricsText();
    } finally {
      Reference.reachabilityFence(this);
    }
    if (s.isEmpty()) throw new PoolClosedException("no metrics for a closed pool");
    return s;
  }

  public boolean isClosed() {
    try {
      return nat.closed();
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** Closes the pool (see the class comment). Idempotent. */
  @Override
  public void close() {
    try {
      nat.close();
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  static long millis(Duration d) {
    if (d == null) return -1;
    if (d.isNegative()) return -1;
    try {
      long ms = d.toMillis();
      // Round a sub-millisecond wait up so it still waits.
      if (ms == 0 && !d.isZero()) return 1;
      return ms;
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Collects settings; {@link #build()} applies them in order and opens the pool. */
  public static final class Builder<T> {
    private final ConnectionFactory<T> factory;
    private final Map<String, String> settings = new LinkedHashMap<>();
    private String json;

    private Builder(ConnectionFactory<T> factory) {
      this.factory = factory;
    }

    /** Any configuration key; a Duration is given in milliseconds. */
    public Builder<T> set(String key, Object value) {
      settings.remove(key);
      settings.put(key, value instanceof Duration ? Long.toString(((Duration) value).toMillis()) : String.valueOf(value));
      return this;
    }

    /** Starts from a JSON configuration object; later set() calls override it. */
    public Builder<T> json(String configJson) {
      this.json = configJson;
      return this;
    }

    public Builder<T> name(String name) {
      return set("name", name);
    }

    public Builder<T> maxSize(int n) {
      return set("max_size", n);
    }

    public Builder<T> minIdle(int n) {
      return set("min_idle", n);
    }

    public Builder<T> acquireTimeout(Duration d) {
      return set("acquire_timeout_ms", d);
    }

    /** Opens the pool. Throws {@link PoolConfigException} for an unknown key or a bad value. */
    public Pool<T> build() {
      NativeConfig cfg = new NativeConfig();
      try {
        if (json != null) check(cfg.setJson(json), cfg);
        for (Map.Entry<String, String> e : settings.entrySet()) check(cfg.set(e.getKey(), e.getValue()), cfg);
        return new Pool<>(cfg, factory);
      } finally {
        cfg.delete();
      }
    }

    private static void check(int rc, NativeConfig cfg) {
      if (rc != 0) throw PoolException.of(rc, cfg.error());
    }
  }

  // --- for Group (pool groups, docs/GROUPS.md)

  NativePool nativePool() {
    return nat;
  }

  /** Wraps a lease that a Group took on this pool, so closing it releases it here. */
  Lease<T> adopt(long lease, long handle) {
    try {
      T conn = adapter.connection(handle);
      if (conn == null) {
        FastPath.release(ptr, lease, 1);
        throw PoolException.of(Status.EINTERNAL.swigValue(), "leased connection has no Java object");
      }
      return new Lease<>(this, lease, conn);
    } finally {
      Reference.reachabilityFence(this);
    }
  }
}
