// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One borrowed connection. Use it in try-with-resources: {@link #close()} gives it back
 * (reset first when configured), {@link #discard()} reports it broken so the pool destroys
 * it. Either may be called more than once or after the pool was closed; only the first one
 * counts. A lease is meant for one thread at a time, like the connection it holds.
 *
 * @param <T> your connection type
 */
public final class Lease<T> implements AutoCloseable {
  private final Pool<T> pool;
  /**
   * The native lease. On the fast path the native facade holds it by {@link #handle} (> 0) and
   * this is 0 until {@link #id()} asks for it.
   */
  private long id;
  private final long handle;
  private final T connection;
  /** 1 once given back; a field of its own (not an AtomicBoolean) saves an object per lease. */
  private volatile int done;

  private static final VarHandle DONE;

  static {
    try {
      DONE = MethodHandles.lookup().findVarHandle(Lease.class, "done", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  Lease(Pool<T> pool, long id, long handle, T connection) {
    this.pool = pool;
    this.id = id;
    this.handle = handle;
    this.connection = connection;
  }

  /** Your connection object, as your factory's create() returned it. */
  public T get() {
    if (done != 0) throw new IllegalStateException("lease already returned");
    return connection;
  }

  /**
   * The native lease value (for logs; matches "lease" in the stats' leaks list); ask while the
   * lease is out (afterwards it is the value asked for then, or 0).
   */
  public long id() {
    if (id == 0 && handle != 0 && done == 0) id = pool.leaseOfHandle(handle);
    return id;
  }

  /** Returns the connection to the pool. Idempotent. */
  @Override
  public void close() {
    if (DONE.compareAndSet(this, 0, 1)) giveBack(false);
  }

  /** Returns the connection as broken: the pool destroys it instead of reusing it. */
  public void discard() {
    if (DONE.compareAndSet(this, 0, 1)) giveBack(true);
  }

  private void giveBack(boolean broken) {
    if (handle != 0) {
      pool.releaseHandle(handle, broken);
    } else {
      pool.release(id, broken);
    }
  }
}
