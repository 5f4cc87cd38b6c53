// SPDX-License-Identifier: Apache-2.0
// A Java service's view of libconnpool: a factory for your connections, a pool, leases in
// try-with-resources, and the HTTP status to answer when the pool cannot serve.
//
// Build: javac -cp connpool.jar Example.java
// Run:   java -Djava.library.path=<dir of libconnpool_java.so> -cp connpool.jar:. Example
import java.time.Duration;
import org.connpool.ConnectionFactory;
import org.connpool.CreateException;
import org.connpool.Lease;
import org.connpool.Pool;
import org.connpool.PoolException;
import org.connpool.PoolStats;

public final class Example {
  /** Stands in for a real client connection (JDBC, Redis, an RPC channel...). */
  static final class Backend {
    private static int nextId = 1;
    final int id;
    boolean open = true;

    Backend(String url) throws CreateException {
      if (url.contains("password=wrong")) throw CreateException.fatal("authentication failed");
      synchronized (Backend.class) {
        id = nextId++;
      }
    }

    String query(String q) {
      return "conn " + id + " answered " + q;
    }
  }

  static final class BackendFactory implements ConnectionFactory<Backend> {
    private final String url;

    BackendFactory(String url) {
      this.url = url;
    }

    @Override
    public Backend create() throws Exception {
      return new Backend(url);  // throw to report a failure; CreateException.fatal if permanent
    }

    @Override
    public void destroy(Backend b) {
      b.open = false;
    }

    @Override
    public boolean validate(Backend b) {
      return b.open;  // e.g. SELECT 1
    }
  }

  public static void main(String[] args) {
    try (Pool<Backend> pool = Pool.builder(new BackendFactory("backend://db?user=app"))
        .name("orders").maxSize(4).minIdle(1).acquireTimeout(Duration.ofSeconds(2)).build()) {
      for (int request = 1; request <= 3; request++) {
        try (Lease<Backend> lease = pool.acquire(Duration.ofMillis(500))) {
          System.out.println(lease.get().query("request " + request));
        } catch (PoolException e) {
          // Timeout, unavailable, overload, closed: tell the client to come back later.
          System.out.println("HTTP " + e.httpStatus() + ": " + e.getMessage());
        }
      }
      // Typed stats (docs/STATS.md); pool.statsJson() is the raw document.
      PoolStats stats = pool.stats();
      System.out.println("state=" + stats.state() + " acquired=" + stats.counters().acquired()
          + " p99 wait=" + stats.acquireWaitUs().p99() + "us");
      System.out.println("readiness: HTTP " + pool.httpStatus());
    }

    // A permanent failure makes the pool unavailable at once: acquires fail fast with 503.
    try (Pool<Backend> bad = Pool.builder(new BackendFactory("backend://db?password=wrong")).build()) {
      try {
        bad.acquire(Duration.ofSeconds(2)).close();
        throw new AssertionError("unreachable");
      } catch (PoolException e) {
        System.out.println("HTTP " + e.httpStatus() + " (" + e.codeName() + ")");
      }
    }
  }
}
