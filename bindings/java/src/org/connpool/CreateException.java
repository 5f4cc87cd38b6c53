// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/**
 * Thrown by {@link ConnectionFactory#create} to say whether a failure is transient (the
 * backend is down: retry with backoff) or permanent (bad credentials: the pool turns
 * unavailable at once, answering 503, and keeps probing at the maximum backoff). Any other
 * exception from {@code create} counts as transient.
 */
public class CreateException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean fatal;

  public CreateException(String message, boolean fatal, Throwable cause) {
    super(message, cause);
    this.fatal = fatal;
  }

  /** A transient failure: retried with backoff. */
  public static CreateException retry(String message) {
    return new CreateException(message, false, null);
  }

  /** A permanent failure: the pool becomes unavailable at once. */
  public static CreateException fatal(String message) {
    return new CreateException(message, true, null);
  }

  public boolean isFatal() {
    return fatal;
  }
}
