// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** The backend is unavailable and the pool fails fast (CONNPOOL_EUNAVAILABLE, HTTP 503). */
public class PoolUnavailableException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolUnavailableException(String detail) {
    super(Status.EUNAVAILABLE, detail);
  }
}
