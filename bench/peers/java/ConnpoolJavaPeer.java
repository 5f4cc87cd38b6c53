// SPDX-License-Identifier: Apache-2.0
package bench;

import java.time.Duration;
import org.connpool.ConnectionFactory;
import org.connpool.Lease;
import org.connpool.Pool;
import org.connpool.PoolTimeoutException;

/**
 * libconnpool through its Java binding (org.connpool, SWIG/JNI): acquire is
 * Pool.acquire(timeout), release is Lease.close(). The pool holds `size` no-op
 * Java objects made by a factory written in Java, like HikariPeer's stub
 * connections: fixed size (min_idle = max_size), no validation, no reset, no
 * leak detection. Compiled by libconnpool's bench/run_peers.sh into a copy of
 * the shared harness's Java sources (their Peer.create gets a case for it).
 */
final class ConnpoolJavaPeer implements Peer {
    private final Pool<Object> pool;
    private final Duration timeout;

    ConnpoolJavaPeer(int size, int timeoutMs) {
        ConnectionFactory<Object> factory = new ConnectionFactory<>() {
            @Override
            public Object create() {
                return new Object();
            }

            @Override
            public void destroy(Object c) {}
        };
        pool = Pool.builder(factory).name("bench").maxSize(size).minIdle(size)
                .set("validate_on_acquire", "never").set("reset_on_release", false).build();
        pool.awaitReady(Duration.ofSeconds(10));
        timeout = Duration.ofMillis(timeoutMs);
    }

    @Override
    public Object acquire() {
        try {
            return pool.acquire(timeout);
        } catch (PoolTimeoutException timedOut) {
            return null;
        }
    }

    @Override
    public void release(Object o) {
        ((Lease<?>) o).close();
    }

    @Override
    public void close() {
        pool.close();
    }
}
