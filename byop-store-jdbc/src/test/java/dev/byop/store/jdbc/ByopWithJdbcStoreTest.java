package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopException;
import dev.byop.core.ConfigException;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The jdbc store is the discovered default with nothing configured, and {@link Byop#orchestrator()} runs builds. */
class ByopWithJdbcStoreTest {
  @Test
  void defaultStoreIsEmbeddedH2UnderTheDataDirAndOrchestratorRuns() throws Exception {
    Path dataDir = Files.createTempDirectory("byop-data");
    FakeBuilder builder = new FakeBuilder();
    ByopConfig config = ByopConfig.of(Map.of("dataDir", dataDir.toString(),
        "orchestrator", Map.of("workers", "2", "lease", "500ms", "pollInterval", "20ms")));
    Byop byop = Byop.builder().config(config).discover(getClass().getClassLoader())
        .register(FakeBuilder.factory(builder)).build();
    try (byop) {
      assertEquals("jdbc", byop.describeProviders().get(0).id());
      assertTrue(Files.exists(dataDir.resolve("store").resolve("byop.mv.db")));
      byop.store().saveApp(DbTestBase.app("shop", "web"));
      var o = byop.orchestrator();
      assertSame(o, byop.orchestrator());
      var done = o.await(o.requestBuild("shop", BuildConfig.defaults()).id(), Duration.ofSeconds(20));
      assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    }
    assertThrows(ByopException.class, byop::orchestrator);
  }

  @Test
  void postgresWithoutPasswordReferenceIsRefused() throws Exception {
    ByopConfig config = ByopConfig.of(Map.of("dataDir", Files.createTempDirectory("byop-data").toString(),
        "store", Map.of("provider", "jdbc", "url", "jdbc:postgresql://127.0.0.1:1/x", "user", "u",
            "password", "inline")));
    assertThrows(ConfigException.class, () -> Byop.builder().config(config).discover(getClass().getClassLoader())
        .build());
  }
}
