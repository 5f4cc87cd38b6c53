// SPDX-License-Identifier: Apache-2.0
package org.connpool;

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
  /** The native lease (an unsigned 64-bit value), given back by its value. */
  private final long id;
  private final T connection;
  /**
   * 1 once given back. A plain field: a lease is one thread's at a time, so close() only has
   * to stop that thread's second call, and a second call racing in from another thread is
   * refused by the pool itself (its compare-and-swap on the slot sees the lease is back and
   * changes nothing), which is why no atomic is needed here on every close.
   */
  private int done;

  Lease(Pool<T> pool, long id, T connection) {
    this.pool = pool;
    this.id = id;
    this.connection = connection;
  }

  /** Your connection object, as your factory's create() returned it. */
  public T get() {
    if (done != 0) throw new IllegalStateException("lease already returned");
    return connection;
  }

  /** The native lease value (for logs; matches "lease" in the stats' leaks list). */
  public long id() {
    return id;
  }

  /** Returns the connection to the pool. Idempotent. */
  @Override
  public void close() {
    giveBack(false);
  }

  /** Returns the connection as broken: the pool destroys it instead of reusing it. */
  public void discard() {
    giveBack(true);
  }

  private void giveBack(boolean broken) {
    if (done != 0) return;
    done = 1;
    pool.release(id, broken);
  }
}
