package dev.byop.store.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.byop.core.Secret;
import dev.byop.core.StoreException;
import dev.byop.core.ValidationException;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.h2.jdbcx.JdbcConnectionPool;
import org.jdbi.v3.core.Jdbi;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens a data source for a JDBC URL, applies the migrations, and wraps it in a {@link JdbiStore}. */
public final class StoreOpener {
  private static final Logger LOG = LoggerFactory.getLogger(StoreOpener.class);
  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  /** Where the versioned SQL migrations live on the class path. */
  public static final String MIGRATIONS = "classpath:dev/byop/store/jdbc/migration";
  /** The table Flyway records applied migrations in. */
  public static final String HISTORY_TABLE = "byop_schema_history";

  private StoreOpener() { }

  /**
   * @param url a {@code jdbc:h2:} or {@code jdbc:postgresql:} URL
   * @param user the database user, or null
   * @param password its password, or null
   * @param schema a PostgreSQL schema to use (created when missing), or null for the user's default
   * @param poolSize the most connections held at once
   */
  public static JdbiStore open(String url, @Nullable String user, @Nullable Secret password, @Nullable String schema,
      int poolSize) {
    if (schema != null && !SCHEMA.matcher(schema).matches()) {
      throw new ValidationException("store.schema", schema, "must be a lower-case SQL identifier [a-z_][a-z0-9_]*");
    }
    if (poolSize < 1) throw new ValidationException("store.poolSize", String.valueOf(poolSize), "must be at least 1");
    final DataSource ds;
    final AutoCloseable closer;
    final JdbiStore.Dialect dialect;
    if (url.startsWith("jdbc:h2:")) {
      dialect = JdbiStore.Dialect.H2;
      JdbcConnectionPool pool = JdbcConnectionPool.create(durableH2(url), user == null ? "" : user,
          password == null ? "" : password.reveal());
      pool.setMaxConnections(poolSize);
      ds = pool;
      closer = pool::dispose;
    } else if (url.startsWith("jdbc:postgresql:")) {
      dialect = JdbiStore.Dialect.POSTGRESQL;
      HikariConfig hc = new HikariConfig();
      hc.setJdbcUrl(url);
      if (user != null) hc.setUsername(user);
      if (password != null) hc.setPassword(password.reveal());
      hc.setMaximumPoolSize(poolSize);
      hc.setMinimumIdle(Math.min(2, poolSize));
      hc.setPoolName("byop-store");
      if (schema != null) hc.setSchema(schema);
      // Flyway creates the schema; the pool must not try to validate connections against it before that.
      hc.setInitializationFailTimeout(-1);
      HikariDataSource hds = new HikariDataSource(hc);
      ds = hds;
      closer = hds;
    } else {
      throw new ValidationException("store.url", redact(url), "must start with jdbc:h2: or jdbc:postgresql:");
    }
    int params = url.indexOf(';');
    return migrateAndWrap(ds, dialect, schema, params < 0 ? url : url.substring(0, params), closer);
  }

  /**
   * Opens a store on a data source the host owns (e.g. a Spring application's pool): migrations are applied to it,
   * and closing the store leaves the data source open. Tables go in the connections' own schema (byop's queries are
   * unqualified, so a schema is the pool's setting, not byop's).
   */
  public static JdbiStore open(DataSource ds) {
    String product;
    String url;
    try (java.sql.Connection c = ds.getConnection()) {
      product = c.getMetaData().getDatabaseProductName();
      url = String.valueOf(c.getMetaData().getURL());
    } catch (java.sql.SQLException e) {
      throw new StoreException("cannot open store on the given data source: " + e.getMessage(), e);
    }
    JdbiStore.Dialect dialect;
    if ("H2".equals(product)) dialect = JdbiStore.Dialect.H2;
    else if ("PostgreSQL".equals(product)) dialect = JdbiStore.Dialect.POSTGRESQL;
    else throw new ValidationException("store data source", product, "must be H2 or PostgreSQL");
    int params = url.indexOf(';');
    return migrateAndWrap(ds, dialect, null, redact(params < 0 ? url : url.substring(0, params)), () -> { }, true);
  }

  private static JdbiStore migrateAndWrap(DataSource ds, JdbiStore.Dialect dialect, @Nullable String schema,
      String database, AutoCloseable closer) {
    return migrateAndWrap(ds, dialect, schema, database, closer, false);
  }

  /**
   * @param shared whether the schema may hold the host's own tables: then a schema without byop's history table is
   *     baselined at version 0 (so every byop migration still runs) instead of Flyway refusing a non-empty schema
   */
  private static JdbiStore migrateAndWrap(DataSource ds, JdbiStore.Dialect dialect, @Nullable String schema,
      String database, AutoCloseable closer, boolean shared) {
    try {
      var fw = Flyway.configure().dataSource(ds).locations(MIGRATIONS).table(HISTORY_TABLE)
          .javaMigrations(new V3__ScrubGitUrlTokens()).failOnMissingLocations(true);
      if (shared) fw = fw.baselineOnMigrate(true).baselineVersion("0");
      if (schema != null) fw = fw.schemas(schema).defaultSchema(schema).createSchemas(true);
      MigrateResult r = fw.load().migrate();
      LOG.info("store {} at schema version {} ({} migration(s) applied now)", redact(database),
          r.targetSchemaVersion != null ? r.targetSchemaVersion : r.initialSchemaVersion, r.migrationsExecuted);
    } catch (RuntimeException e) {
      try {
        closer.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new StoreException("cannot open store " + redact(database) + ": " + e.getMessage(), e);
    }
    return new JdbiStore(Jdbi.create(ds), dialect, database, closer);
  }

  /**
   * The H2 URL with {@code WRITE_DELAY=0} unless it sets one. H2 2.x (MVStore) writes committed transactions to its
   * file from a background thread every {@code WRITE_DELAY} ms (default 500), so a process killed after a commit lost
   * it (issue 13: a job a client had read as SUCCESS came back BUILDING). With 0 the MVStore's auto-commit delay is 0
   * and every transaction's end stores its chunk synchronously ({@code TransactionStore.endTransaction} calls
   * {@code MVStore.commit()}, which waits for the write) before the commit returns: the data is in the file, in the
   * OS page cache, which survives the death of the process. (An OS crash or power loss would also need an fsync per
   * commit, which H2 does not offer; run PostgreSQL for that.) An in-memory database has nothing to make durable.
   */
  static String durableH2(String url) {
    if (url.startsWith("jdbc:h2:mem:") || url.toUpperCase(java.util.Locale.ROOT).contains(";WRITE_DELAY=")) return url;
    return url + ";WRITE_DELAY=0";
  }

  /** URLs may carry {@code password=…} parameters; never show them. */
  public static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1******");
  }
}
