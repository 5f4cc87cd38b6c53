// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.reflect.Method;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The director the native pool calls: maps the opaque handles the pool stores to the user's
 * connection objects and turns every Throwable into a failure result, so no Java exception
 * ever unwinds into native code.
 *
 * <p>Ownership: the native pool owns this object (swigReleaseOwnership makes the native side
 * hold a strong global reference) until its last callback; then released() runs and the
 * native director is deleted. It must not reference the Pool, or a dropped pool could never
 * be collected.
 */
final class FactoryAdapter<T> extends NativeFactory {
  private final ConnectionFactory<T> factory;
  private final HandleTable<T> connections = new HandleTable<>();
  /** Adapters whose native pool has made its last callback (tests watch dropped pools). */
  static final AtomicLong RELEASED = new AtomicLong();
  /**
   * Pending acquires by ticket: an {@link AcquireOutcome} waiting for its outcome, or an
   * {@link Early} outcome that came before its waiter was registered (the dispatcher may call
   * acquired() before acquireAsyncInto has returned). Whoever finds the other's entry removes it
   * and delivers, so each outcome is delivered exactly once.
   */
  private final ConcurrentHashMap<Long, Object> pending = new ConcurrentHashMap<>();

  private static final class Early {
    final int status;
    final long lease;
    final long handle;

    Early(int status, long lease, long handle) {
      this.status = status;
      this.lease = lease;
      this.handle = handle;
    }
  }

  FactoryAdapter(ConnectionFactory<T> factory) {
    super(overrides(factory, "validate"), overrides(factory, "reset"));
    this.factory = factory;
  }

  private static boolean overrides(Object factory, String name) {
    try {
      Method m = factory.getClass().getMethod(name, Object.class);
      return m.getDeclaringClass() != ConnectionFactory.class;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return true;
    }
  }

  T connection(long handle) {
    return connections.get(handle);
  }

  @Override
  public void create(NativeCreateResult result) {
    try {
      T conn = factory.create();
      if (conn == null) {
        result.retry("ConnectionFactory.create returned null");
        return;
      }
      result.succeed(connections.add(conn));
    } catch (CreateException e) {
      if (e.isFatal()) {
        result.fatal(describe(e));
      } else {
        result.retry(describe(e));
      }
    } catch (Throwable t) {
      result.retry("ConnectionFactory.create threw " + describe(t));
    }
  }

  @Override
  public void destroy(long handle) {
    T conn = connections.remove(handle);
    if (conn == null) return;
    try {
      factory.destroy(conn);
    } catch (Throwable ignored) {
      // The connection is gone from the pool either way; there is no one to report to.
    }
  }

  @Override
  public boolean validate(long handle) {
    T conn = connections.get(handle);
    try {
      return conn != null && factory.validate(conn);
    } catch (Throwable t) {
      return false;
    }
  }

  @Override
  public boolean reset(long handle) {
    T conn = connections.get(handle);
    try {
      return conn != null && factory.reset(conn);
    } catch (Throwable t) {
      return false;
    }
  }

  /** Registers where the outcome of the pending acquire `ticket` goes (see {@link #pending}). */
  void await(long ticket, AcquireOutcome target) {
    Object early = pending.putIfAbsent(ticket, target);
    if (early == null) return;
    pending.remove(ticket);
    Early e = (Early) early;
    target.deliver(e.status, e.lease, e.handle);
  }

  @Override
  public void acquired(long ticket, int status, long lease, long handle) {
    try {
      Object target = pending.remove(ticket);
      if (target == null) {
        target = pending.putIfAbsent(ticket, new Early(status, lease, handle));
        if (target == null) return;  // await() delivers it
        pending.remove(ticket);
      }
      ((AcquireOutcome) target).deliver(status, lease, handle);
    } catch (Throwable t) {
      // deliver() does not throw; only an Error (out of memory) gets here, and the lease, if
      // any, is lost with the outcome: nothing else can be done on this thread.
    }
  }

  @Override
  public void released() {
    RELEASED.incrementAndGet();
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    if (t instanceof CreateException) return m == null ? "create failed" : m;
    return t.getClass().getName() + (m == null ? "" : ": " + m);
  }
}
