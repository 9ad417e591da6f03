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

  @Test
  void aFailedTearDownStaysStoppingWithItsReasonAndIsRetriedUntilNothingRuns(@TempDir Path dir) {
    try (Store store = JdbcStoreFactory.open(JdbcStoreFactory.h2Url(dir), null, null, null, 2)) {
      GitSource src = GitSource.of("https://example.invalid/app.git");
      store.saveApp(new App("shop", "shop", List.of(Component.of("web", src, 8080))));
      Preview p = store.createPreview("shop", "local", null, "shop-abd.byop.local", Instant.now(), null);
      // what a DELETE records first (here as another instance that then died would have left it)
      store.transitionPreview(dev.byop.core.spi.PreviewStore.PreviewTransition.of(p.id(), null, PreviewStatus.BUILDING,
          PreviewStatus.STOPPING, Instant.now()));
      java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
      PreviewDeployer deployer = new PreviewDeployer() {
        @Override
        public Deployment deploy(DeployRequest request, JobContext context) {
          throw new AssertionError("a STOPPING preview is never deployed");
        }

        @Override
        public void tearDown(Preview preview, JobContext context) {
          if (calls.incrementAndGet() == 1) throw new dev.byop.core.PreviewException("host unreachable");
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
      ByopConfig config = ByopConfig.of(Map.of("orchestrator", Map.of("maxAttempts", "1", "lease", "1s",
          "pollInterval", "50ms"), "preview", Map.of("sweepInterval", "0s")));
      try (DefaultPreviewManager m = new DefaultPreviewManager(store, () -> {
        throw new AssertionError("no build");
      }, () -> deployer, "local", new ByopListener() { }, DefaultPreviewManager.Options.from(config), Clock.systemUTC())) {
        waitFor("the failed tear-down recorded", () -> store.findPreview(p.id()).orElseThrow().error() != null);
        Preview after = store.findPreview(p.id()).orElseThrow();
        assertEquals(PreviewStatus.STOPPING, after.status(), "not STOPPED while its tear-down failed");
        assertTrue(after.error().contains("tear-down failed: host unreachable"), after.error());
        // the failed worker's lease is the retry delay; a DELETE meanwhile keeps it STOPPING, then it is finished
        waitFor("DELETE to finish the tear-down", () -> m.deletePreview(p.id()).status() == PreviewStatus.STOPPED);
        Preview stopped = store.findPreview(p.id()).orElseThrow();
        assertEquals(PreviewStatus.STOPPED, stopped.status());
        assertEquals(2, calls.get(), "torn down again, once");
      }
    }
  }

  static void waitFor(String what, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
