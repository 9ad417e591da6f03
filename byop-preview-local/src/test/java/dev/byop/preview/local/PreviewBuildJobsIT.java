package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.Credentials;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.registry.DistributionClient;
import dev.byop.registry.DistributionRegistryClientFactory;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Previews build through the orchestrator, driven through {@link Byop} as a host would, against the bed's engine,
 * registry (htpasswd) and Caddy: the two components of an app are two build jobs ({@code orchestrator().jobs(app)})
 * that run at the same time (seen in their recorded status times), push to the registry, and whose logs appear in the
 * preview's log; the preview runs the pushed references. The builder is the engine-backed {@link CliImageBuilder}
 * and the registry client pushes from that engine, so the engine also holds the pushed reference the containers run.
 * Deleting a preview while it builds, and redeploying it, cancel its jobs.
 */
@RequiresTestbed
class PreviewBuildJobsIT {
  static final String INSTANCE = "it-" + TestApps.newId();
  static Testbed bed;
  static GitRepo repo;
  static String v1;
  /** Engine images this class made (built and pushed references), removed at the end. */
  static final List<String> images = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  static void repo(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    repo = new GitRepo(dir);
    v1 = repo.commitApp(bed.baseImage(), "v1");
  }

  @AfterAll
  static void cleanUp(@TempDir Path work) {
    LocalPreviewDeployerFactory.deployer(TestApps.options(bed, "caddy", INSTANCE, work, Duration.ofSeconds(30)), null)
        .sweep(Set.of(), JobContext.of("sweep", LogSink.discard()));
    for (String image : images) {
      TestApps.runner(bed).run(List.of(bed.dockerCli().toString(), "image", "rm", "-f", image), LogSink.discard(),
          Duration.ofSeconds(30));
    }
  }

  /** A host's configuration: local previews behind Caddy, builds pushed to the bed's registry. */
  static Map<String, Object> config(Path dataDir) {
    Map<String, Object> preview = TestApps.caddyPreview(bed, INSTANCE);
    Map<String, Object> registry = new LinkedHashMap<>();
    registry.put("address", bed.registry().address());
    registry.put("username", bed.registry().user());
    registry.put("password", SecretRef.value(bed.registry().password()));
    registry.put("dockerHost", bed.dockerHost());
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", dataDir.toString());
    root.put("preview", preview);
    root.put("registry", registry);
    root.put("git", Map.of("allowFile", "true"));
    root.put("orchestrator", Map.of("workers", "4", "lease", "5s"));
    return root;
  }

  static List<String> containers(String previewId) {
    return TestApps.docker(bed, "ps", "-aq", "--filter", "label=dev.byop.preview=" + previewId);
  }

  static String get(Preview p, String path) throws Exception {
    return LocalPreviewDeployerIT.get(bed.caddy().httpUri(), p.hostname(), path);
  }

  static Byop byop(Path data, CliImageBuilder builder) {
    return Byop.builder().config(ByopConfig.of(config(data))).register(new JdbcStoreFactory())
        .register(builder.factory()).register(new DistributionRegistryClientFactory())
        .register(new LocalPreviewDeployerFactory()).build();
  }

  static App app(String id) {
    GitSource src = GitSource.of(repo.url());
    Component web = Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html");
    Component api = Component.of("api", src, 8081).withContext("api", "Dockerfile").withHealthPath("/health");
    return new App(id, id, List.of(web, api));
  }

  static String pushed(String appId, String component, String commit) {
    return bed.registry().address() + "/byop/" + appId + "/" + component + ":" + commit.substring(0, 12);
  }

  static void remember(String appId, String commit) {
    for (String c : List.of("web", "api")) {
      images.add(pushed(appId, c, commit));
      images.add("byop-it-preview/" + appId + "/" + c + ":" + commit.substring(0, 12));
    }
  }

  static List<String> text(List<LogLine> lines) {
    return lines.stream().map(LogLine::text).collect(Collectors.toList());
  }

