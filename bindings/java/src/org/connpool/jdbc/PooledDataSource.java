// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.connpool.Lease;
import org.connpool.Pool;
import org.connpool.PoolException;
import org.connpool.PoolStats;
import org.connpool.State;

/**
 * A {@link DataSource} over a libconnpool {@link Pool} of JDBC connections.
 *
 * <pre>{@code
 * try (PooledDataSource ds = PooledDataSource.builder("jdbc:postgresql://db:5432/app")
 *          .user("app").password(secret).name("orders").maxSize(10).minIdle(2).build();
 *      Connection c = ds.getConnection()) {   // close() gives it back to the pool
 *   ...
 * }
 * }</pre>
 *
 * <p>{@link #getConnection()} waits up to the pool's {@code acquire_timeout_ms} and hands out
 * a proxy whose {@code close()} returns the connection to the pool; on the way back the pool
 * rolls back an open transaction and restores the autocommit, read-only, isolation, catalog
 * and schema settings the borrower changed (config {@code reset_on_release}, on by default). A
 * connection whose use threw an SQLException with SQLState class 08 (or PostgreSQL's 57P01..03)
 * is destroyed rather than reused. Idle connections are checked with
 * {@link Connection#isValid} as {@code validate_on_acquire} says. Failures: {@link
 * java.sql.SQLTransientConnectionException} for a timeout or overload, {@link SQLException}
 * with the pool's message otherwise.
 *
 * <p>Thread-safe. {@link #close()} closes the pool; connections still out stay usable and are
 * destroyed when closed.
 */
public final class PooledDataSource implements DataSource, AutoCloseable {
  private final Pool<PhysicalConnection> pool;
  private final String name;
  private volatile PrintWriter logWriter;
  private volatile int loginTimeout;

  PooledDataSource(Pool<PhysicalConnection> pool) {
    this.pool = pool;
    this.name = pool.stats().name();
  }

  /** Starts a configuration for {@code jdbcUrl}; see {@link PooledDataSourceBuilder}. */
  public static PooledDataSourceBuilder builder(String jdbcUrl) {
    return new PooledDataSourceBuilder(jdbcUrl);
  }

  /** A pooled connection, waiting up to the configured acquire timeout. */
  @Override
  public Connection getConnection() throws SQLException {
    try {
      return borrow(pool.acquire());
    } catch (PoolException e) {
      throw SqlStates.fromPool(name, e);
    }
  }

  /** A pooled connection, waiting up to {@code timeout} ({@link Duration#ZERO}: do not wait). */
  public Connection getConnection(Duration timeout) throws SQLException {
    try {
      return borrow(pool.acquire(timeout));
    } catch (PoolException e) {
      throw SqlStates.fromPool(name, e);
    }
  }

  private static Connection borrow(Lease<PhysicalConnection> lease) {
    try {
      return ConnectionHandler.proxy(lease);
    } catch (RuntimeException | Error e) {
      lease.discard();
      throw e;
    }
  }

  /** Not supported: every connection of a pool uses the configured credentials. */
  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("PooledDataSource: per-call credentials are not supported; configure user/password on the builder");
  }

  /** The pool's stats document (docs/STATS.md); never touches the database. */
  public String statsJson() {
    return pool.statsJson();
  }

  /** The pool's stats, typed ({@link Pool#stats()}); never touches the database. */
  public PoolStats stats() {
    return pool.stats();
  }

  /**
   * The stats document untyped; what {@code stats()} returned before 1.2.
   *
   * @deprecated use {@link #stats()} (typed) or {@link #statsJson()}
   */
  @Deprecated(since = "1.2.0")
  public Map<String, Object> statsMap() {
    return pool.statsMap();
  }

  /** The pool's Prometheus metrics. */
  public String metricsText() {
    return pool.metricsText();
  }

  public State state() {
    return pool.state();
  }

  /** 200 when the pool is ready or degraded, else 503 (for a readiness probe). */
  public int httpStatus() {
    return pool.httpStatus();
  }

  /** Waits until the pool is ready or degraded (a first connection was made). */
  public void awaitReady(Duration timeout) throws SQLException {
    try {
      pool.awaitReady(timeout);
    } catch (PoolException e) {
      throw SqlStates.fromPool(name, e);
    }
  }

  /** The pool name (config {@code name}). */
  public String name() {
    return name;
  }

  public boolean isClosed() {
    return pool.isClosed();
  }

  /** Closes the pool: idle connections are closed, waiting getConnection calls fail. Idempotent. */
  @Override
  public void close() {
    pool.close();
  }

  @Override
  public PrintWriter getLogWriter() {
    return logWriter;
  }

  /** Kept for the DataSource contract; the pool logs through connpool's log callback. */
  @Override
  public void setLogWriter(PrintWriter out) {
    logWriter = out;
  }

  /** Kept for the DataSource contract; connect timeouts are the driver's (URL) settings. */
  @Override
  public void setLoginTimeout(int seconds) {
    loginTimeout = seconds;
  }

  @Override
  public int getLoginTimeout() {
    return loginTimeout;
  }

  @Override
  public Logger getParentLogger() {
    return Logger.getLogger("org.connpool.jdbc");
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface != null && iface.isInstance(this)) return iface.cast(this);
    throw new SQLException("PooledDataSource does not wrap " + (iface == null ? "null" : iface.getName()));
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface != null && iface.isInstance(this);
  }

  @Override
  public String toString() {
    return "PooledDataSource[" + name + ", " + (pool.isClosed() ? "closed" : pool.state()) + "]";
  }
}
