package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.core.Secret;
import dev.byop.core.spi.Store;
import dev.byop.store.jdbc.internal.JdbiStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The store on embedded H2. */
class H2StoreTest extends StoreContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }

  private static String writeDelay(Store s) {
    return ((JdbiStore) s).jdbi().withHandle(h -> h.createQuery(
        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'WRITE_DELAY'")
        .mapTo(String.class).list().stream().distinct().collect(java.util.stream.Collectors.joining(",")));
  }

  @Test
  void embeddedH2CommitsAtOnceUnlessTheUrlSaysOtherwise() throws Exception {
    assertEquals("0", writeDelay(store), "the default store: every commit is written before it returns");
    Path dir = Files.createTempDirectory("byop-store-h2");
    try (Store own = JdbcStoreFactory.open(JdbcStoreFactory.h2Url(dir) + ";write_delay=200", "sa", Secret.of(""),
        null, 2)) {
      assertEquals("200", writeDelay(own), "an operator's explicit choice is kept");
    }
  }
}
