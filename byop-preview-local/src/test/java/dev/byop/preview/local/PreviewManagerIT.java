package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.PreviewStatus;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.internal.DefaultPreviewManager;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@RequiresTestbed
class PreviewManagerIT {
  static final String INSTANCE = "it-" + TestApps.newId();
  static Testbed bed;
  static GitRepo repo;
  static String v1;

  @BeforeAll
  static void repo(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    repo = new GitRepo(dir);
    v1 = repo.commitApp(bed.baseImage(), "v1");
  }

  @AfterAll
  static void sweepEverythingOfThisClass(@TempDir Path work) {
    LocalPreviewDeployerFactory.deployer(TestApps.options(bed, "caddy", INSTANCE, work, Duration.ofSeconds(30)), null)
        .sweep(Set.of(), JobContext.of("sweep", LogSink.discard()));
  }

  /** The configuration a host would write, pointed at the bed. */
  static Map<String, Object> config(Path dataDir, Map<String, Object> previewExtra, Map<String, Object> orchestrator) {
    Map<String, Object> preview = TestApps.caddyPreview(bed, INSTANCE);
    preview.putAll(previewExtra);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", dataDir.toString());
    root.put("preview", preview);
    root.put("git", Map.of("allowFile", "true"));
    root.put("orchestrator", orchestrator);
    return root;
  }

  static Byop byop(Map<String, Object> config, CliImageBuilder builder, PreviewDeployerFactory deployer) {
    return Byop.builder().config(ByopConfig.of(config)).register(new JdbcStoreFactory()).register(builder.factory())
        .register(deployer).build();
  }

  static App app(String id) {
    GitSource src = GitSource.of(repo.url());
    Component web = Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html");
    Component api = Component.of("api", src, 8081).withContext("api", "Dockerfile").withHealthPath("/health");
    return new App(id, id, List.of(web, api));
  }

  static String get(Preview p, String path) throws Exception {
    return LocalPreviewDeployerIT.get(bed.caddy().httpUri(), p.hostname(), path);
  }

  static List<String> containers(String previewId) {
    return TestApps.docker(bed, "ps", "-aq", "--filter", "label=dev.byop.preview=" + previewId);
  }

  static List<String> volumes(String previewId) {
    return containers(previewId).stream().flatMap(c -> TestApps.docker(bed, "inspect", "--format",
        "{{range .Mounts}}{{.Name}}{{\"\\n\"}}{{end}}", c).stream()).toList();
  }

  static boolean volumeExists(String name) {
    return !TestApps.docker(bed, "volume", "ls", "-q", "--filter", "name=" + name).isEmpty();
  }

