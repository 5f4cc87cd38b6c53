// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class PoolTest {
  static final Duration LONG = Duration.ofSeconds(10);

  static PoolStats.Counters counters(Pool<?> pool) {
    return pool.stats().counters();
  }

  static Pool<FakeFactory.Conn> pool(FakeFactory f, int maxSize) {
    return Pool.builder(f).name("java-test").maxSize(maxSize).set("retry_initial_ms", 10).set("retry_max_ms", 50).build();
  }

  @Test
  void acquireAndReleaseThroughTryWithResources() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = pool(f, 4)) {
      FakeFactory.Conn first;
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        first = lease.get();
        assertTrue(first.open);
        assertEquals(1, pool.stats().connections().inUse());
      }
      assertEquals(0, pool.stats().connections().inUse());
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        assertSame(first, lease.get(), "the released connection is reused");
      }
      assertEquals(State.READY, pool.state());
      assertEquals(200, pool.httpStatus());
      assertEquals(2L, counters(pool).acquired());
    }
    assertEquals(f.created.get(), f.destroyed.get());
    assertTrue(f.open.isEmpty());
  }

  @Test
  void leaseIsUsableOnlyUntilReturnedAndDiscardDestroys() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = pool(f, 2)) {
      Lease<FakeFactory.Conn> lease = pool.acquire(LONG);
      FakeFactory.Conn c = lease.get();
      lease.discard();
      lease.close();  // second return is ignored
      assertThrows(IllegalStateException.class, lease::get);
      assertFalse(c.open);
      assertEquals(1L, counters(pool).closedBroken());
      assertEquals(0L, counters(pool).staleReleases());
    }
  }

  // Lease.close() lets its own thread through once with a plain field; a second release of the
  // same lease value from anywhere else (a racing close) reaches the pool, whose compare-and-swap
  // refuses it even after the connection went to a new holder.
  @Test
  void lateSecondReleaseOfALeaseIsRefusedByThePoolAndLeavesTheNewHolderAlone() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = pool(f, 1)) {
      Lease<FakeFactory.Conn> first = pool.acquire(LONG);
      long firstId = first.id();
      assertNotEquals(0L, firstId);
      first.close();
      try (Lease<FakeFactory.Conn> second = pool.acquire(LONG)) {
        assertNotEquals(firstId, second.id(), "a new lease of the same connection");
        assertEquals(Status.ESTALE.swigValue(), pool.release(firstId, false));
        assertEquals(1L, pool.stats().connections().inUse(), "the new holder keeps its lease");
        assertEquals(1L, counters(pool).staleReleases());
        assertNotNull(second.get());
      }
      assertEquals(0L, pool.stats().connections().inUse());
      assertEquals(1L, counters(pool).staleReleases());
    }
  }

  @Test
  void timeoutIsPoolTimeoutExceptionWithCodeAndHttpStatus() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = pool(f, 1); Lease<FakeFactory.Conn> held = pool.acquire(LONG)) {
      assertNotNull(held.get());
      PoolTimeoutException e = assertThrows(PoolTimeoutException.class, () -> pool.acquire(Duration.ofMillis(30)));
      assertEquals(2, e.code());
      assertEquals(Status.ETIMEOUT, e.status());
      assertEquals("CONNPOOL_ETIMEOUT", e.codeName());
      assertEquals(503, e.httpStatus());
      assertTrue(e instanceof PoolException);
      assertEquals(1L, counters(pool).timeouts());
    }
  }

  @Test
  void fatalCreateMakesThePoolUnavailable() {
    FakeFactory f = new FakeFactory();
    f.fatal = true;
    try (Pool<FakeFactory.Conn> pool = pool(f, 2)) {
      PoolUnavailableException e = assertThrows(PoolUnavailableException.class, () -> pool.acquire(LONG));
      assertEquals(3, e.code());
      assertEquals(503, e.httpStatus());
      assertEquals(State.UNAVAILABLE, pool.state());
      assertEquals(503, pool.httpStatus());
      PoolStats stats = pool.stats();
      assertEquals("unavailable", stats.state());
      assertEquals(503, stats.httpStatus());
      assertEquals("fatal", stats.healthReason());
      PoolStats.LastError last = stats.lastError();
      assertNotNull(last);
      assertTrue(last.message().contains("authentication failed"), last.toString());
      assertTrue(stats.counters().createFailures() >= 1);
    }
  }

  @Test
  void throwingCreateIsAFailedCreateNotACrash() {
    FakeFactory f = new FakeFactory();
    f.throwCreates.set(3);
    try (Pool<FakeFactory.Conn> pool = pool(f, 2)) {
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        assertTrue(lease.get().open);
      }
      PoolStats stats = pool.stats();
      assertEquals(3L, stats.counters().createFailures());
      assertEquals(1L, stats.counters().created());
      PoolStats.LastError last = stats.lastError();
      assertTrue(last.message().contains("boom from create"), last.toString());
      assertTrue(last.message().contains("IllegalStateException"), last.toString());
    }
  }

  @Test
  void noWaitAcquireWithFailingCreateIsPoolFactoryException() {
    FakeFactory f = new FakeFactory();
    f.throwCreates.set(Integer.MAX_VALUE);
    try (Pool<FakeFactory.Conn> pool = pool(f, 2)) {
      PoolException e = assertThrows(PoolException.class, () -> pool.acquire(Duration.ZERO));
      // EFACTORY when this call ran the create; ETIMEOUT if a connector thread was already
      // creating (the pool starts connecting at once).
      assertTrue(e instanceof PoolFactoryException || e instanceof PoolTimeoutException, e.toString());
      if (e instanceof PoolFactoryException) {
        assertEquals(7, e.code());
        assertEquals(502, e.httpStatus());
      }
    }
    assertEquals(0, f.created.get());
  }

  @Test
  void throwingValidateDestroysTheConnection() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(1).set("validate_on_acquire", "always").build()) {
      FakeFactory.Conn first;
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        first = lease.get();
      }
      f.throwValidates.set(1);
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        assertNotSame(first, lease.get());
      }
      assertFalse(first.open, "a connection whose validate threw is destroyed");
      assertEquals(1L, counters(pool).validationFailures());
    }
  }

  @Test
  void backgroundThreadsCallTheJavaFactory() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(4).minIdle(2)
        .set("maintenance_interval_ms", 10).set("validate_interval_ms", 10).build()) {
      // No acquire at all: the connectors fill min_idle, the maintenance thread validates.
      assertTrue(Wait.until(LONG, () -> pool.stats().connections().idle() == 2));
      assertTrue(Wait.until(LONG, () -> f.validated.get() >= 2), "keepalive validation ran");
      assertEquals(2, f.created.get());
      assertFalse(f.callbackThreads.isEmpty());
      for (Thread t : f.callbackThreads) {
        assertTrue(t.isDaemon(), "native pool threads attach as daemons: " + t);
      }
      pool.awaitReady(LONG);
    }
    assertEquals(2, f.destroyed.get());
  }

  @Test
  void eightThreadsHammerOnePool() throws Exception {
    FakeFactory f = new FakeFactory();
    final int threads = 8;
    final int iterations = 3000;
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(4).set("validate_on_acquire", "never").build()) {
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        final int seed = t;
        Thread w = new Thread(() -> {
          try {
            start.await();
            for (int i = 0; i < iterations; i++) {
              try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
                if (!lease.get().open) throw new AssertionError("leased a destroyed connection");
                if ((i + seed) % 97 == 0) lease.discard();
              }
            }
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          }
        });
        workers.add(w);
        f.callers.add(w);
        w.start();
      }
      start.countDown();
      for (Thread w : workers) w.join();
      if (failure.get() != null) throw new AssertionError(failure.get());
      assertTrue(Wait.until(LONG, () -> pool.stats().connections().creating() == 0));
      PoolStats stats = pool.stats();
      PoolStats.Counters counters = stats.counters();
      PoolStats.Connections conns = stats.connections();
      assertEquals((long) threads * iterations, counters.acquired());
      assertEquals(counters.created(), counters.destroyed() + conns.total(), stats.toString());
      assertTrue(conns.total() <= 4);
      assertEquals(f.created.get(), counters.created());
      // Drain closes the pool; the counters still answer: everything created was destroyed.
      assertTrue(pool.drain(LONG));
      PoolStats.Counters after = pool.stats().counters();
      assertEquals(after.created(), after.destroyed());
    }
    assertEquals(f.created.get(), f.destroyed.get());
    assertTrue(f.open.isEmpty());
  }

  @Test
  void statsAreTyped() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).name("orders").maxSize(3).minIdle(1).build()) {
      try (Lease<FakeFactory.Conn> lease = pool.acquire(LONG)) {
        PoolStats s = pool.stats();
        assertEquals("orders", s.name());
        assertEquals("ready", s.state());
        assertEquals(200, s.httpStatus());
        assertEquals(3L, s.connections().maxSize());
        assertEquals(1L, s.connections().minIdle());
        assertEquals(1L, s.connections().inUse());
        assertTrue(s.leaks().isEmpty());
        assertEquals(1L, s.acquireWaitUs().count());
        assertTrue(pool.statsJson().startsWith("{"));
        @SuppressWarnings("deprecation")
        Map<String, Object> untyped = pool.statsMap();
        assertEquals("orders", untyped.get("name"));
        assertEquals(200L, untyped.get("http_status"), "integers are Longs, as before 1.2");
        assertTrue(pool.metricsText().contains("pool=\"orders\""));
      }
    }
  }

  @Test
  void configErrorsArePoolConfigException() {
    FakeFactory f = new FakeFactory();
    PoolConfigException e = assertThrows(PoolConfigException.class, () -> Pool.builder(f).set("max_sizes", 3).build());
    assertEquals(1, e.code());
    assertEquals(500, e.httpStatus());
    assertTrue(e.getMessage().contains("max_sizes"), e.getMessage());
    e = assertThrows(PoolConfigException.class, () -> Pool.create(f, Map.of("max_size", 0)));
    assertTrue(e.getMessage().contains("max_size"), e.getMessage());
    e = assertThrows(PoolConfigException.class, () -> Pool.builder(f).json("{\"max_size\": ").build());
    try (Pool<FakeFactory.Conn> pool = Pool.create(f, Map.of("max_size", 2, "acquire_timeout_ms", Duration.ofMillis(20)))) {
      // Creates run on connector threads, so the first two wait generously; the third, with
      // the pool full, must give up after the configured 20 ms.
      try (Lease<FakeFactory.Conn> a = pool.acquire(LONG); Lease<FakeFactory.Conn> b = pool.acquire(LONG)) {
        assertNotSame(a.get(), b.get());
        assertThrows(PoolTimeoutException.class, pool::acquire);
      }
    }
  }

  @Test
  void everyStatusCodeHasItsException() {
    for (Status s : Status.values()) {
      PoolException e = PoolException.of(s.swigValue(), "detail");
      assertEquals(s.swigValue(), e.code());
      assertEquals("CONNPOOL_" + s.name(), e.codeName());
      assertTrue(e.getMessage().endsWith(": detail"));
    }
    assertEquals(PoolConfigException.class, PoolException.of(1, null).getClass());
    assertEquals(PoolTimeoutException.class, PoolException.of(2, null).getClass());
    assertEquals(PoolUnavailableException.class, PoolException.of(3, null).getClass());
    assertEquals(PoolClosedException.class, PoolException.of(4, null).getClass());
    assertEquals(PoolOverloadException.class, PoolException.of(5, null).getClass());
    assertEquals(PoolStaleLeaseException.class, PoolException.of(6, null).getClass());
    assertEquals(PoolFactoryException.class, PoolException.of(7, null).getClass());
    assertEquals(503, PoolException.of(5, null).httpStatus());
    assertEquals(Status.EINTERNAL, PoolException.of(999, null).status());
    // The HTTP column of the status table, code by code (1 EINVAL ... 11 PENDING).
    int[] http = {500, 503, 503, 503, 503, 500, 502, 500, 500, 500, 500};
    for (int code = 1; code <= 11; code++) {
      assertEquals(http[code - 1], PoolException.of(code, null).httpStatus(), "code " + code);
    }
    for (int code : new int[] {8, 9, 10}) {
      assertEquals(PoolException.class, PoolException.of(code, null).getClass(), "code " + code);
    }
  }

  @Test
  void overloadIsPoolOverloadException() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(1).set("max_waiters", 1).build()) {
      Lease<FakeFactory.Conn> held = pool.acquire(LONG);
      AtomicReference<Throwable> waited = new AtomicReference<>();
      Thread waiter = new Thread(() -> {
        try {
          pool.acquire(LONG).close();
        } catch (Throwable t) {
          waited.set(t);
        }
      });
      waiter.start();
      assertTrue(Wait.until(LONG, () -> pool.stats().waiters() == 1));
      PoolOverloadException e = assertThrows(PoolOverloadException.class, () -> pool.acquire(LONG));
      assertEquals(5, e.code());
      assertEquals(503, e.httpStatus());
      held.close();  // hands the connection to the queued waiter
      waiter.join();
      assertNull(waited.get());
      assertEquals(1L, counters(pool).overload());
    }
  }

  @Test
  void closeWakesWaitersAndLeasesOutliveIt() throws Exception {
    FakeFactory f = new FakeFactory();
    Pool<FakeFactory.Conn> pool = pool(f, 1);
    Lease<FakeFactory.Conn> held = pool.acquire(LONG);
    AtomicReference<Throwable> waiterResult = new AtomicReference<>();
    Thread waiter = new Thread(() -> {
      try {
        pool.acquire(Duration.ofSeconds(60)).close();
      } catch (Throwable e) {
        waiterResult.set(e);
      }
    });
    waiter.start();
    assertTrue(Wait.until(LONG, () -> pool.stats().waiters() == 1));
    pool.close();
    waiter.join();
    assertTrue(waiterResult.get() instanceof PoolClosedException, String.valueOf(waiterResult.get()));
    assertTrue(pool.isClosed());
    assertThrows(PoolClosedException.class, () -> pool.acquire(LONG));
    assertThrows(PoolClosedException.class, pool::statsJson);
    assertEquals(State.CLOSED, pool.state());
    pool.close();  // idempotent
    FakeFactory.Conn c = held.get();
    assertTrue(c.open, "a leased connection survives close()");
    held.close();  // the native pool stays alive for this release
    assertFalse(c.open, "released after close: destroyed");
    assertEquals(f.created.get(), f.destroyed.get());
  }

  @Test
  void droppedPoolsAreCollectedWithoutClose() {
    long before = FactoryAdapter.RELEASED.get();
    FakeFactory f = new FakeFactory();
    final int pools = 20;
    for (int i = 0; i < pools; i++) {
      Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(2).minIdle(1).set("maintenance_interval_ms", 10).build();
      pool.acquire(LONG).close();
    }
    // Each dropped pool is closed by its Cleaner: its connections destroyed, its director
    // released by the native side after the last callback.
    assertTrue(Wait.until(Duration.ofSeconds(60), () -> {
      System.gc();
      return FactoryAdapter.RELEASED.get() - before >= pools;
    }), "released " + (FactoryAdapter.RELEASED.get() - before) + " of " + pools);
    assertTrue(Wait.until(LONG, () -> f.created.get() == f.destroyed.get()));
    assertTrue(f.open.isEmpty());
  }

  @Test
  void resizeGrowsShrinksAndRefusesBadSizes() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = pool(f, 1)) {
      Lease<FakeFactory.Conn> held = pool.acquire(LONG);
      assertThrows(PoolTimeoutException.class, () -> pool.acquire(Duration.ZERO));
      pool.resize(0, 2);
      Lease<FakeFactory.Conn> second = pool.acquire(LONG);
      assertEquals(2L, pool.stats().connections().maxSize());
      pool.resize(0, 1);
      held.close();
      second.close();
      assertEquals(1L, pool.stats().connections().total());
      assertEquals(1L, counters(pool).closedShrink());
      for (int[] bad : new int[][] {{0, 0}, {-1, 2}, {3, 2}, {0, 100001}}) {
        PoolConfigException e = assertThrows(PoolConfigException.class, () -> pool.resize(bad[0], bad[1]));
        assertTrue(e.getMessage().contains("max_size 1..100000"), e.getMessage());
      }
      assertTrue(pool.drain(LONG));
      assertThrows(PoolClosedException.class, () -> pool.resize(0, 3));
    }
    assertEquals(f.created.get(), f.destroyed.get());
  }

  /**
   * The hot path allocates at most its Lease: no result array, no boxed handle, no separate
   * flag object (it used to be about 110 bytes a cycle). Measured with the JVM's per-thread
   * allocation counter after a warm-up, so the JIT has compiled the path.
   */
  @Test
  void anAcquireReleaseCycleAllocatesAtMostItsLease() {  // a Lease is 40 bytes with compressed oops
    FakeFactory f = new FakeFactory();
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    assumeTrue(mx.isThreadAllocatedMemorySupported());
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(2).minIdle(2).build()) {
      pool.awaitReady(LONG);
      for (int i = 0; i < 50_000; i++) pool.acquire(LONG).close();
      final int cycles = 100_000;
      long tid = Thread.currentThread().getId();
      long before = mx.getThreadAllocatedBytes(tid);
      for (int i = 0; i < cycles; i++) pool.acquire(LONG).close();
      long perCycle = (mx.getThreadAllocatedBytes(tid) - before) / cycles;
      assertTrue(perCycle <= 48, perCycle + " bytes allocated per cycle");
    }
  }

  @Test
  void sharedLeasesAndAdaptiveStats() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).maxSize(1).set("max_leases_per_conn", 3)
        .set("adaptive_sizing", true).set("adaptive_target_wait_ms", 5).build()) {
      List<Lease<FakeFactory.Conn>> leases = new ArrayList<>();
      for (int i = 0; i < 3; i++) leases.add(pool.acquire(LONG));
      assertSame(leases.get(0).get(), leases.get(2).get(), "one connection carries all three");
      PoolStats.Connections c = pool.stats().connections();
      assertEquals(3L, c.inUse());
      assertEquals(1L, c.busy());
      assertEquals(3, c.maxLeasesPerConn());
      PoolStats.Adaptive a = pool.stats().adaptive();
      assertTrue(a.enabled());
      assertEquals(5L, a.targetWaitMs());
      // The first share is on the handle fast path, the others spill to the lease path: each
      // names its own native lease and every one comes back.
      java.util.Set<Long> ids = new java.util.HashSet<>();
      for (Lease<FakeFactory.Conn> l : leases) ids.add(l.id());
      assertEquals(3, ids.size(), "three distinct native leases: " + ids);
      assertFalse(ids.contains(0L));
      FakeFactory.Conn shared = leases.get(0).get();
      for (Lease<FakeFactory.Conn> l : leases) l.close();
      assertEquals(0L, pool.stats().connections().inUse());
      try (Lease<FakeFactory.Conn> again = pool.acquire(LONG)) {
        assertSame(shared, again.get(), "the connection serves again");
      }
    }
  }
}
