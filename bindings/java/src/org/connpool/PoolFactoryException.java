// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** A factory callback failed on this call's path, e.g. a no-wait acquire had to create (CONNPOOL_EFACTORY, HTTP 502). */
public class PoolFactoryException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolFactoryException(String detail) {
    super(Status.EFACTORY, detail);
  }
}
