// SPDX-License-Identifier: Apache-2.0
// A Java program built against the installed connpool.jar alone (tests/install/check_packages.sh):
// a factory, a pool, two leases in try-with-resources, the stats proving what happened.
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.connpool.ConnectionFactory;
import org.connpool.Lease;
import org.connpool.Pool;
import org.connpool.PoolStats;

public final class Consumer {
  static final AtomicInteger made = new AtomicInteger();

  static final class Factory implements ConnectionFactory<StringBuilder> {
    @Override
    public StringBuilder create() {
      return new StringBuilder("conn" + made.incrementAndGet());
    }

    @Override
    public void destroy(StringBuilder c) {}
  }

  static void check(boolean ok, String what) {
    if (!ok) {
      System.err.println("failed: " + what);
      System.exit(1);
    }
  }

  public static void main(String[] args) throws Exception {
    try (Pool<StringBuilder> pool = Pool.builder(new Factory()).name("consumer").maxSize(2).build()) {
      pool.awaitReady(Duration.ofSeconds(5));
      try (Lease<StringBuilder> a = pool.acquire(Duration.ofSeconds(2));
           Lease<StringBuilder> b = pool.acquire(Duration.ofSeconds(2))) {
        check(a.get() != b.get(), "two leases, two connections");
      }
      try (Lease<StringBuilder> c = pool.acquireAsync(Duration.ofSeconds(2)).get()) {
        check(c.get().toString().startsWith("conn"), "async lease");
      }
      // Typed stats, decoded by Jackson: the package's Depends and the pom bring it.
      PoolStats stats = pool.stats();
      check("ready".equals(stats.state()), "state ready: " + stats.state());
      check(stats.counters().acquired() == 3, "3 acquires, got " + stats.counters().acquired());
      check(pool.statsJson().contains("\"acquired\":3"), "raw JSON: " + pool.statsJson());
      check(pool.httpStatus() == 200, "readiness 200");
      check(made.get() == 2, "2 creates, got " + made.get());
    }
    System.out.println("java consumer: ok");
  }
}
