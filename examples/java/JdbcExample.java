// SPDX-License-Identifier: Apache-2.0
// A JDBC DataSource over libconnpool with PostgreSQL: configure it with a JDBC URL and pool
// settings, borrow connections in try-with-resources (close() gives them back, reset), and
// turn pool failures into an HTTP status.
//
// Build: javac -cp connpool.jar JdbcExample.java
// Run:   java -Djava.library.path=<dir of libconnpool_java.so> \
//             -cp connpool.jar:/usr/share/java/postgresql.jar:. JdbcExample jdbc:postgresql://127.0.0.1:5432/postgres app
//        (or set CONNPOOL_PG_JDBC_URL and CONNPOOL_PG_USER, as tests/integration/with_pg_server.sh does)
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.connpool.PoolStats;
import org.connpool.jdbc.PooledDataSource;

public final class JdbcExample {
  private JdbcExample() {}

  private static String arg(String[] args, int i, String env, String fallback) {
    if (args.length > i) return args[i];
    String v = System.getenv(env);
    return v == null || v.isEmpty() ? fallback : v;
  }

  public static void main(String[] args) throws SQLException {
    String url = arg(args, 0, "CONNPOOL_PG_JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
    String user = arg(args, 1, "CONNPOOL_PG_USER", "postgres");
    try (PooledDataSource ds = PooledDataSource.builder(url)
             .user(user)                                  // .password(...), .property("ssl", "true"), ...
             .name("orders").maxSize(4).minIdle(1)
             .acquireTimeout(Duration.ofSeconds(2))
             .set("validate_on_acquire", "idle")          // any key of docs/CONFIGURATION.md
             .build()) {
      for (int request = 1; request <= 3; request++) {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 10, pg_backend_pid()")) {
          c.setAutoCommit(false);                         // reset to true when the connection goes back
          ps.setInt(1, request);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            System.out.println("request " + request + ": " + rs.getInt(1) + " (backend " + rs.getInt(2) + ")");
          }
          c.commit();
        } catch (SQLTransientConnectionException e) {
          System.out.println("HTTP 503, retry later: " + e.getMessage());  // pool timeout
        }
      }
      System.out.println("readiness: HTTP " + ds.httpStatus());
      PoolStats stats = ds.stats();
      System.out.println("stats: " + stats.connections() + " " + stats.counters());
    }
  }
}
