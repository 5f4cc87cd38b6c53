// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.connpool.PoolStats;
import org.junit.jupiter.api.Test;

/** A concurrent workload with failures in it; the stats and the server prove nothing leaks. */
class NoLeakTest {
  static final int THREADS = 4;
  static final int ROUNDS = 50;

  static void work(PooledDataSource ds, int round) throws SQLException {
    try (Connection c = ds.getConnection(Duration.ofSeconds(30))) {
      switch (round % 4) {
        case 0:  // plain query, statements left for close() to close
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT 1");
          assertTrue(rs.next());
          break;
        case 1:  // a transaction left open
          c.setAutoCommit(false);
          c.createStatement().execute("SELECT 1");
          break;
        case 2:  // an SQL error: not a broken connection
          try (Statement st = c.createStatement()) {
            assertThrows(SQLException.class, () -> st.execute("SELEC 1"));
          }
          break;
        default:  // changed settings
          c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
          c.setReadOnly(true);
          break;
      }
    }
  }

  @Test
  void statsProveNothingLeaks() throws Exception {
    final String app = "jdbc_noleak";
    try (PooledDataSource ds = PgServer.builder(app).maxSize(3).minIdle(1).build()) {
      ExecutorService ex = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          fs.add(ex.submit(() -> {
            for (int r = 0; r < ROUNDS; r++) work(ds, r);
            return null;
          }));
        }
        for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS);
      } finally {
        ex.shutdownNow();
      }
      // No create in flight (min_idle refills in the background), then one snapshot.
      assertTrue(PgServer.await(Duration.ofSeconds(30), () -> ds.stats().connections().creating() == 0));
      PoolStats st = ds.stats();
      assertEquals(0, st.connections().inUse());
      assertEquals(THREADS * ROUNDS, st.counters().acquired());
      assertEquals(0, st.counters().closedBroken());
      assertEquals(0, st.counters().staleReleases());
      assertEquals(0, st.counters().timeouts());
      long total = st.connections().total();
      assertTrue(total >= 1 && total <= 3, "total " + total);
      assertEquals(total, st.connections().idle());
      assertEquals(st.counters().created() - st.counters().destroyed(), total, ds.statsJson());
      // Every pooled connection is one server session, and no other session was opened.
      assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne(app) == total),
          "server sessions " + PgServer.sessionsOrMinusOne(app) + " != pool total " + total);
      // And each was reset: none is left in a transaction or with a changed setting.
      for (int i = 0; i < total; i++) {
        try (Connection c = ds.getConnection()) {
          assertTrue(c.getAutoCommit());
          assertEquals("read committed", PooledDataSourceTest.show(c, "transaction_isolation"));
          assertEquals("off", PooledDataSourceTest.show(c, "transaction_read_only"));
        }
      }
    }
    assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne(app) == 0),
        "sessions left after close: " + PgServer.sessionsOrMinusOne(app));
  }
}
