// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** Too many waiters, the request was shed at once (CONNPOOL_EOVERLOAD, HTTP 503). */
public class PoolOverloadException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolOverloadException(String detail) {
    super(Status.EOVERLOAD, detail);
  }
}
