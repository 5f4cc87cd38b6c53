// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** No connection within the acquire timeout (CONNPOOL_ETIMEOUT, HTTP 503). */
public class PoolTimeoutException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolTimeoutException(String detail) {
    super(Status.ETIMEOUT, detail);
  }
}
