// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The Java objects behind the native pool's connections, by handle: the handle the factory
 * hands the native pool (its "connection pointer") is an index into this table, so the acquire
 * path finds the object with one array read instead of a hash lookup of a boxed Long.
 *
 * <p>Handles are small and recycled (a freed handle is given to the next connection), so the
 * table stays as large as the most connections the pool held at once. Handle 0 is never used:
 * the native pool reads a NULL connection as a failed create.
 *
 * <p>Thread safety: {@link #get} is lock-free (a volatile read of the table, then of the
 * slot); {@link #add} and {@link #remove} run on pool threads when connections are created and
 * destroyed, under this object's lock. A handle is in use from add() until remove(), and the
 * native pool never names a handle outside that span, so a get() always sees its object.
 */
final class HandleTable<T> {
  private volatile AtomicReferenceArray<T> slots = new AtomicReferenceArray<>(16);
  private int[] free = new int[16];  // guarded by this: handles given back, reused LIFO
  private int freeCount;              // guarded by this
  private int next = 1;               // guarded by this: the lowest handle never used

  T get(long handle) {
    AtomicReferenceArray<T> s = slots;
    return handle > 0 && handle < s.length() ? s.get((int) handle) : null;
  }

  synchronized long add(T conn) {
    int h;
    if (freeCount > 0) {
      h = free[--freeCount];
    } else {
      h = next++;
      AtomicReferenceArray<T> s = slots;
      if (h >= s.length()) {
        AtomicReferenceArray<T> grown = new AtomicReferenceArray<>(s.length() * 2);
        for (int i = 0; i < s.length(); i++) grown.set(i, s.get(i));
        slots = grown;
      }
    }
    slots.set(h, conn);
    return h;
  }

  synchronized T remove(long handle) {
    T conn = get(handle);
    if (conn == null) return null;
    slots.set((int) handle, null);
    if (freeCount == free.length) free = java.util.Arrays.copyOf(free, free.length * 2);
    free[freeCount++] = (int) handle;
    return conn;
  }
}
