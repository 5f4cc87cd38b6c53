// SPDX-License-Identifier: Apache-2.0
import java.time.Duration;
import org.connpool.ConnectionFactory;
import org.connpool.Lease;
import org.connpool.Pool;

/** Per-call cost of acquire + release through the Java binding (one thread, uncontended). */
public final class AcquireReleaseBench {
  public static void main(String[] args) {
    int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
    ConnectionFactory<Object> factory = new ConnectionFactory<>() {
      @Override
      public Object create() {
        return new Object();
      }

      @Override
      public void destroy(Object c) {}
    };
    try (Pool<Object> pool = Pool.builder(factory).maxSize(4).set("validate_on_acquire", "never").build()) {
      Duration timeout = Duration.ofSeconds(5);
      for (int round = 0; round < 3; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
          try (Lease<Object> lease = pool.acquire(timeout)) {
            lease.get();
          }
        }
        long ns = System.nanoTime() - t0;
        System.out.printf("java: %d acquire+release in %.1f ms: %.0f ns per pair (round %d)%n",
            iterations, ns / 1e6, (double) ns / iterations, round + 1);
      }
    }
  }
}
