// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.connpool.PoolClosedException;
import org.connpool.PoolException;
import org.connpool.PoolFactoryException;
import org.connpool.PoolOverloadException;
import org.connpool.PoolTimeoutException;
import org.connpool.PoolUnavailableException;

/** What SQLStates mean to the pool, and pool failures as the SQLExceptions JDBC callers expect. */
final class SqlStates {
  /** SQLState of every "connection is closed" error this package throws (connection does not exist). */
  static final String CLOSED = "08003";

  private SqlStates() {}

  /**
   * True when the connection that threw {@code e} is gone: SQLState class 08 (connection
   * exception), or PostgreSQL's 57P01..57P03 (the server terminated the session, crashed or is
   * starting), anywhere in the chain of causes and next exceptions.
   */
  static boolean isDisconnect(SQLException e) {
    int depth = 0;
    for (Throwable t = e; t != null && depth < 20; depth++) {
      if (t instanceof SQLException) {
        String s = ((SQLException) t).getSQLState();
        if (s != null && (s.startsWith("08") || s.equals("57P01") || s.equals("57P02") || s.equals("57P03")))
          return true;
        SQLException next = ((SQLException) t).getNextException();
        t = next != null ? next : t.getCause();
      } else {
        t = t.getCause();
      }
    }
    return false;
  }

  /** A create failure that retrying cannot fix: bad credentials, no such database, no CONNECT right. */
  static boolean isPermanentConnectFailure(SQLException e) {
    String s = e.getSQLState();
    return s != null && (s.startsWith("28") || s.equals("3D000") || s.equals("42501"));
  }

  /**
   * A pool failure as an SQLException with the pool's message: timeouts and overload are
   * transient ({@link SQLTransientConnectionException}: retrying later may work).
   */
  static SQLException fromPool(String poolName, PoolException e) {
    String msg = "pool '" + poolName + "': " + e.getMessage();
    if (e instanceof PoolTimeoutException || e instanceof PoolOverloadException)
      return new SQLTransientConnectionException(msg, "08001", e);
    if (e instanceof PoolClosedException) return new SQLException(msg, CLOSED, e);
    if (e instanceof PoolUnavailableException || e instanceof PoolFactoryException)
      return new SQLException(msg, "08001", e);
    return new SQLException(msg, null, e);
  }
}
