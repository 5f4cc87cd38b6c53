// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/**
 * The acquire/release hot path as hand-written JNI (bindings/java/native/fast_path.cpp):
 * static natives with only primitive arguments and results, so a call costs the JVM's native
 * transition and nothing more (no JNI handles for proxy objects, no SWIG typemaps). The
 * callers keep the NativePool (and cancel token) whose pointers they pass reachable.
 */
final class FastPath {
  static {
    NativeLoader.load();
  }

  private FastPath() {}

  /**
   * The facade's acquireHandleLease on the native pool {@code pool}, cancel token
   * {@code cancel} (0: none): > 0 the connection's handle, with the lease written to the 8
   * bytes at {@code leaseOut} (a direct buffer's {@link #address}); else minus (status |
   * ticket << 8).
   */
  static native long acquire(long pool, long timeoutMs, int priority, long cancel, long leaseOut);

  /** The facade's release of {@code lease} by its value; {@code broken} 0 or 1. */
  static native int release(long pool, long lease, int broken);

  /** The native address of a direct buffer (0: the JVM gives none). */
  static native long address(java.nio.ByteBuffer direct);

  static long pointer(NativePool p) {
    return NativePool.getCPtr(p);
  }

  static long pointer(NativeCancelToken t) {
    return NativeCancelToken.getCPtr(t);
  }
}
