// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import java.lang.reflect.Constructor;

/**
 * A pool call failed. The subclass says why; {@link #code()} is the C library's status code
 * (CONNPOOL_STATUS_MAP in connpool.h: the one table every binding is generated from) and
 * {@link #httpStatus()} what a service should answer (503 for timeout, unavailable, overload
 * and closed; 502 when a factory failed on this call; 500 otherwise).
 */
public class PoolException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Status status;

  protected PoolException(Status status, String detail) {
    super(message(status, detail));
    this.status = status;
  }

  private static String message(Status status, String detail) {
    String base = connpool.statusName(status.swigValue()) + ": " + connpool.statusMessage(status.swigValue());
    return detail == null || detail.isEmpty() ? base : base + ": " + detail;
  }

  /** The status code as pinned in connpool.h (e.g. 2 for CONNPOOL_ETIMEOUT). */
  public int code() {
    return status.swigValue();
  }

  /** The status as an enum. */
  public Status status() {
    return status;
  }

  /** The code's name, e.g. "CONNPOOL_ETIMEOUT". */
  public String codeName() {
    return connpool.statusName(status.swigValue());
  }

  public int httpStatus() {
    return connpool.httpStatusFor(status.swigValue());
  }

  /**
   * The exception class of each status code, from the exception column of the status table
   * (CONNPOOL_BINDING_STATUS_MAP in connpool_facade.hpp, checked against connpool.h's list):
   * the constructor taking the detail, or null where the base class serves.
   */
  private static final Constructor<?>[] BY_CODE = byCode();

  private static Constructor<?>[] byCode() {
    Status[] all = Status.values();
    Constructor<?>[] out = new Constructor<?>[all.length];
    for (Status s : all) {
      String name = connpool.exceptionNameFor(s.swigValue());
      if (name.isEmpty() || name.equals("PoolException")) continue;
      try {
        out[s.swigValue()] = Class.forName("org.connpool." + name).getConstructor(String.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError("status table names a class this jar lacks: " + name);
      }
    }
    return out;
  }

  /** The exception for a status code from the native library, as the status table says. */
  static PoolException of(int code, String detail) {
    Status s;
    try {
      s = Status.swigToEnum(code);
    } catch (IllegalArgumentException e) {
      return new PoolException(Status.EINTERNAL, "unknown status code " + code + (detail == null ? "" : ": " + detail));
    }
    Constructor<?> c = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (c == null) return new PoolException(s, detail);
    try {
      return (PoolException) c.newInstance(detail);
    } catch (ReflectiveOperationException e) {
      return new PoolException(s, detail);  // cannot happen: public constructors of our classes
    }
  }
}
