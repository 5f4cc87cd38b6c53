// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One JDBC connection the pool owns, with the session settings it had when it was opened and
 * which of them a borrower changed (through the proxy), so that the release resets only those.
 * Touched by one thread at a time: the borrower, then the releasing thread running the reset.
 */
final class PhysicalConnection {
  static final int AUTO_COMMIT = 1;
  static final int READ_ONLY = 2;
  static final int ISOLATION = 4;
  static final int CATALOG = 8;
  static final int SCHEMA = 16;

  final Connection raw;
  final boolean autoCommit;
  final boolean readOnly;
  final int isolation;
  final String catalog;
  final String schema;
  final boolean schemaSupported;
  private int dirty;

  PhysicalConnection(Connection raw) throws SQLException {
    this.raw = raw;
    autoCommit = raw.getAutoCommit();
    readOnly = raw.isReadOnly();
    isolation = raw.getTransactionIsolation();
    catalog = raw.getCatalog();
    String s = null;
    boolean supported = true;
    try {
      s = raw.getSchema();
    } catch (AbstractMethodError | java.sql.SQLFeatureNotSupportedException e) {
      supported = false;  // a pre-JDBC 4.1 driver
    }
    schema = s;
    schemaSupported = supported;
  }

  /** Records that the borrower changed a setting (one of the constants above). */
  void changed(int setting) {
    dirty |= setting;
  }

  boolean isDirty(int setting) {
    return (dirty & setting) != 0;
  }

  /**
   * Back to the state at creation: rolls back an open transaction (autocommit off), then
   * restores each changed setting. Throws when the connection cannot be reset (it is then destroyed).
   */
  void reset() throws SQLException {
    if (!raw.getAutoCommit()) raw.rollback();
    if (isDirty(AUTO_COMMIT)) raw.setAutoCommit(autoCommit);
    if (isDirty(READ_ONLY)) raw.setReadOnly(readOnly);
    if (isDirty(ISOLATION)) raw.setTransactionIsolation(isolation);
    if (isDirty(CATALOG) && catalog != null) raw.setCatalog(catalog);
    if (isDirty(SCHEMA) && schemaSupported && schema != null) raw.setSchema(schema);
    raw.clearWarnings();
    dirty = 0;
  }
}
