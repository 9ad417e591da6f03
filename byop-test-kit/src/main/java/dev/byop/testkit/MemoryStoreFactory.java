package dev.byop.testkit;

import dev.byop.core.StoreException;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.Store;
import dev.byop.core.spi.StoreFactory;
import dev.byop.store.jdbc.JdbcStoreFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory store, id {@code memory}: byop's own JDBC store on a private in-memory H2 database, so tests see the
 * real claim, lease and transition rules rather than a second implementation of them that could drift. The database
 * lives while {@link #close()} has not run (one connection is kept open for that, since H2 drops an in-memory
 * database with its last connection).
 */
final class MemoryStoreFactory implements StoreFactory, AutoCloseable {
  static final String ID = "memory";
  private final String url = "jdbc:h2:mem:byop-kit-" + UUID.randomUUID();
  private @Nullable Connection keeper;

  @Override
  public String id() {
    return ID;
  }

  @Override
  public synchronized Store create(ProviderContext context) {
    try {
      if (keeper == null) keeper = DriverManager.getConnection(url);
    } catch (SQLException e) {
      throw new StoreException("cannot open the in-memory database: " + e.getMessage(), e);
    }
    return JdbcStoreFactory.open(url, null, null, null, 4);
  }

  /** Drops the database. */
  @Override
  public synchronized void close() {
    if (keeper == null) return;
    try {
      keeper.close();
    } catch (SQLException e) {
      throw new StoreException("cannot close the in-memory database: " + e.getMessage(), e);
    } finally {
      keeper = null;
    }
  }
}
