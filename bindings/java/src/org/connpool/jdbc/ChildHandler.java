// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * A {@link Proxy} over a Statement, ResultSet or DatabaseMetaData made through a pooled
 * connection, so that its errors reach the connection's broken check, its
 * {@code getConnection()} / {@code getStatement()} answer the proxies rather than the
 * driver's objects, and nothing can reach the pooled connection once its borrower closed it
 * (another borrower may own it by then).
 */
final class ChildHandler implements InvocationHandler {
  private final ConnectionHandler conn;
  private final Object target;
  private final Object parentProxy;
  private final Object parentTarget;

  private ChildHandler(ConnectionHandler conn, Object target, Object parentProxy, Object parentTarget) {
    this.conn = conn;
    this.target = target;
    this.parentProxy = parentProxy;
    this.parentTarget = parentTarget;
  }

  static Object wrap(ConnectionHandler conn, Class<?> iface, Object target, Object parentProxy, Object parentTarget) {
    return Proxy.newProxyInstance(ChildHandler.class.getClassLoader(), new Class<?>[] {iface},
        new ChildHandler(conn, target, parentProxy, parentTarget));
  }

  @Override
  public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
    String name = m.getName();
    if (m.getDeclaringClass() == Object.class) {
      switch (name) {
        case "equals": return proxy == args[0];
        case "hashCode": return System.identityHashCode(proxy);
        default: return "Pooled" + m.getDeclaringClass().getSimpleName() + "[" + target + "]";
      }
    }
    if (conn.isClosed()) {
      // Closed with the connection; nothing may reach the pooled connection any more.
      if (name.equals("close")) return null;
      if (name.equals("isClosed")) return true;
      throw ConnectionHandler.closedException();
    }
    if (name.equals("unwrap") && ((Class<?>) args[0]).isInstance(proxy)) return proxy;
    if (name.equals("isWrapperFor") && ((Class<?>) args[0]).isInstance(proxy)) return true;
    Object r;
    try {
      r = m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw conn.failed(e);
    }
    if (name.equals("close") && target instanceof Statement) conn.forget((Statement) target);
    if (r == null) return null;
    Class<?> type = m.getReturnType();
    if (type == Connection.class) return conn.proxy();
    if (type == Statement.class && r == parentTarget) return parentProxy;
    if (type == ResultSet.class) return wrap(conn, ResultSet.class, r, proxy, target);
    return r;
  }
}
