// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/** PooledDataSource over a real PostgreSQL: real connections, reset, proxy, errors, no leaks. */
class PooledDataSourceTest {
  static int pid(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      assertTrue(rs.next());
      return rs.getInt(1);
    }
  }

  static String show(Connection c, String setting) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + setting)) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }

  @Test
  void connectionsAreReal() throws Exception {
    try (PooledDataSource ds = PgServer.builder("jdbc_real").maxSize(2).build();
         Connection c = ds.getConnection();
         Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT 1, current_user, current_setting('application_name')")) {
      assertTrue(rs.next());
      assertEquals(1, rs.getInt(1));
      assertEquals(PgServer.user(), rs.getString(2));
      assertEquals("jdbc_real", rs.getString(3));
      assertEquals(1, PgServer.sessions("jdbc_real"));
      assertSame(c, s.getConnection());
      assertSame(s, rs.getStatement());
    }
  }

  @Test
  void driverInstanceAndPropertiesConfigure() throws Exception {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("user", PgServer.user());
    p.setProperty("ApplicationName", "jdbc_driver");
    try (PooledDataSource ds = PooledDataSource.builder(PgServer.url()).driver(new org.postgresql.Driver())
             .properties(p).name("jdbc_driver").minIdle(1).set("validate_on_acquire", "always").build()) {
      ds.awaitReady(Duration.ofSeconds(30));
      try (Connection c = ds.getConnection(Duration.ofSeconds(5))) {
        assertEquals("jdbc_driver", show(c, "application_name"));
      }
      DataSource asDs = ds;
      assertSame(ds, asDs.unwrap(PooledDataSource.class));
      assertTrue(asDs.isWrapperFor(AutoCloseable.class));
      assertFalse(asDs.isWrapperFor(Connection.class));
      assertThrows(SQLException.class, () -> asDs.unwrap(Connection.class));
      assertThrows(SQLFeatureNotSupportedException.class, () -> asDs.getConnection("app", "x"));
    }
  }

  @Test
  void badPoolSettingIsSqlException() {
    SQLException e = assertThrows(SQLException.class, () -> PgServer.builder("jdbc_bad").set("max_size", 0).build());
    assertTrue(e.getMessage().contains("max_size"), e.getMessage());
    assertThrows(SQLException.class, () -> PooledDataSource.builder("jdbc:nosuchdriver://x").build());
  }

  @Test
  void releaseResetsWhatTheBorrowerChanged() throws Exception {
    PgServer.exec("DROP TABLE IF EXISTS jdbc_reset; CREATE TABLE jdbc_reset (v int)");
    PgServer.exec("DROP SCHEMA IF EXISTS jdbc_other CASCADE; CREATE SCHEMA jdbc_other");
    try (PooledDataSource ds = PgServer.builder("jdbc_reset").maxSize(1).build()) {
      int pid;
      try (Connection c = ds.getConnection()) {
        pid = pid(c);
        assertTrue(c.getAutoCommit());
        assertEquals(Connection.TRANSACTION_READ_COMMITTED, c.getTransactionIsolation());
        c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
        c.setSchema("jdbc_other");
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
          s.executeUpdate("INSERT INTO public.jdbc_reset VALUES (1)");  // never committed
          assertEquals("serializable", show(c, "transaction_isolation"));
          assertEquals("jdbc_other", c.getSchema());
        }
      }
      try (Connection c = ds.getConnection()) {
        assertEquals(pid, pid(c), "the same physical connection (max_size 1)");
        assertTrue(c.getAutoCommit());
        assertFalse(c.isReadOnly());
        assertEquals(Connection.TRANSACTION_READ_COMMITTED, c.getTransactionIsolation());
        assertEquals("read committed", show(c, "transaction_isolation"));
        assertEquals("public", c.getSchema());
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_reset")) {
          assertTrue(rs.next());
          assertEquals(0, rs.getInt(1), "the open transaction was rolled back");
        }
      }
      assertEquals(0, ds.stats().counters().closedBroken());
    }
  }

  @Test
  void readOnlyIsResetToo() throws Exception {
    try (PooledDataSource ds = PgServer.builder("jdbc_readonly").maxSize(1).build()) {
      try (Connection c = ds.getConnection()) {
        c.setReadOnly(true);
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
          assertEquals("on", show(c, "transaction_read_only"));
          SQLException e = assertThrows(SQLException.class, () -> s.execute("CREATE TEMP TABLE t (v int)"));
          assertEquals("25006", e.getSQLState(), e.getMessage());  // read_only_sql_transaction
        }
      }
      try (Connection c = ds.getConnection()) {
        assertFalse(c.isReadOnly());
        assertEquals("off", show(c, "transaction_read_only"));
        try (Statement s = c.createStatement()) {
          s.execute("CREATE TEMP TABLE t (v int)");
        }
      }
      assertEquals(0, ds.stats().counters().closedBroken(), "a failed statement is not a broken connection");
    }
  }

  @Test
  void proxyCloseSemantics() throws Exception {
    try (PooledDataSource ds = PgServer.builder("jdbc_proxy").maxSize(1).build()) {
      Connection c = ds.getConnection();
      assertFalse(c.isClosed());
      assertTrue(c.isValid(5));
      assertTrue(c.isWrapperFor(PGConnection.class));
      assertNotNull(c.unwrap(PGConnection.class));
      assertSame(c, c.unwrap(Connection.class));
      PreparedStatement ps = c.prepareStatement("SELECT ?::int");
      ps.setInt(1, 7);
      ResultSet rs = ps.executeQuery();
      assertEquals(1, ds.stats().connections().inUse());
      c.close();
      assertTrue(c.isClosed());
      c.close();  // a second close is a no-op
      assertFalse(c.isValid(1));
      assertEquals(0, ds.stats().connections().inUse());
      assertEquals(1, ds.stats().counters().acquired());
      SQLException e = assertThrows(SQLException.class, c::createStatement);
      assertEquals("connection is closed", e.getMessage());
      assertEquals("08003", e.getSQLState());
      assertThrows(SQLException.class, () -> c.setAutoCommit(false));
      assertThrows(SQLException.class, () -> c.unwrap(PGConnection.class));
      // What the connection made cannot reach the pooled connection any more either.
      assertTrue(ps.isClosed());
      assertThrows(SQLException.class, ps::executeQuery);
      assertThrows(SQLException.class, rs::next);
      try (Connection again = ds.getConnection()) {
        assertNotEquals(c, again);
        assertEquals(2, ds.stats().counters().acquired());
      }
      assertEquals(0, ds.stats().counters().staleReleases());
    }
  }

  @Test
  void terminatedBackendIsReleasedBroken() throws Exception {
    try (PooledDataSource ds = PgServer.builder("jdbc_broken").maxSize(1).build()) {
      int pid;
      try (Connection c = ds.getConnection()) {
        pid = pid(c);
        assertEquals(1, PgServer.queryLong("SELECT pg_terminate_backend(" + pid + ")::int"));
        assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne("jdbc_broken") == 0),
            "the backend did not go away");
        SQLException e = assertThrows(SQLException.class, () -> pid(c));
        assertTrue(SqlStates.isDisconnect(e), "SQLState " + e.getSQLState() + ": " + e.getMessage());
      }
      assertEquals(1, ds.stats().counters().closedBroken());
      assertEquals(0, ds.stats().connections().total());
      try (Connection c = ds.getConnection()) {
        assertNotEquals(pid, pid(c));
      }
      assertEquals(1, ds.stats().connections().total());
    }
  }

  @Test
  void acquireTimeoutIsTransient() throws Exception {
    try (PooledDataSource ds = PgServer.builder("jdbc_timeout").maxSize(1).acquireTimeout(Duration.ofMillis(200)).build();
         Connection held = ds.getConnection()) {
      long t0 = System.nanoTime();
      SQLTransientConnectionException e = assertThrows(SQLTransientConnectionException.class, ds::getConnection);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 150, "waited " + ms + " ms");
      assertTrue(e.getMessage().contains("jdbc_timeout") && e.getMessage().contains("CONNPOOL_ETIMEOUT"), e.getMessage());
      assertThrows(SQLTransientConnectionException.class, () -> ds.getConnection(Duration.ZERO));
      assertEquals(2, ds.stats().counters().timeouts());
      assertFalse(held.isClosed());
    }
  }

  @Test
  void closedDataSourceRefuses() throws Exception {
    PooledDataSource ds = PgServer.builder("jdbc_closed").maxSize(2).build();
    Connection out = ds.getConnection();
    ds.close();
    ds.close();
    assertTrue(ds.isClosed());
    SQLException e = assertThrows(SQLException.class, ds::getConnection);
    assertTrue(e.getMessage().contains("CONNPOOL_ECLOSED"), e.getMessage());
    assertEquals(1, pid(out) > 0 ? 1 : 0, "a connection still out keeps working");
    out.close();  // destroyed now, not pooled
    assertTrue(PgServer.await(Duration.ofSeconds(30), () -> PgServer.sessionsOrMinusOne("jdbc_closed") == 0));
  }
}
