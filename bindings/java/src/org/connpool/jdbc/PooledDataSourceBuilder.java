// SPDX-License-Identifier: Apache-2.0
package org.connpool.jdbc;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.connpool.Pool;
import org.connpool.PoolException;

/**
 * Configures a {@link PooledDataSource}: the JDBC side (URL, user, password, driver
 * properties, optionally a {@link Driver} instance; else the one {@link DriverManager} finds
 * for the URL) and the pool side, with the same keys as {@link Pool.Builder}
 * (docs/CONFIGURATION.md: {@code set("validate_on_acquire", "always")}, a JSON object, or the
 * shortcuts {@link #name}, {@link #maxSize}, {@link #minIdle}, {@link #acquireTimeout}).
 */
public final class PooledDataSourceBuilder {
  private final String url;
  private final Properties props = new Properties();
  private final Map<String, Object> settings = new LinkedHashMap<>();
  private Driver driver;
  private String json;
  private Duration validationTimeout = Duration.ofSeconds(5);

  PooledDataSourceBuilder(String url) {
    this.url = url;
  }

  public PooledDataSourceBuilder user(String user) {
    return property("user", user);
  }

  public PooledDataSourceBuilder password(String password) {
    return property("password", password);
  }

  /** One driver property (as in {@link Driver#connect(String, Properties)}). */
  public PooledDataSourceBuilder property(String key, String value) {
    if (value == null) props.remove(key);
    else props.setProperty(key, value);
    return this;
  }

  /** Adds every entry of {@code p} to the driver properties. */
  public PooledDataSourceBuilder properties(Properties p) {
    for (String k : p.stringPropertyNames()) props.setProperty(k, p.getProperty(k));
    return this;
  }

  /** Connect with this driver instead of asking {@link DriverManager} for one. */
  public PooledDataSourceBuilder driver(Driver d) {
    this.driver = d;
    return this;
  }

  /** The timeout of {@link java.sql.Connection#isValid} (whole seconds, at least 1; default 5 s). */
  public PooledDataSourceBuilder validationTimeout(Duration d) {
    this.validationTimeout = d;
    return this;
  }

  /** Any pool configuration key; a Duration is sent in milliseconds. */
  public PooledDataSourceBuilder set(String key, Object value) {
    settings.remove(key);
    settings.put(key, value);
    return this;
  }

  /** Starts the pool configuration from a JSON object; set() calls override it. */
  public PooledDataSourceBuilder json(String configJson) {
    this.json = configJson;
    return this;
  }

  public PooledDataSourceBuilder name(String name) {
    return set("name", name);
  }

  public PooledDataSourceBuilder maxSize(int n) {
    return set("max_size", n);
  }

  public PooledDataSourceBuilder minIdle(int n) {
    return set("min_idle", n);
  }

  public PooledDataSourceBuilder acquireTimeout(Duration d) {
    return set("acquire_timeout_ms", d);
  }

  /**
   * Opens the pool (it connects in the background: a database that is down does not fail
   * this, getConnection waits for it).
   *
   * @throws SQLException no URL, no driver for it, or a bad pool setting (the message names the key)
   */
  public PooledDataSource build() throws SQLException {
    if (url == null || url.isEmpty()) throw new SQLException("PooledDataSource: no JDBC URL");
    Driver d = driver != null ? driver : DriverManager.getDriver(url);
    long timeoutSeconds = validationTimeout == null ? 5 : Math.max(1, (validationTimeout.toMillis() + 999) / 1000);
    Properties copy = new Properties();
    copy.putAll(props);
    JdbcFactory factory = new JdbcFactory(d, url, copy, (int) Math.min(Integer.MAX_VALUE, timeoutSeconds));
    Pool.Builder<PhysicalConnection> b = Pool.builder(factory);
    if (json != null) b.json(json);
    settings.forEach(b::set);
    Pool<PhysicalConnection> pool;
    try {
      pool = b.build();
    } catch (PoolException e) {
      throw new SQLException("PooledDataSource: " + e.getMessage(), "HY024", e);
    }
    try {
      return new PooledDataSource(pool);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }
}
