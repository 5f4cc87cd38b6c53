// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** The pool is draining or closed (CONNPOOL_ECLOSED, HTTP 503). */
public class PoolClosedException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolClosedException(String detail) {
    super(Status.ECLOSED, detail);
  }
}