  static void waitFor(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " did not happen within " + timeout);
      Thread.sleep(50);
    }
  }

  @Test
  void componentsBuildAsParallelJobsThatPushAndThePreviewRunsThePushedImages(@TempDir Path data) throws Exception {
    String appId = TestApps.newId();
    remember(appId, v1);
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    try (Byop byop = byop(data, builder)) {
      byop.store().saveApp(app(appId));
      Preview p = byop.previews().createPreview(appId);
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      List<String> log = text(byop.previews().logs(p.id(), 0, 10_000));
      assertEquals(PreviewStatus.RUNNING, running.status(), running.error() + "\n" + String.join("\n", log));

      // the builds are the app's jobs, one per component, and what the preview runs is what they pushed
      List<BuildJob> jobs = byop.orchestrator().jobs(appId, 10);
      assertEquals(Set.of("web", "api"), jobs.stream().map(BuildJob::component).collect(Collectors.toSet()));
      DistributionClient registry = DistributionClient.builder(bed.registry().address())
          .credentials(Credentials.basic(bed.registry().user(), bed.registry().password())).build();
      for (BuildJob j : jobs) {
        assertEquals(BuildStatus.SUCCESS, j.status(), String.valueOf(j.error()));
        assertEquals(v1, j.commit());
        assertEquals(pushed(appId, j.component(), v1), j.image());
        assertEquals(j.image(), running.images().get(j.component()), "the preview runs the pushed reference");
        ImageReference ref = ImageReference.parse(j.image());
        assertEquals(j.digest(), registry.headManifest(ref.repository(), ref.tag()).orElseThrow().digest(),
            "the registry holds what the job pushed");
        // the job's log is reachable from the preview's: its id is named, its lines are copied with the component
        assertTrue(log.stream().anyMatch(l -> l.contains("component " + j.component() + ": build job " + j.id()
            + " requested")), String.join("\n", log));
        List<String> jobLog = text(byop.orchestrator().logs(j.id(), 0, 10_000));
        assertTrue(jobLog.stream().anyMatch(l -> l.startsWith("pushed " + j.image() + "@")), jobLog::toString);
        for (String line : jobLog) {
          assertTrue(log.contains("[" + j.component() + "] " + line), "job line in the preview log: " + line);
        }
      }
      for (String c : containers(p.id())) {
        String image = TestApps.docker(bed, "inspect", "--format", "{{.Config.Image}}", c).get(0);
        assertTrue(image.startsWith(bed.registry().address() + "/byop/" + appId + "/"), image);
      }
      assertTrue(get(running, "/cgi-bin/api").contains("api-ok v1"), "web reaches api");

      // parallel: each job's FETCHING..SUCCESS interval overlaps the other's (the times the store recorded)
      BuildJob a = jobs.get(0);
      BuildJob b = jobs.get(1);
      Instant start = later(a.statusTimes().get(BuildStatus.FETCHING), b.statusTimes().get(BuildStatus.FETCHING));
      Instant end = earlier(a.statusTimes().get(BuildStatus.SUCCESS), b.statusTimes().get(BuildStatus.SUCCESS));
      long overlapMs = Duration.between(start, end).toMillis();
      System.out.println("PreviewBuildJobsIT: jobs overlap by " + overlapMs + " ms (" + a.component() + " "
          + Duration.between(a.statusTimes().get(BuildStatus.FETCHING), a.statusTimes().get(BuildStatus.SUCCESS))
              .toMillis() + " ms, " + b.component() + " "
          + Duration.between(b.statusTimes().get(BuildStatus.FETCHING), b.statusTimes().get(BuildStatus.SUCCESS))
              .toMillis() + " ms)");
      assertTrue(start.isBefore(end), "the two builds ran at the same time: " + a.statusTimes() + " / "
          + b.statusTimes());
      assertEquals(2, builder.builds.get());
      assertEquals(null, byop.store().appState(appId).orElseThrow().currentImage(),
          "a preview's builds do not become the app's current image");

      // a second preview of the same commit reuses the pushed images: no job, no build
      Preview again = byop.previews().createPreview(appId, v1);
      Preview second = byop.previews().await(again.id(), Duration.ofMinutes(3));
      List<String> secondLog = text(byop.previews().logs(again.id(), 0, 10_000));
      assertEquals(PreviewStatus.RUNNING, second.status(), second.error() + "\n" + String.join("\n", secondLog));
      assertEquals(running.images(), second.images());
      for (String c : List.of("web", "api")) {
        assertTrue(secondLog.contains("component " + c + ": reusing image " + pushed(appId, c, v1)
            + " built for commit " + v1), String.join("\n", secondLog));
      }
      assertEquals(2, byop.orchestrator().jobs(appId, 10).size(), "no new jobs");
      assertEquals(2, builder.builds.get(), "nothing built again");

      assertEquals(PreviewStatus.STOPPED, byop.previews().deletePreview(again.id()).status());
      assertEquals(PreviewStatus.STOPPED, byop.previews().deletePreview(p.id()).status());
      assertEquals(List.of(), containers(p.id()));
    }
  }

  @Test
  void deletingWhileBuildingAndRedeployingCancelTheJobsNoLongerNeeded(@TempDir Path data) throws Exception {
    String appId = TestApps.newId();
    String v2 = repo.commitApp(bed.baseImage(), "v2-" + appId);
    remember(appId, v1);
    remember(appId, v2);
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    builder.hold = new CountDownLatch(1);
    try (Byop byop = byop(data, builder)) {
      byop.store().saveApp(app(appId));

      // delete while both jobs are BUILDING: both end CANCELLED, nothing was deployed
      Preview doomed = byop.previews().createPreview(appId, v1);
      waitFor("both builds to be held", Duration.ofSeconds(60), () -> builder.held.get() == 2);
      List<BuildJob> building = byop.orchestrator().jobs(appId, 10);
      assertEquals(List.of(BuildStatus.BUILDING, BuildStatus.BUILDING),
          building.stream().map(BuildJob::status).toList());
      assertEquals(PreviewStatus.STOPPED, byop.previews().deletePreview(doomed.id()).status());
      for (BuildJob j : building) assertEquals(BuildStatus.CANCELLED, byop.orchestrator().job(j.id()).status());
      waitFor("the held builds to stop", Duration.ofSeconds(30), () -> builder.held.get() == 0);
      List<String> doomedLog = text(byop.previews().logs(doomed.id(), 0, 10_000));
      for (BuildJob j : building) {
        assertTrue(doomedLog.contains("component " + j.component() + ": build job " + j.id() + " CANCELLED (preview "
            + doomed.id() + " deleted)"), String.join("\n", doomedLog));
      }
      assertEquals(List.of(), containers(doomed.id()));

      // redeploy while building: the v1 jobs are cancelled, the v2 jobs build and the preview runs v2
      Preview p = byop.previews().createPreview(appId, v1);
      waitFor("both v1 builds to be held", Duration.ofSeconds(60), () -> builder.held.get() == 2);
      List<BuildJob> old = byop.orchestrator().jobs(appId, 2);
      assertEquals(PreviewStatus.BUILDING, byop.previews().redeploy(p.id(), v2).status());
      for (BuildJob j : old) {
        assertEquals(v1, j.config().commit());
        assertEquals(BuildStatus.CANCELLED, byop.orchestrator().job(j.id()).status(), "old job " + j.id());
      }
      waitFor("the v2 jobs", Duration.ofSeconds(60), () -> byop.orchestrator().jobs(appId, 10).size() == 6);
      builder.hold.countDown();
      Preview running = byop.previews().await(p.id(), Duration.ofMinutes(3));
      List<String> log = text(byop.previews().logs(p.id(), 0, 10_000));
      assertEquals(PreviewStatus.RUNNING, running.status(), running.error() + "\n" + String.join("\n", log));
      assertEquals(v2, running.commit());
      List<BuildJob> now = byop.orchestrator().jobs(appId, 2);
      for (BuildJob j : now) {
        assertEquals(BuildStatus.SUCCESS, j.status(), String.valueOf(j.error()));
        assertEquals(v2, j.commit());
        assertEquals(pushed(appId, j.component(), v2), running.images().get(j.component()));
        assertNotEquals(old.get(0).id(), j.id());
      }
      assertTrue(get(running, "/index.html").contains("web v2-" + appId));
      assertEquals(2, builder.builds.get(), "only the v2 builds ran");
      List<BuildStatus> all = new ArrayList<>();
      for (BuildJob j : byop.orchestrator().jobs(appId, 10)) all.add(j.status());
      assertEquals(4, all.stream().filter(s -> s == BuildStatus.CANCELLED).count(), all.toString());
      assertNotNull(byop.previews().deletePreview(p.id()));
    }
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Instant earlier(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
