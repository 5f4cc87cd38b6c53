// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/**
 * The thread was interrupted while it waited in {@link Pool#acquire}: the wait was cancelled
 * (CONNPOOL_ECANCELED) and the thread's interrupt flag is still set, so the code above sees the
 * interrupt too. An acquire that found a free connection at once does not look at the flag
 * (as HikariCP's fast path does not).
 */
public class PoolInterruptedException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolInterruptedException(String detail) {
    super(Status.ECANCELED, detail);
  }
}
