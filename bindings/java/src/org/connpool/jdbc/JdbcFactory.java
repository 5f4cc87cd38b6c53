// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;
import org.connpool.ConnectionFactory;
import org.connpool.CreateException;

/**
 * Opens JDBC connections with one Driver, URL and set of properties; validates them with
 * {@link Connection#isValid}, resets them on release ({@link PhysicalConnection#reset}) and
 * closes them on destroy. Bad credentials, an unknown database or a missing CONNECT right are
 * permanent failures (the pool turns unavailable at once); anything else is retried.
 */
final class JdbcFactory implements ConnectionFactory<PhysicalConnection> {
  private final Driver driver;
  private final String url;
  private final Properties props;
  private final int validationTimeoutSeconds;

  JdbcFactory(Driver driver, String url, Properties props, int validationTimeoutSeconds) {
    this.driver = driver;
    this.url = url;
    this.props = props;
    this.validationTimeoutSeconds = validationTimeoutSeconds;
  }

  @Override
  public PhysicalConnection create() throws Exception {
    Connection c;
    try {
      c = driver.connect(url, props);
    } catch (SQLException e) {
      String msg = "connect failed: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")";
      throw new CreateException(msg, SqlStates.isPermanentConnectFailure(e), e);
    }
    if (c == null) throw CreateException.fatal(driver.getClass().getName() + " does not accept the URL " + url);
    try {
      return new PhysicalConnection(c);
    } catch (SQLException | RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  @Override
  public boolean validate(PhysicalConnection c) throws SQLException {
    return c.raw.isValid(validationTimeoutSeconds);
  }

  @Override
  public boolean reset(PhysicalConnection c) throws SQLException {
    c.reset();
    return true;
  }

  @Override
  public void destroy(PhysicalConnection c) {
    closeQuietly(c.raw);
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // a broken connection may fail to close; it is gone either way
    }
  }
}
