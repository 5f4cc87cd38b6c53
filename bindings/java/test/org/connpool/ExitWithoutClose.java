// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.time.Duration;

/**
 * Run as its own JVM by CTest: opens pools whose native threads keep calling Java (min_idle
 * refill, 10 ms keepalive validation), then returns from main without closing them. The JVM
 * must exit 0 promptly.
 */
public final class ExitWithoutClose {
  public static void main(String[] args) {
    FakeFactory f = new FakeFactory();
    Pool<FakeFactory.Conn> busy = Pool.builder(f).maxSize(4).minIdle(2)
        .set("maintenance_interval_ms", 10).set("validate_interval_ms", 10).build();
    try (Lease<FakeFactory.Conn> lease = busy.acquire(Duration.ofSeconds(10))) {
      lease.get();
    }
    Lease<FakeFactory.Conn> leaked = busy.acquire(Duration.ofSeconds(10));
    if (!Wait.until(Duration.ofSeconds(10), () -> f.validated.get() >= 2)) {
      System.err.println("maintenance thread never validated");
      System.exit(1);
    }
    System.out.println("leaving main with an open pool and lease " + leaked.id());
  }
}
