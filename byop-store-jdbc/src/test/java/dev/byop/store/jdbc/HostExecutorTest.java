package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The host application hands byop its executor: byop's workers run on it, and closing byop leaves it running. */
class HostExecutorTest {
  private static final String HOST_THREAD = "host-app-";

  @Test
  void buildsRunOnTheHostsExecutorAndClosingByopLeavesItRunning() throws Exception {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor host = (ThreadPoolExecutor) Executors.newCachedThreadPool(
        r -> new Thread(r, HOST_THREAD + n.incrementAndGet()));
    Set<String> buildThreads = ConcurrentHashMap.newKeySet();
    FakeBuilder builder = new FakeBuilder() {
      @Override
      public BuildResult build(BuildRequest request, JobContext context) {
        buildThreads.add(Thread.currentThread().getName());
        return super.build(request, context);
      }
    };
    try {
      Byop byop = byop(builder, host);
      try (byop) {
        byop.store().saveApp(DbTestBase.app("shop", "web"));
        var o = byop.orchestrator();
        var done = o.await(o.requestBuild("shop", BuildConfig.defaults()).id(), Duration.ofSeconds(20));
        assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
        byop.previews(); // its workers go on the host's executor too
        assertTrue(host.getActiveCount() >= 4, "2 build + 2 preview workers on the host's threads, saw "
            + host.getActiveCount());
      }
      assertEquals(1, buildThreads.size());
      assertTrue(buildThreads.iterator().next().startsWith(HOST_THREAD), buildThreads.toString());
      assertFalse(host.isShutdown(), "byop shut down an executor it did not create");
      // byop waited for its own tasks: none of them still occupies a host thread
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (host.getActiveCount() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
      assertEquals(0, host.getActiveCount(), "byop left tasks running on the host's executor");
      assertEquals("still usable", host.submit(() -> "still usable").get(5, TimeUnit.SECONDS));
    } finally {
      host.shutdownNow();
    }
  }

  @Test
  void anExecutorTooSmallForEveryWorkerIsRefusedNamingTheNumbers() throws Exception {
    ExecutorService small = Executors.newFixedThreadPool(3);
    try {
      ValidationException e = assertThrows(ValidationException.class, () -> byop(new FakeBuilder(), small));
      assertTrue(e.getMessage().contains("maximumPoolSize=3") && e.getMessage().contains("at least 4"),
          e.getMessage());
      small.shutdown();
      ValidationException down = assertThrows(ValidationException.class, () -> byop(new FakeBuilder(), small));
      assertTrue(down.getMessage().contains("shut down"), down.getMessage());
    } finally {
      small.shutdownNow();
    }
  }

  private static Byop byop(ImageBuilder builder, ExecutorService executor) throws Exception {
    ByopConfig config = ByopConfig.of(Map.of("dataDir", Files.createTempDirectory("byop-data").toString(),
        "orchestrator", Map.of("workers", "2", "lease", "500ms", "pollInterval", "20ms")));
    return Byop.builder().config(config).discover(HostExecutorTest.class.getClassLoader())
        .executorService(executor)
        .register(FakeBuilder.factory(builder)).build();
  }
}
