// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/**
 * Where the outcome of an acquire that went pending is delivered: a parked thread
 * ({@link ParkedAcquire}) or a future ({@link LeaseFuture}). Called exactly once, usually on the
 * pool's dispatcher thread (then every other pending acquire of the pool waits for it, so it
 * only hands the outcome on), and must not throw.
 */
interface AcquireOutcome {
  /** status: a CONNPOOL_* code; lease and handle are set only for OK. */
  void deliver(int status, long lease, long handle);
}