  static void waitFor(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " did not happen within " + timeout);
      Thread.sleep(100);
    }
  }

  @Test
  void previewBuildsDeploysRoutesRedeploysSweepsOrphansAndTearsDown(@TempDir Path data) throws Exception {
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    try (Byop byop = byop(config(data, Map.of(), Map.of()), builder, new LocalPreviewDeployerFactory())) {
      byop.store().saveApp(app("shop"));
      Preview p = byop.previews().createPreview("shop");
      assertEquals(PreviewStatus.BUILDING, p.status(), "createPreview returns at once");
      assertTrue(p.hostname().matches("shop-[a-z0-9]{8}\\.byop\\.local"), p.hostname());

      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      assertEquals("byop.local", running.host());
      assertEquals("127.0.0.1", running.address());
      assertEquals("http://" + p.hostname() + ":" + bed.caddy().httpUri().getPort() + "/", running.url());
      assertEquals("byop-it-preview/shop/web:" + v1.substring(0, 12), running.images().get("web"));
      assertEquals(running.url(), byop.store().appState("shop").orElseThrow().previewUrl());
      assertEquals(p.id(), byop.previews().currentPreview("shop").orElseThrow().id());
      assertTrue(get(running, "/index.html").contains("web v1"));
      assertTrue(get(running, "/cgi-bin/api").contains("api-ok v1"), "web reaches api by service name");
      List<String> lines = byop.previews().logs(p.id(), 0, 10_000).stream().map(l -> l.text()).toList();
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("[web] ")
          && l.contains("byop-it-preview/shop/web:" + v1.substring(0, 12))), "the web build job's log, copied");
      assertTrue(lines.stream().anyMatch(l -> l.contains("answers at")), "deploy log");
      assertEquals(2, builder.builds.get());

      List<String> volumesV1 = volumes(p.id());
      assertEquals(1, volumesV1.size(), "api declares VOLUME /data");
      String v2 = repo.commitApp(bed.baseImage(), "v2");
      byop.previews().redeploy(p.id(), v2);
      Preview again = byop.previews().await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, again.status(), String.valueOf(again.error()));
      assertEquals(v2, again.commit());
      assertTrue(get(again, "/cgi-bin/api").contains("api-ok v2"), "redeployed api");
      assertTrue(get(again, "/index.html").contains("web v2"));
      List<String> ids = containers(p.id());
      assertEquals(2, ids.size(), "the old containers are replaced, not left behind");
      for (String c : ids) {
        String image = TestApps.docker(bed, "inspect", "--format", "{{.Config.Image}}", c).get(0);
        assertTrue(image.endsWith(":" + v2.substring(0, 12)), image);
      }
      assertEquals(List.of(), TestApps.docker(bed, "image", "ls", "-q", "byop-it-preview/shop/api:" + v1.substring(0, 12)),
          "the images the old containers ran are removed");
      List<String> volumesV2 = volumes(p.id());
      for (String v : volumesV1) {
        if (!volumesV2.contains(v)) assertFalse(volumeExists(v), "volume " + v + " of a replaced container");
      }

      // an orphan: resources labelled for a preview the store does not know
      DefaultPreviewManager manager = (DefaultPreviewManager) byop.previews();
      String orphanId = TestApps.newId();
      Preview orphan = TestApps.preview(orphanId, "shop", again.images());
      byop.previewDeployer().deploy(new PreviewDeployer.DeployRequest(orphan, app("shop"),
          TestApps.images(again.images().get("web"), again.images().get("api"))), JobContext.of(orphanId, l -> { }));
      assertEquals(2, containers(orphanId).size());
      List<String> swept = manager.sweep();
      assertTrue(swept.stream().anyMatch(s -> s.endsWith(orphanId)), swept.toString());
      assertTrue(swept.contains("route of preview " + orphanId), swept.toString());
      assertEquals(List.of(), containers(orphanId));
      assertEquals(2, containers(p.id()).size(), "the known preview is kept");

      Preview stopped = byop.previews().deletePreview(p.id());
      assertEquals(PreviewStatus.STOPPED, stopped.status());
      assertEquals(List.of(), containers(p.id()));
      assertEquals(List.of(), TestApps.docker(bed, "network", "ls", "-q", "--filter", "label=dev.byop.preview=" + p.id()));
      LocalPreviewOptions o = TestApps.options(bed, "caddy", INSTANCE, data, Duration.ofSeconds(5));
      assertFalse(LocalPreviewDeployerFactory.deployer(o, null).router().routedPreviewIds(o.host()).contains(p.id()),
          "route removed");
      assertEquals(List.of(), TestApps.docker(bed, "image", "ls", "-q", "byop-it-preview/shop/web:" + v2.substring(0, 12)));
      assertTrue(byop.store().appState("shop").orElseThrow().previewId() == null);
      for (String v : volumesV2) assertFalse(volumeExists(v), "volume " + v);
    }
  }

  @Test
  void expiredPreviewsAreReapedAndTheLimitPerAppHolds(@TempDir Path data) throws Exception {
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    Map<String, Object> extra = Map.of("ttl", "1h", "reapInterval", "300ms", "maxPerApp", "1");
    ByopConfig config = ByopConfig.of(config(data, extra, Map.of()));
    // a clock the test moves forward, so expiry never races with how long the deployment takes
    MovableClock clock = new MovableClock();
    try (Byop byop = byop(config(data, extra, Map.of()), builder, new LocalPreviewDeployerFactory());
        DefaultPreviewManager previews = new DefaultPreviewManager(byop.store(),
            () -> (DefaultBuildOrchestrator) byop.orchestrator(),
            byop::previewDeployer, "local", byop.events(), DefaultPreviewManager.Options.from(config), clock)) {
      byop.store().saveApp(app("brief"));
      Preview p = previews.createPreview("brief", v1);
      assertTrue(Duration.between(clock.instant(), p.expiresAt()).toMinutes() >= 59, String.valueOf(p.expiresAt()));
      var limit = assertThrows(PreviewException.class, () -> previews.createPreview("brief"));
      assertTrue(limit.getMessage().contains("the limit is 1"), limit.getMessage());
      Preview running = previews.await(p.id(), Duration.ofMinutes(3));
      assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
      assertEquals(2, containers(p.id()).size());

      clock.advance(Duration.ofHours(2));
      waitFor("the reaper stops the expired preview", Duration.ofSeconds(60),
          () -> previews.preview(p.id()).status() == PreviewStatus.STOPPED);
      // STOPPING is recorded first (so workers stop), STOPPED only once the tear-down is done
      assertEquals(List.of(), containers(p.id()), "STOPPED means nothing runs");
      waitFor("its network is removed", Duration.ofSeconds(30), () -> TestApps.docker(bed, "network", "ls", "-q",
          "--filter", "label=dev.byop.preview=" + p.id()).isEmpty());
      try {
        waitFor("its images are removed", Duration.ofSeconds(30), () -> TestApps.docker(bed, "image", "ls", "-q",
            "byop-it-preview/brief/web:" + v1.substring(0, 12)).isEmpty());
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; preview log:\n" + String.join("\n",
            previews.logs(p.id(), 0, 1000).stream().map(l -> l.text()).toList()), e);
      }
      assertEquals(2, builder.builds.get(), "built once");
    }
  }

  /** The system clock plus an offset the test moves. */
  static final class MovableClock extends java.time.Clock {
    private volatile Duration offset = Duration.ZERO;

    void advance(Duration d) {
      offset = offset.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.now().plus(offset);
    }
  }

  @Test
  void crashDuringDeployingEndsRunningAfterRestart(@TempDir Path data) throws Exception {
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    Map<String, Object> orch = Map.of("lease", "1s", "maxAttempts", "3");
    CountDownLatch deploying = new CountDownLatch(1);
    // first process: its deployer hangs in deploy until the process "dies"
    PreviewDeployerFactory hanging = new PreviewDeployerFactory() {
      @Override
      public String id() {
        return "local";
      }

      @Override
      public PreviewDeployer create(ProviderContext context) {
        return new HangingDeployer(deploying);
      }
    };
    String id;
    Byop first = byop(config(data, Map.of(), orch), builder, hanging);
    try {
      first.store().saveApp(app("crashy"));
      id = first.previews().createPreview("crashy", v1).id();
      assertTrue(deploying.await(3, TimeUnit.MINUTES), "reached DEPLOYING");
      assertEquals(PreviewStatus.DEPLOYING, first.previews().preview(id).status());
    } finally {
      first.close(); // workers abandon their leases: the stored preview stays DEPLOYING, as after a crash
    }
    try (Byop second = byop(config(data, Map.of(), orch), builder, new LocalPreviewDeployerFactory())) {
      assertEquals(PreviewStatus.DEPLOYING, second.previews().preview(id).status());
      Preview after = second.previews().await(id, Duration.ofMinutes(2));
      assertTrue(after.status() == PreviewStatus.RUNNING || after.status() == PreviewStatus.FAILED, after.toString());
      assertEquals(PreviewStatus.RUNNING, after.status(), String.valueOf(after.error()));
      assertEquals(2, after.attempt(), "claimed again after the lease ended");
      assertEquals(2, builder.builds.get(), "the images of the first attempt are deployed, not rebuilt");
      assertTrue(get(after, "/cgi-bin/api").contains("api-ok v1"));
      second.previews().deletePreview(id);
      assertEquals(List.of(), containers(id));
    }
  }

  /** Blocks in deploy until cancelled (the first process going away). */
  static final class HangingDeployer implements PreviewDeployer {
    private final CountDownLatch deploying;

    HangingDeployer(CountDownLatch deploying) {
      this.deploying = deploying;
    }

    @Override
    public Deployment deploy(DeployRequest request, JobContext context) {
      deploying.countDown();
      CountDownLatch cancelled = new CountDownLatch(1);
      try (AutoCloseable c = context.cancellation().onCancel(cancelled::countDown)) {
        cancelled.await();
      } catch (Exception e) {
        Thread.currentThread().interrupt();
      }
      throw new dev.byop.core.CancelledException(context.cancellation().reason());
    }

    @Override
    public void tearDown(Preview preview, JobContext context) { }

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
  }
}
