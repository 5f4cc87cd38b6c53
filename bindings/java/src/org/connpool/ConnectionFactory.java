// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/**
 * Opens and closes your connections; the only code that talks to your backend.
 *
 * <p>The pool calls these methods from acquiring threads and from its own background threads
 * (connector threads run {@code create}, a maintenance thread runs keepalive validation and
 * idle retirement), never with a pool lock held, so they may block on I/O. An exception thrown
 * by any of them never reaches the pool: from {@code create} it counts as a failed create
 * (transient, retried with backoff, unless it is a {@link CreateException#fatal fatal}
 * {@link CreateException}); from {@code validate} or {@code reset} the connection is treated
 * as broken and destroyed; from {@code destroy} it is ignored.
 *
 * @param <T> your connection type
 */
public interface ConnectionFactory<T> {
  /** Opens one connection. Throw {@link CreateException#fatal} for a permanent failure. */
  T create() throws Exception;

  /** Closes a connection; called exactly once for each object {@link #create} returned. */
  void destroy(T connection) throws Exception;

  /**
   * Health check before reuse or in the background keepalive; false (or an exception) has the
   * connection destroyed. When not overridden the pool makes no call for it at all.
   */
  default boolean validate(T connection) throws Exception {
    return true;
  }

  /**
   * Clears session state when a lease ends (config {@code reset_on_release}); false (or an
   * exception) has the connection destroyed. When not overridden the pool makes no call.
   */
  default boolean reset(T connection) throws Exception {
    return true;
  }
}
