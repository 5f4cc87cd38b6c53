// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.util.concurrent.atomic.AtomicBoolean;

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
  private final long id;
  private final T connection;
  private final AtomicBoolean done = new AtomicBoolean();

  Lease(Pool<T> pool, long id, T connection) {
    this.pool = pool;
    this.id = id;
    this.connection = connection;
  }

  /** Your connection object, as your factory's create() returned it. */
  public T get() {
    if (done.get()) throw new IllegalStateException("lease already returned");
    return connection;
  }

  /** The native lease value (for logs; matches "lease" in the stats' leaks list). */
  public long id() {
    return id;
  }

  /** Returns the connection to the pool. Idempotent. */
  @Override
  public void close() {
    if (done.compareAndSet(false, true)) pool.release(id, false);
  }

  /** Returns the connection as broken: the pool destroys it instead of reusing it. */
  public void discard() {
    if (done.compareAndSet(false, true)) pool.release(id, true);
  }
}
