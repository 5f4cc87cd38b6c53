// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.ref.Cleaner;

/**
 * A native cancel token (connpool_cancel_t) with the one rule the C library asks for: it is
 * freed exactly once, and never while a trigger runs. trigger() and free() share a lock, and
 * free() goes through the Cleaner's Cleanable, which runs its action at most once, so the
 * Cleaner (for a handle dropped unfreed, e.g. a thread's token when the thread ends) and an
 * explicit free() cannot both free it.
 */
final class CancelHandle {
  private static final Cleaner CLEANER = Cleaner.create();

  private final NativeCancelToken token;
  private final Cleaner.Cleanable cleanable;
  private boolean freed;  // guarded by this

  CancelHandle() {
    NativeCancelToken t = new NativeCancelToken();
    token = t;
    // Must not capture `this`.
    cleanable = CLEANER.register(this, t::delete);
  }

  /** The token to hand to a native acquire; null (no cancellation) when out of memory. */
  NativeCancelToken token() {
    return token.valid() ? token : null;
  }

  /** Ends every acquire waiting with this token (ECANCELED). Idempotent; a no-op once freed. */
  synchronized void trigger() {
    if (!freed) token.trigger();
  }

  synchronized boolean triggered() {
    return !freed && token.triggered();
  }

  /** Only once no native call that uses the token is running or pending. Idempotent. */
  synchronized void free() {
    freed = true;
    cleanable.clean();
  }
}
