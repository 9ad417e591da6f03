package dev.byop.store.jdbc;

import dev.byop.core.Secret;
import dev.byop.core.spi.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import dev.byop.testing.Testbed;

/**
 * Where the tests' databases are: a fresh H2 file per test, or a fresh schema of the test bed's PostgreSQL (read from
 * {@link Testbed}).
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

  /** A fresh schema on the test bed's PostgreSQL (found through {@link Testbed}); fails clearly when the bed is down. */
  public static Db postgres() {
    Testbed.Postgres pg = Testbed.get().postgres();
    // A schema per test is much cheaper than a database per test; the test drops it afterwards.
    String schema = "store_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    return new Db() {
      public String url() { return pg.jdbcUrl(); }
      public String user() { return pg.user(); }
      public Secret password() { return Secret.of(pg.password()); }
      public String schema() { return schema; }
    };
  }
}
