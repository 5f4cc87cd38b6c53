// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A factory written in Java for the tests: counts everything and can be told to fail. */
class FakeFactory implements ConnectionFactory<FakeFactory.Conn> {
  static final class Conn {
    final long id;
    volatile boolean open = true;

    Conn(long id) {
      this.id = id;
    }
  }

  final AtomicLong created = new AtomicLong();
  final AtomicLong destroyed = new AtomicLong();
  final AtomicLong validated = new AtomicLong();
  final AtomicLong resets = new AtomicLong();
  final Set<Conn> open = ConcurrentHashMap.newKeySet();
  /** Threads that ran callbacks, other than those in `callers`. */
  final Set<Thread> callbackThreads = ConcurrentHashMap.newKeySet();
  final Set<Thread> callers = ConcurrentHashMap.newKeySet();
  /** create() throws a RuntimeException this many more times. */
  final AtomicInteger throwCreates = new AtomicInteger();
  volatile boolean fatal;
  /** validate() throws this many more times. */
  final AtomicInteger throwValidates = new AtomicInteger();

  FakeFactory() {
    callers.add(Thread.currentThread());
  }

  private void note() {
    Thread t = Thread.currentThread();
    if (!callers.contains(t)) callbackThreads.add(t);
  }

  @Override
  public Conn create() throws Exception {
    note();
    if (fatal) throw CreateException.fatal("authentication failed for user app");
    if (throwCreates.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) throw new IllegalStateException("boom from create");
    Conn c = new Conn(created.incrementAndGet());
    open.add(c);
    return c;
  }

  @Override
  public void destroy(Conn c) {
    note();
    if (!c.open) throw new AssertionError("destroyed twice");
    c.open = false;
    open.remove(c);
    destroyed.incrementAndGet();
  }

  @Override
  public boolean validate(Conn c) {
    note();
    validated.incrementAndGet();
    if (throwValidates.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) throw new IllegalStateException("boom from validate");
    return c.open;
  }

  @Override
  public boolean reset(Conn c) {
    resets.incrementAndGet();
    return true;
  }
}
