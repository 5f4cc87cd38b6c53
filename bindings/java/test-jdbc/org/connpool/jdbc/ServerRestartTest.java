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
import org.junit.jupiter.api.Test;

/** The server stops (immediate) and comes back mid-run; the DataSource serves again. */
class ServerRestartTest {
  static boolean selectOne(PooledDataSource ds) {
    try (Connection c = ds.getConnection(Duration.ofSeconds(1));
         Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT 1")) {
      return rs.next() && rs.getInt(1) == 1;
    } catch (SQLException e) {
      return false;
    }
  }

  /** A borrowed connection that just answered SELECT 1, or null (then it went back, broken). */
  static Connection liveConnection(PooledDataSource ds) {
    Connection c;
    try {
      c = ds.getConnection(Duration.ofSeconds(1));
    } catch (SQLException e) {
      return null;
    }
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
      if (rs.next()) return c;
    } catch (SQLException e) {
      // a connection to the old server: close() below gives it back as broken
    }
    try {
      c.close();
    } catch (SQLException ignored) {
      // close of a proxy does not fail
    }
    return null;
  }

  @Test
  void servesAgainAfterRestart() throws Exception {
    final String app = "jdbc_restart";
    try (PooledDataSource ds = PgServer.builder(app).maxSize(3).minIdle(2)
             .set("retry_initial_ms", 50).set("retry_max_ms", 500).set("unavailable_after_ms", 0)
             .build()) {
      ds.awaitReady(Duration.ofSeconds(30));
      assertTrue(selectOne(ds));
      assertTrue(PgServer.await(Duration.ofSeconds(30), () -> ds.stats().connections().idle() == 2));
      try {
        PgServer.stop();
        // Down: the idle connections are dead, new ones cannot be made.
        SQLException e = assertThrows(SQLException.class, () -> {
          try (Connection c = ds.getConnection(Duration.ofMillis(300)); Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1");
          }
        });
        assertTrue(e.getSQLState() != null && e.getSQLState().startsWith("08"), e.getSQLState() + ": " + e.getMessage());
      } finally {
        PgServer.start();
      }
      // Poll with a deadline: dead connections are found (validation, class-08 errors) and replaced.
      assertTrue(PgServer.await(Duration.ofSeconds(60), () -> selectOne(ds)), "no connection after the restart: " + ds.statsJson());
      // All of max_size at once, each a live session on the new server (a dead one that was
      // still idle is found broken on first use, and the next try gets a fresh one).
      List<Connection> held = new ArrayList<>();
      try {
        assertTrue(PgServer.await(Duration.ofSeconds(60), () -> {
          Connection c = liveConnection(ds);
          if (c != null) held.add(c);
          return held.size() == 3;
        }), "held " + held.size() + ": " + ds.statsJson());
      } finally {
        for (Connection c : held) c.close();
      }
      assertEquals(0, ds.stats().connections().inUse());
      long total = ds.stats().connections().total();
      assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne(app) == ds.stats().connections().total()),
          "server sessions " + PgServer.sessionsOrMinusOne(app) + ", pool total " + total);
    }
    assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne(app) == 0));
  }
}
