// SPDX-License-Identifier: Apache-2.0
package org.connpool;

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

  /** The exception for a status code from the native library; one case per code. */
  static PoolException of(int code, String detail) {
    Status s;
    try {
      s = Status.swigToEnum(code);
    } catch (IllegalArgumentException e) {
      return new PoolException(Status.EINTERNAL, "unknown status code " + code + (detail == null ? "" : ": " + detail));
    }
    switch (s) {
      case EINVAL: return new PoolConfigException(detail);
      case ETIMEOUT: return new PoolTimeoutException(detail);
      case EUNAVAILABLE: return new PoolUnavailableException(detail);
      case ECLOSED: return new PoolClosedException(detail);
      case EOVERLOAD: return new PoolOverloadException(detail);
      case ESTALE: return new PoolStaleLeaseException(detail);
      case EFACTORY: return new PoolFactoryException(detail);
      default: return new PoolException(s, detail);
    }
  }
}
