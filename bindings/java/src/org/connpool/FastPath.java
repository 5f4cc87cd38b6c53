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

  /** NativePool.acquireHandle on the native pool {@code pool}, cancel token {@code cancel} (0: none). */
  static native long acquire(long pool, long timeoutMs, int priority, long cancel);

  /** NativePool.releaseHandle; {@code broken} 0 or 1. */
  static native int release(long pool, long handle, int broken);

  static long pointer(NativePool p) {
    return NativePool.getCPtr(p);
  }

  static long pointer(NativeCancelToken t) {
    return NativeCancelToken.getCPtr(t);
  }
}
