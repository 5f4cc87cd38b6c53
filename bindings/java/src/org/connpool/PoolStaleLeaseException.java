// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** The lease is not current (CONNPOOL_ESTALE); the bindings' leases make this a bug report. */
public class PoolStaleLeaseException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolStaleLeaseException(String detail) {
    super(Status.ESTALE, detail);
  }
}
