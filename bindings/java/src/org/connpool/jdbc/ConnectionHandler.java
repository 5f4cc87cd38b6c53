// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.connpool.Lease;

/**
 * The logical connection a borrower holds: a {@link Proxy} {@link Connection} over the
 * pooled one. {@code close()} gives the lease back (the pool then resets the session); a
 * second close is a no-op; any other call after close throws "connection is closed". An
 * SQLException saying the connection is gone ({@link SqlStates#isDisconnect}) from the
 * connection or from a statement, result set or metadata object it made marks it broken,
 * and close then has the pool destroy it instead of reusing it. Statements still open at
 * close are closed.
 */
final class ConnectionHandler implements InvocationHandler {
  private final Lease<PhysicalConnection> lease;
  private final PhysicalConnection phys;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final List<Statement> statements = new ArrayList<>();
  private volatile boolean broken;
  private Connection proxy;

  private ConnectionHandler(Lease<PhysicalConnection> lease) {
    this.lease = lease;
    this.phys = lease.get();
  }

  static Connection proxy(Lease<PhysicalConnection> lease) {
    ConnectionHandler h = new ConnectionHandler(lease);
    h.proxy = (Connection) Proxy.newProxyInstance(
        ConnectionHandler.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
    return h.proxy;
  }

  Connection proxy() {
    return proxy;
  }

  boolean isClosed() {
    return closed.get();
  }

  static SQLException closedException() {
    return new SQLException("connection is closed", SqlStates.CLOSED);
  }

  /** Notes what a driver call threw (a disconnect marks the connection broken) and returns it. */
  Throwable failed(InvocationTargetException e) {
    Throwable t = e.getCause();
    if (t instanceof SQLException && SqlStates.isDisconnect((SQLException) t)) broken = true;
    return t;
  }

  synchronized void forget(Statement s) {
    statements.remove(s);
  }

  @Override
  public Object invoke(Object self, Method m, Object[] args) throws Throwable {
    String name = m.getName();
    if (m.getDeclaringClass() == Object.class) {
      switch (name) {
        case "equals": return self == args[0];
        case "hashCode": return System.identityHashCode(self);
        default: return "PooledConnection[lease " + lease.id() + (closed.get() ? ", closed" : "") + "] " + phys.raw;
      }
    }
    switch (name) {
      case "close":
        close(false);
        return null;
      case "isClosed":
        return closed.get();
      case "isValid":
        if (closed.get()) return false;
        break;
      case "abort":
        abort((Executor) args[0]);
        return null;
      default:
        break;
    }
    if (closed.get()) throw closedException();
    switch (name) {
      case "unwrap":
        return unwrap((Class<?>) args[0]);
      case "isWrapperFor":
        return isWrapperFor((Class<?>) args[0]);
      default:
        break;
    }
    Object r;
    try {
      r = m.invoke(phys.raw, args);
    } catch (InvocationTargetException e) {
      throw failed(e);
    }
    noteChange(name);
    return wrapResult(m.getReturnType(), r);
  }

  private void noteChange(String name) {
    switch (name) {
      case "setAutoCommit": phys.changed(PhysicalConnection.AUTO_COMMIT); break;
      case "setReadOnly": phys.changed(PhysicalConnection.READ_ONLY); break;
      case "setTransactionIsolation": phys.changed(PhysicalConnection.ISOLATION); break;
      case "setCatalog": phys.changed(PhysicalConnection.CATALOG); break;
      case "setSchema": phys.changed(PhysicalConnection.SCHEMA); break;
      default: break;
    }
  }

  private Object wrapResult(Class<?> type, Object r) {
    if (r == null) return null;
    if (type == Statement.class || type == PreparedStatement.class || type == CallableStatement.class) {
      synchronized (this) {
        statements.add((Statement) r);
      }
      return ChildHandler.wrap(this, type, r, null, null);
    }
    if (type == DatabaseMetaData.class) return ChildHandler.wrap(this, type, r, null, null);
    return r;
  }

  private Object unwrap(Class<?> iface) throws SQLException {
    if (iface.isInstance(proxy)) return proxy;
    if (iface.isInstance(phys.raw)) return phys.raw;
    return phys.raw.unwrap(iface);
  }

  private boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(proxy) || iface.isInstance(phys.raw) || phys.raw.isWrapperFor(iface);
  }

  /** Gives the lease back once; broken (destroyed by the pool) when a disconnect was seen. */
  private void close(boolean forceBroken) {
    if (!closed.compareAndSet(false, true)) return;
    List<Statement> open;
    synchronized (this) {
      open = new ArrayList<>(statements);
      statements.clear();
    }
    for (Statement s : open) {
      try {
        s.close();
      } catch (SQLException | RuntimeException e) {
        if (e instanceof SQLException && SqlStates.isDisconnect((SQLException) e)) broken = true;
      }
    }
    if (forceBroken || broken) lease.discard();
    else lease.close();
  }

  /** {@link Connection#abort}: the driver aborts the connection, the pool destroys it. */
  private void abort(Executor executor) throws SQLException {
    if (closed.get()) return;
    try {
      phys.raw.abort(executor);
    } finally {
      close(true);
    }
  }
}
