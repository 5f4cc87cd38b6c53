// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The throwaway PostgreSQL server tests/integration/with_pg_server.sh started for this JVM
 * (CONNPOOL_PG_* variables), an unpooled admin connection to it, and its stop/start.
 */
final class PgServer {
  private static Connection admin;

  private PgServer() {}

  static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty())
      throw new IllegalStateException(name + " is not set: run this suite through tests/integration/with_pg_server.sh");
    return v;
  }

  static String url() {
    return env("CONNPOOL_PG_JDBC_URL");
  }

  static String user() {
    return env("CONNPOOL_PG_USER");
  }

  /** A DataSource builder for this server whose sessions carry application_name = {@code name}. */
  static PooledDataSourceBuilder builder(String name) {
    return PooledDataSource.builder(url()).user(user()).property("ApplicationName", name).name(name);
  }

  /** `pg_ctl -m immediate stop`: an outage, backends die without a goodbye. */
  static void stop() throws IOException, InterruptedException {
    control("stop");
    closeAdmin();
  }

  static void start() throws IOException, InterruptedException {
    control("start");
  }

  private static void control(String what) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(env("CONNPOOL_PG_CONTROL"), what).inheritIO().start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("with_pg_server.sh " + what + " did not finish");
    }
    if (p.exitValue() != 0) throw new IllegalStateException("with_pg_server.sh " + what + " failed: " + p.exitValue());
  }

  private static Connection admin() throws SQLException {
    if (admin == null || admin.isClosed() || !admin.isValid(5)) {
      closeAdmin();
      Properties p = new Properties();
      p.setProperty("user", user());
      p.setProperty("ApplicationName", "connpool_test_admin");
      admin = DriverManager.getConnection(url(), p);
    }
    return admin;
  }

  private static void closeAdmin() {
    try {
      if (admin != null) admin.close();
    } catch (SQLException ignored) {
      // the server may be gone
    }
    admin = null;
  }

  static void exec(String sql) throws SQLException {
    try (Statement s = admin().createStatement()) {
      s.execute(sql);
    }
  }

  static long queryLong(String sql) throws SQLException {
    try (Statement s = admin().createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Client sessions the server has for application_name {@code app}. */
  static long sessions(String app) throws SQLException {
    return queryLong("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        + " AND application_name = '" + app.replace("'", "''") + "'");
  }

  /** Polls {@code cond} until it holds or {@code deadline} passes (no sleep as synchronisation). */
  static boolean await(Duration deadline, BooleanSupplier cond) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() - end > 0) return false;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** {@link #sessions} that maps an SQL failure to -1, for polling. */
  static long sessionsOrMinusOne(String app) {
    try {
      return sessions(app);
    } catch (SQLException e) {
      return -1;
    }
  }
}
