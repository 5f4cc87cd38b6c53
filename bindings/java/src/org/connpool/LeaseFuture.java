// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The future {@link Pool#acquireAsync} returns. cancel() triggers the native token, so the
 * pool stops waiting for this acquire; a lease that was handed over just before (the cancel
 * lost the race) is given back when it arrives, never leaked.
 *
 * <p>The outcome comes on the pool's dispatcher thread, but the future is completed on the
 * executor, so code chained on it (thenApply, whenComplete) never runs on, or blocks, the
 * thread that serves every pending acquire of the pool.
 */
final class LeaseFuture<T> extends CompletableFuture<Lease<T>> implements AcquireOutcome {
  private final Pool<T> pool;
  private final CancelHandle cancel;
  private final Executor executor;

  LeaseFuture(Pool<T> pool, CancelHandle cancel, Executor executor) {
    this.pool = pool;
    this.cancel = cancel;
    this.executor = executor;
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    // Cancelled first, then triggered: the ECANCELED outcome the trigger causes must find the
    // future settled already, or it would complete it exceptionally and this cancel would lose.
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    cancel.trigger();
    return cancelled;
  }

  @Override
  public void deliver(int status, long lease, long handle) {
    cancel.free();  // the pool is done with the token
    Runnable settle = () -> settle(status, lease, handle);
    try {
      executor.execute(settle);
    } catch (RejectedExecutionException e) {
      settle.run();
    }
  }

  private void settle(int status, long lease, long handle) {
    if (status != Status.OK.swigValue()) {
      completeExceptionally(pool.failure(status));
      return;
    }
    Lease<T> l;
    try {
      l = pool.adopt(lease, handle);
    } catch (PoolException e) {
      completeExceptionally(e);
      return;
    }
    // Cancelled (or completed by someone else) first: the lease has no taker.
    if (!complete(l)) l.close();
  }
}
