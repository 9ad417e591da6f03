package dev.byop.store.jdbc;

import dev.byop.core.Secret;
import dev.byop.core.spi.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the tests' databases are: a fresh H2 file per test, or a fresh schema of the test bed's PostgreSQL (read from
 * the test bed's env file until {@code dev.byop.testing.Testbed} is on main).
 */
public final class TestDatabases {
  private TestDatabases() { }

  /** A database a test can open several stores on (several "processes"). */
  public interface Db {
    String url();

    String user();

    Secret password();

    String schema();

    default Store open(int poolSize) {
      return JdbcStoreFactory.open(url(), user(), password(), schema(), poolSize);
    }
  }

  public static Db h2() {
    try {
      Path dir = Files.createTempDirectory("byop-store-h2");
      String url = JdbcStoreFactory.h2Url(dir);
      return new Db() {
        public String url() { return url; }
        public String user() { return "sa"; }
        public Secret password() { return Secret.of(""); }
        public String schema() { return null; }
      };
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** H2 reached over TCP at a server the test runs, so that a child JVM can share the database. */
  public static Db h2Tcp(int port, Path dir) {
    String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/" + dir.toAbsolutePath().resolve("byop");
    return new Db() {
      public String url() { return url; }
      public String user() { return "sa"; }
      public Secret password() { return Secret.of(""); }
      public String schema() { return null; }
    };
  }

  static Map<String, String> testbedEnv() {
    Path env = Path.of(System.getProperty("byop.testbed.env", "/tmp/byop-testbed/env"));
    Map<String, String> out = new LinkedHashMap<>();
    if (!Files.isRegularFile(env)) return out;
    try {
      for (String line : Files.readAllLines(env)) {
        int eq = line.indexOf('=');
        if (line.isBlank() || line.startsWith("#") || eq < 0) continue;
        String v = line.substring(eq + 1).trim();
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
          v = v.substring(1, v.length() - 1);
        }
        out.put(line.substring(0, eq).trim().replaceFirst("^export\\s+", ""), v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** A fresh schema on the test bed's PostgreSQL; the IT fails (not skips) when the bed is down. */
  public static Db postgres() {
    Map<String, String> env = testbedEnv();
    String url = env.get("PG_JDBC_URL");
    if (url == null) {
      String host = env.getOrDefault("PG_HOST", "127.0.0.1");
      String port = env.getOrDefault("PG_PORT", "5433");
      String db = env.getOrDefault("PG_DATABASE", "byop");
      url = "jdbc:postgresql://" + host + ":" + port + "/" + db;
    }
    String user = env.getOrDefault("PG_USER", "byop");
    String password = env.get("PG_PASSWORD");
    if (password == null) throw new IllegalStateException("test bed not up: no PG_PASSWORD in the env file");
    String schema = "store_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    String u = url;
    return new Db() {
      public String url() { return u; }
      public String user() { return user; }
      public Secret password() { return Secret.of(password); }
      public String schema() { return schema; }
    };
  }

  static void assumeTrue(boolean b, String why) {
    Assumptions.assumeTrue(b, why);
  }
}
