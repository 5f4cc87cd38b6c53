// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A thread waiting in {@link Pool#acquire} for a pending acquire. The thread parks in Java, not
 * in native code, so {@link Thread#interrupt()} reaches it: it then triggers its cancel token
 * and abandons the wait. Whichever of deliver() and abandon() comes second knows it: an outcome
 * delivered to an abandoned wait gives its lease back and frees the token, so an interrupt
 * racing a hand-off neither loses nor keeps a connection.
 */
final class ParkedAcquire implements AcquireOutcome {
  private static final int WAITING = 0;
  private static final int DONE = 1;
  private static final int ABANDONED = 2;

  private final Pool<?> pool;
  private final CancelHandle cancel;
  private final Thread thread;
  private final AtomicInteger state = new AtomicInteger(WAITING);
  // Written before state leaves WAITING, read after it did (the AtomicInteger orders them).
  private int status;
  private long lease;
  private long handle;

  ParkedAcquire(Pool<?> pool, CancelHandle cancel, Thread thread) {
    this.pool = pool;
    this.cancel = cancel;
    this.thread = thread;
  }

  @Override
  public void deliver(int status, long lease, long handle) {
    this.status = status;
    this.lease = lease;
    this.handle = handle;
    if (state.compareAndSet(WAITING, DONE)) {
      LockSupport.unpark(thread);
      return;
    }
    // The waiter was interrupted and has gone: nobody will use this outcome.
    cancel.free();
    if (status == Status.OK.swigValue()) {
      try {
        pool.release(lease, false);
      } catch (RuntimeException ignored) {
        // The pool is closing; the C library destroys the connection on release either way.
      }
    }
  }

  /** Parks until the outcome arrives or the thread is interrupted. True: the outcome is here. */
  boolean await() {
    while (state.get() == WAITING) {
      if (thread.isInterrupted()) return false;
      LockSupport.park(this);
    }
    return true;
  }

  /** After await() returned false: true if the wait was given up before an outcome arrived. */
  boolean abandon() {
    return state.compareAndSet(WAITING, ABANDONED);
  }

  int status() {
    return status;
  }

  long lease() {
    return lease;
  }

  long handle() {
    return handle;
  }
}
