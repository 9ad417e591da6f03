package dev.byop.store.jdbc;

import dev.byop.core.Secret;
import dev.byop.core.Settings;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.Store;
import dev.byop.core.spi.StoreFactory;
import dev.byop.store.jdbc.internal.StoreOpener;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The JDBC store, id {@code jdbc} and the default: an embedded H2 file database under {@code <dataDir>/store/byop}
 * needing nothing installed, or PostgreSQL. Migrations are applied and recorded at start-up.
 *
 * <pre>{@code
 * store:
 *   provider: jdbc
 *   url: jdbc:postgresql://127.0.0.1:5433/byop
 *   user: byop
 *   password: { env: BYOP_DB_PASSWORD }
 *   schema: byop        # optional
 *   poolSize: 8         # optional
 * }</pre>
 */
public final class JdbcStoreFactory implements StoreFactory {
  /** The provider id. */
  public static final String ID = "jdbc";

  @Override
  public String id() {
    return ID;
  }

  /** High, so that with no {@code store.provider} configured this embedded default is chosen. */
  @Override
  public int priority() {
    return 100;
  }

  @Override
  public Store create(ProviderContext context) {
    Settings s = context.settings();
    s.allowOnly("provider", "url", "user", "password", "schema", "poolSize");
    String url = s.string("url").orElseGet(() -> h2Url(context.dataDir()));
    Secret password = s.secret("password").map(r -> r.resolve()).orElse(null);
    if (url.startsWith("jdbc:postgresql:") && password == null && s.has("user")) {
      throw s.error("password", "is required for PostgreSQL (a reference {env: NAME} or {file: PATH})");
    }
    return open(url, s.string("user").orElse(null), password, s.string("schema").orElse(null),
        s.integer("poolSize", 10));
  }

  /** The embedded default database for a data directory. */
  public static String h2Url(Path dataDir) {
    return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("store").resolve("byop");
  }

  /** Opens a store on a JDBC URL directly (for hosts that do not use configuration, and tests). */
  public static Store open(String url, @Nullable String user, @Nullable Secret password, @Nullable String schema,
      int poolSize) {
    return StoreOpener.open(url, user, password, schema, poolSize);
  }

  /**
   * Opens a store on a data source the host owns (H2 or PostgreSQL), e.g. a Spring application's pool: migrations
   * are applied to it, and closing the store leaves the data source open. Tables go in the connections' own schema.
   */
  public static Store open(javax.sql.DataSource dataSource) {
    return StoreOpener.open(dataSource);
  }
}
