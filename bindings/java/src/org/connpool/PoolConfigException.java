// SPDX-License-Identifier: Apache-2.0
package org.connpool;

/** Invalid argument (CONNPOOL_EINVAL): an unknown configuration key or a value out of range; the message names the key and the allowed range. */
public class PoolConfigException extends PoolException {
  private static final long serialVersionUID = 1L;

  public PoolConfigException(String detail) {
    super(Status.EINVAL, detail);
  }
}
