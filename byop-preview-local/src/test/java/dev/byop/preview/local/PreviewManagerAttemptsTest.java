package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.internal.DefaultPreviewManager;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.Store;
import dev.byop.store.jdbc.JdbcStoreFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A preview whose workers keep dying is FAILED after maxAttempts claims, never left BUILDING or DEPLOYING, and torn
 * down first: FAILED means nothing of it runs.
 */
class PreviewManagerAttemptsTest {
  @Test
  void aPreviewClaimedTooOftenEndsFailed(@TempDir Path dir) {
    try (Store store = JdbcStoreFactory.open(JdbcStoreFactory.h2Url(dir), null, null, null, 2)) {
      GitSource src = GitSource.of("https://example.invalid/app.git");
      store.saveApp(new App("shop", "shop", List.of(Component.of("web", src, 8080))));
      Instant now = Instant.now();
      Preview p = store.createPreview("shop", "local", null, "shop-abc.byop.local", now, null);
      for (int i = 1; i <= 3; i++) {
        // a worker claims it and dies: its lease simply runs out
        Preview claimed = store.claimPreview("dead-" + i, now.plusSeconds(10L * i), Duration.ofMillis(1)).orElseThrow();
        assertEquals(i, claimed.attempt());
      }
      ByopConfig config = ByopConfig.of(Map.of("orchestrator", Map.of("maxAttempts", "3", "lease", "1s",
          "pollInterval", "50ms"), "preview", Map.of("sweepInterval", "0s")));
      // what the dead workers may have started must go before FAILED is recorded: tear-down is all it may do
      List<String> tornDown = new java.util.concurrent.CopyOnWriteArrayList<>();
      PreviewDeployer deployer = new PreviewDeployer() {
        @Override
        public Deployment deploy(DeployRequest request, JobContext context) {
          throw new AssertionError("no deploy after the last attempt");
        }

        @Override
        public void tearDown(Preview preview, JobContext context) {
          tornDown.add(preview.id() + " " + store.findPreview(preview.id()).orElseThrow().status());
        }

        @Override
        public Health status(Preview preview) {
          return new Health(false, Map.of());
        }

        @Override
        public List<String> logs(Preview preview, int tail) {
          return List.of();
        }

        @Override
        public void close() { }
      };
      try (DefaultPreviewManager m = new DefaultPreviewManager(store, () -> {
        throw new AssertionError("no build after the last attempt");
      }, () -> deployer, "local", new ByopListener() { }, DefaultPreviewManager.Options.from(config),
          Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5)))) {
        Preview after = m.await(p.id(), Duration.ofSeconds(30));
        assertEquals(PreviewStatus.FAILED, after.status());
        assertTrue(after.error().contains("gave up after 3 attempts"), after.error());
        assertTrue(m.logs(p.id(), 0, 100).stream().anyMatch(l -> l.text().contains("giving up")));
        assertEquals(List.of(p.id() + " BUILDING"), tornDown, "torn down once, before FAILED was recorded");
      }
    }
  }

}
