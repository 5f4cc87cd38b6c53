// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Thread.interrupt() in acquire, and acquireAsync futures (DESIGN.md section 6, C ABI 1.2). */
@Timeout(120)
class AsyncTest {
  static final Duration LONG = Duration.ofSeconds(30);

  static PoolStats.Connections connections(Pool<?> pool) {
    return pool.stats().connections();
  }

  static long waiters(Pool<?> pool) {
    return pool.stats().waiters();
  }

  /** Every connection created is idle, leased or destroyed, and none is leased. */
  static void assertBooksBalanced(Pool<FakeFactory.Conn> pool, FakeFactory f) {
    assertTrue(Wait.until(LONG, () -> connections(pool).inUse() == 0), "a lease was lost: " + pool.statsJson());
    long idle = connections(pool).idle();
    assertEquals(f.created.get(), idle + f.destroyed.get(), pool.statsJson());
    assertEquals(idle, f.open.size());
  }

  @Test
  void interruptEndsAWaitWithPoolInterruptedExceptionAndKeepsTheFlag() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      Lease<FakeFactory.Conn> held = pool.acquire(LONG);
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicReference<Boolean> flag = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          pool.acquire(LONG).close();
        } catch (Throwable e) {
          thrown.set(e);
        }
        flag.set(Thread.currentThread().isInterrupted());
      });
      t.start();
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 1));
      t.interrupt();
      t.join(LONG.toMillis());
      assertFalse(t.isAlive());
      assertTrue(thrown.get() instanceof PoolInterruptedException, String.valueOf(thrown.get()));
      PoolException e = (PoolException) thrown.get();
      assertEquals(Status.ECANCELED, e.status());
      assertTrue(e.getMessage().contains("pool 'java-test'"), e.getMessage());  // the explain line
      assertTrue(flag.get(), "interrupt flag cleared");
      assertEquals(1L, PoolTest.counters(pool).canceled());
      assertEquals(0L, waiters(pool));
      held.close();
      // The pool is whole: the next acquire gets the one connection.
      try (Lease<FakeFactory.Conn> again = pool.acquire(LONG)) {
        assertTrue(again.get().open);
      }
      assertBooksBalanced(pool, f);
    }
  }

  @Test
  void anInterruptedThreadStillGetsAFreeConnectionButNeverWaits() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      pool.awaitReady(LONG);
      Thread.currentThread().interrupt();
      try {
        Lease<FakeFactory.Conn> l = pool.acquire(LONG);  // free: served without looking at the flag
        assertThrows(PoolInterruptedException.class, () -> pool.acquire(LONG));  // would wait
        assertTrue(Thread.currentThread().isInterrupted());
        l.close();
      } finally {
        Thread.interrupted();
      }
      // The thread's spent token was replaced: waits work again and time out normally.
      try (Lease<FakeFactory.Conn> l = pool.acquire(LONG)) {
        assertThrows(PoolTimeoutException.class, () -> pool.acquire(Duration.ofMillis(20)));
      }
      assertBooksBalanced(pool, f);
    }
  }

  /** An interrupt racing a hand-off: the waiter gets the lease or the exception, never both, none lost. */
  @Test
  void interruptRacingAHandOffNeverLosesAConnection() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      int served = 0;
      int interrupted = 0;
      for (int round = 0; round < 300; round++) {
        Lease<FakeFactory.Conn> held = pool.acquire(LONG);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread t = new Thread(() -> {
          try {
            Lease<FakeFactory.Conn> l = pool.acquire(LONG);
            outcome.set("served");
            l.close();
          } catch (PoolInterruptedException e) {
            outcome.set("interrupted");
          } catch (Throwable e) {
            outcome.set(e);
          }
        });
        t.start();
        assertTrue(Wait.until(LONG, () -> waiters(pool) == 1));
        CountDownLatch go = new CountDownLatch(1);
        Thread releaser = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          held.close();
        });
        releaser.start();
        go.countDown();
        t.interrupt();
        t.join(LONG.toMillis());
        releaser.join(LONG.toMillis());
        assertFalse(t.isAlive());
        if ("served".equals(outcome.get())) {
          served++;
        } else if ("interrupted".equals(outcome.get())) {
          interrupted++;
        } else {
          fail("unexpected outcome " + outcome.get());
        }
        assertTrue(Wait.until(LONG, () -> connections(pool).inUse() == 0), "round " + round + ": " + pool.statsJson());
      }
      assertEquals(300, served + interrupted);
      assertBooksBalanced(pool, f);
      assertEquals(1, f.created.get(), "the one connection was never lost or replaced");
    }
  }

  @Test
  void acquireAsyncIsServedAtOnceWhenFreeAndOnReleaseOtherwise() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      pool.awaitReady(LONG);
      CompletableFuture<Lease<FakeFactory.Conn>> first = pool.acquireAsync(LONG);
      assertTrue(first.isDone(), "a free connection completes the future at once");
      Lease<FakeFactory.Conn> held = first.get();
      long heldId = held.get().id;
      CompletableFuture<Lease<FakeFactory.Conn>> second = pool.acquireAsync(LONG);
      assertFalse(second.isDone());
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 1));
      AtomicReference<String> stageThread = new AtomicReference<>();
      CompletableFuture<Long> id = second.thenApply(l -> {
        stageThread.set(Thread.currentThread().getName());
        long v = l.get().id;
        l.close();
        return v;
      });
      held.close();
      assertEquals(heldId, id.get(30, TimeUnit.SECONDS), "the one connection, handed on");
      assertNotEquals("connpool-async", stageThread.get(), "chained stages must not run on the pool's dispatcher");
      assertBooksBalanced(pool, f);
    }
  }

  @Test
  void cancellingTheFutureEndsTheWaitAndFreesNothingTwice() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      Lease<FakeFactory.Conn> held = pool.acquire(LONG);
      CompletableFuture<Lease<FakeFactory.Conn>> fut = pool.acquireAsync(LONG);
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 1));
      assertTrue(fut.cancel(true));
      assertTrue(fut.isCancelled());
      assertThrows(CancellationException.class, fut::join);
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 0));
      assertTrue(Wait.until(LONG, () -> PoolTest.counters(pool).canceled() == 1));
      assertTrue(fut.cancel(true));  // a second cancel changes nothing (CompletableFuture answers true)
      assertEquals(1L, PoolTest.counters(pool).canceled());
      held.close();
      try (Lease<FakeFactory.Conn> again = pool.acquire(LONG)) {
        assertTrue(again.get().open);
      }
      assertBooksBalanced(pool, f);
    }
  }

  /** cancel(true) racing the hand-off: a lease that arrives after the cancel is given back. */
  @Test
  void cancelRacingAHandOffNeverLeaksTheLease() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      int won = 0;
      for (int round = 0; round < 300; round++) {
        Lease<FakeFactory.Conn> held = pool.acquire(LONG);
        CompletableFuture<Lease<FakeFactory.Conn>> fut = pool.acquireAsync(LONG);
        CountDownLatch go = new CountDownLatch(1);
        Thread releaser = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          held.close();
        });
        releaser.start();
        go.countDown();
        boolean cancelled = fut.cancel(true);
        releaser.join(LONG.toMillis());
        if (!cancelled) {
          won++;
          fut.get().close();  // completed first: the lease is ours to return
        }
        assertTrue(Wait.until(LONG, () -> connections(pool).inUse() == 0), "round " + round + ": " + pool.statsJson());
      }
      assertBooksBalanced(pool, f);
      assertEquals(1, f.created.get());
      assertTrue(won <= 300);
    }
  }

  @Test
  void aTimedOutFutureFailsWithTheExplanation() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1)) {
      try (Lease<FakeFactory.Conn> held = pool.acquire(LONG)) {
        CompletableFuture<Lease<FakeFactory.Conn>> fut = pool.acquireAsync(Duration.ofMillis(30));
        ExecutionException e = assertThrows(ExecutionException.class, () -> fut.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof PoolTimeoutException, String.valueOf(e.getCause()));
        String m = e.getCause().getMessage();
        assertTrue(m.contains("pool 'java-test'") && m.contains("max 1"), m);
        // The blocking call says the same.
        PoolTimeoutException b = assertThrows(PoolTimeoutException.class, () -> pool.acquire(Duration.ofMillis(20)));
        assertTrue(b.getMessage().contains("pool 'java-test'"), b.getMessage());
      }
      assertEquals(2L, PoolTest.counters(pool).timeouts());
    }
  }

  @Test
  void closeFailsPendingFuturesAndLaterCalls() throws Exception {
    FakeFactory f = new FakeFactory();
    Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 1);
    Lease<FakeFactory.Conn> held = pool.acquire(LONG);
    List<CompletableFuture<Lease<FakeFactory.Conn>>> pending = new ArrayList<>();
    for (int i = 0; i < 5; i++) pending.add(pool.acquireAsync(LONG));
    assertTrue(Wait.until(LONG, () -> waiters(pool) == 5));
    pool.close();
    for (CompletableFuture<Lease<FakeFactory.Conn>> fut : pending) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> fut.get(30, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof PoolClosedException, String.valueOf(e.getCause()));
    }
    ExecutionException late = assertThrows(ExecutionException.class, () -> pool.acquireAsync(LONG).get());
    assertTrue(late.getCause() instanceof PoolClosedException);
    held.close();
    assertEquals(f.created.get(), f.destroyed.get());
  }

  /** 10,000 pending futures on a pool of 2 hold no thread each and are all served. */
  @Test
  void tenThousandPendingFuturesAreAllServed() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = PoolTest.pool(f, 2)) {
      List<Lease<FakeFactory.Conn>> held = List.of(pool.acquire(LONG), pool.acquire(LONG));
      int before = Thread.activeCount();
      List<CompletableFuture<Long>> all = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        all.add(pool.acquireAsync(Duration.ofSeconds(60)).thenApply(l -> {
          long id = l.get().id;
          l.close();
          return id;
        }));
      }
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 10_000));
      assertTrue(Thread.activeCount() <= before + 4, "threads grew from " + before + " to " + Thread.activeCount());
      held.forEach(Lease::close);
      for (CompletableFuture<Long> c : all) assertTrue(c.get(60, TimeUnit.SECONDS) >= 1);
      assertBooksBalanced(pool, f);
      assertEquals(2, f.created.get());
    }
  }

  @Test
  void sharedConnectionPoolsShareAndInterruptToo() throws Exception {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> pool = Pool.builder(f).name("java-test").maxSize(1).set("max_leases_per_conn", 2).build()) {
      Lease<FakeFactory.Conn> a = pool.acquireAsync(LONG).get(30, TimeUnit.SECONDS);
      Lease<FakeFactory.Conn> b = pool.acquire(LONG);
      assertSame(a.get(), b.get(), "two shares of the one connection");
      CompletableFuture<Lease<FakeFactory.Conn>> third = pool.acquireAsync(LONG);
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 1));
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          pool.acquire(LONG).close();
        } catch (Throwable e) {
          thrown.set(e);
        }
      });
      t.start();
      assertTrue(Wait.until(LONG, () -> waiters(pool) == 2));
      t.interrupt();
      t.join(LONG.toMillis());
      assertTrue(thrown.get() instanceof PoolInterruptedException, String.valueOf(thrown.get()));
      a.close();
      Lease<FakeFactory.Conn> c = third.get(30, TimeUnit.SECONDS);
      assertSame(b.get(), c.get());
      b.close();
      c.close();
      assertBooksBalanced(pool, f);
      assertEquals(1, f.created.get());
    }
  }
}
