package dev.byop.store.jdbc;

import dev.byop.core.App;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.spi.Store;
import dev.byop.store.jdbc.internal.JdbiStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** One fresh database per test (an H2 file or a PostgreSQL schema), dropped afterwards. */
public abstract class DbTestBase {
  protected TestDatabases.Db db;
  protected Store store;
  protected final List<AutoCloseable> toClose = new ArrayList<>();

  protected abstract TestDatabases.Db newDb();

  @BeforeEach
  void openDb() {
    db = newDb();
    store = db.open(8);
  }

  @AfterEach
  void closeDb() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).close();
    if (db.schema() != null) {
      ((JdbiStore) store).jdbi().useHandle(h -> h.execute("DROP SCHEMA " + db.schema() + " CASCADE"));
    }
    store.close();
  }

  protected boolean isPostgres() {
    return ((JdbiStore) store).dialect() == JdbiStore.Dialect.POSTGRESQL;
  }

  protected static App app(String id, String... components) {
    List<Component> cs = new ArrayList<>();
    for (String c : components) cs.add(Component.of(c, GitSource.of("https://git.example/" + id + ".git"), 8080));
    return new App(id, id, cs);
  }

  /** Waits for a condition with a deadline instead of sleeping. */
  protected static void waitFor(String what, Duration max, BooleanSupplier condition) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
