package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildException;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.internal.DefaultPreviewManager;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The preview manager over the orchestrator and the store (builder and deployer are fakes; the real peers are in
 * byop-preview-local's {@code PreviewBuildJobsIT}): a preview's components are jobs that build in parallel, are linked
 * to the preview, are waited for again after a crash, and are cancelled by a failure, a delete or a redeploy.
 */
public abstract class PreviewBuildJobsContract extends OrchestratorTestBase {
  /** What the fake deployer was asked to run: preview id to its images. */
  private final Queue<String> deployed = new ConcurrentLinkedQueue<>();

  private final PreviewDeployer deployer = new PreviewDeployer() {
    @Override
    public Deployment deploy(DeployRequest request, JobContext context) {
      deployed.add(request.preview().id() + " " + new java.util.TreeMap<>(request.images()));
      return new Deployment("byop.local", "127.0.0.1", "http://" + request.preview().hostname() + "/");
    }

    @Override
    public void tearDown(Preview preview, JobContext context) { }

    @Override
    public Health status(Preview preview) {
      return new Health(true, Map.of());
    }

    @Override
    public List<String> logs(Preview preview, int tail) {
      return List.of();
    }

    @Override
    public void close() { }
  };

  private DefaultPreviewManager manager(DefaultBuildOrchestrator o, Clock clock) {
    ByopConfig config = ByopConfig.of(Map.of("orchestrator", Map.of("lease", "2s", "pollInterval", "20ms"),
        "preview", Map.of("sweepInterval", "0s")));
    DefaultPreviewManager m = new DefaultPreviewManager(store, () -> o, () -> deployer, "local",
        events, DefaultPreviewManager.Options.from(config), clock);
    toClose.add(m);
    return m;
  }

  private DefaultBuildOrchestrator orchestrator(FakeBuilder b) {
    return orchestrator(store, b, null, null, 4, Duration.ofSeconds(2), Duration.ofSeconds(30), 3, null);
  }

  private List<String> log(DefaultPreviewManager m, String previewId) {
    return m.logs(previewId, 0, 10_000).stream().map(l -> l.text()).collect(Collectors.toList());
  }

  @Test
  void componentsBuildAsParallelJobsLinkedToThePreviewWhoseLogCopiesTheirs() {
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    DefaultBuildOrchestrator o = orchestrator(builder);
    DefaultPreviewManager m = manager(o, Clock.systemUTC());
    Preview p = m.createPreview("shop", null);
    waitFor("web and api to build at once", Duration.ofSeconds(10), () -> builder.inBuild.get() == 2);
    builder.release.countDown();
    Preview running = m.await(p.id(), Duration.ofSeconds(20));
    assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));

    Map<String, String> links = store.previewBuildJobs(p.id());
    assertEquals(Set.of("web", "api"), links.keySet());
    List<BuildJob> jobs = o.jobs("shop", 10);
    assertEquals(Set.copyOf(links.values()), jobs.stream().map(BuildJob::id).collect(Collectors.toSet()));
    for (BuildJob j : jobs) {
      assertEquals(BuildStatus.SUCCESS, j.status());
      assertEquals(j.image(), running.images().get(j.component()), "the preview runs what its job built");
      assertEquals("dev.byop.app=shop", "dev.byop.app=" + builder.labels.get(j.id()).get("dev.byop.app"));
    }
    assertEquals("byop/shop/web:" + FakeBuilder.COMMIT.substring(0, 12), running.images().get("web"));
    assertEquals(null, store.appState("shop").orElseThrow().currentImage(), "a preview's build is not the app's");
    assertEquals(1, builder.appOverlaps.get(), "the two components built at the same time");
    List<String> lines = log(m, p.id());
    for (var e : links.entrySet()) {
      assertTrue(lines.stream().anyMatch(l -> l.contains("component " + e.getKey() + ": build job " + e.getValue()
          + " requested")), lines::toString);
      assertTrue(lines.stream().anyMatch(l -> l.equals("[" + e.getKey() + "] fetch " + e.getKey())), lines::toString);
    }
    assertEquals(1, deployed.size());
  }

  @Test
  void aFailedJobFailsThePreviewWithItsIdAndErrorAndTheOtherJobIsCancelled() {
    FakeBuilder builder = new FakeBuilder() {
      @Override
      public BuildResult build(BuildRequest request, JobContext context) {
        if (request.component().name().equals("api")) throw new BuildException("api does not compile");
        return super.build(request, context);
      }
    };
    builder.blockIn = FakeBuilder.Step.BUILD; // web waits until it is cancelled
    DefaultBuildOrchestrator o = orchestrator(builder);
    DefaultPreviewManager m = manager(o, Clock.systemUTC());
    Preview p = m.createPreview("shop", null);
    Preview failed = m.await(p.id(), Duration.ofSeconds(20));
    assertEquals(PreviewStatus.FAILED, failed.status());
    Map<String, String> links = store.previewBuildJobs(p.id());
    assertTrue(failed.error().contains("component api: build job " + links.get("api") + " ended FAILED: api does"
        + " not compile"), failed.error());
    assertEquals(BuildStatus.CANCELLED, o.await(links.get("web"), Duration.ofSeconds(10)).status(),
        "web is no longer needed");
    assertTrue(deployed.isEmpty());
  }

  @Test
  void aPreviewClaimedAgainAfterACrashWaitsForTheJobsItRequestedBefore() {
    FakeBuilder builder = new FakeBuilder();
    DefaultBuildOrchestrator o = orchestrator(builder);
    Instant t = Instant.now();
    Preview p = store.createPreview("shop", "local", null, "shop-crash.byop.local", t, null);
    // a worker of a process that then died: it claimed the preview, requested web's job and linked it
    store.claimPreview("dead/1", t, Duration.ofMillis(1)).orElseThrow();
    BuildJob web = o.requestPreviewBuild(p.id(), "dead/1", BuildConfig.builder().component("web").build())
        .orElseThrow();
    DefaultPreviewManager m = manager(o, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(5)));
    Preview running = m.await(p.id(), Duration.ofSeconds(20));
    assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
    assertEquals(2, running.attempt());
    List<BuildJob> jobs = o.jobs("shop", 10);
    assertEquals(2, jobs.size(), "web's job is not requested again: " + jobs);
    assertEquals(web.id(), store.previewBuildJobs(p.id()).get("web"));
    assertEquals(1, builder.builds.get(web.id()).get());
    assertTrue(log(m, p.id()).stream().anyMatch(l -> l.contains("waiting for build job " + web.id())));
  }

  @Test
  void deletingWhileBuildingCancelsTheJobs() {
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    DefaultBuildOrchestrator o = orchestrator(builder);
    DefaultPreviewManager m = manager(o, Clock.systemUTC());
    Preview p = m.createPreview("shop", null);
    waitFor("both builds to run", Duration.ofSeconds(10), () -> builder.inBuild.get() == 2);
    assertEquals(PreviewStatus.STOPPED, m.deletePreview(p.id()).status());
    for (String job : store.previewBuildJobs(p.id()).values()) {
      assertEquals(BuildStatus.CANCELLED, o.job(job).status());
    }
    waitFor("the builder to be stopped", Duration.ofSeconds(10), () -> builder.inBuild.get() == 0);
    assertTrue(deployed.isEmpty());
  }

  @Test
  void redeployingWhileBuildingCancelsTheOldJobsAndRunsTheNewOnes() {
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    DefaultBuildOrchestrator o = orchestrator(builder);
    DefaultPreviewManager m = manager(o, Clock.systemUTC());
    Preview p = m.createPreview("shop", null);
    waitFor("both builds to run", Duration.ofSeconds(10), () -> builder.inBuild.get() == 2);
    Map<String, String> old = store.previewBuildJobs(p.id());
    assertEquals(PreviewStatus.BUILDING, m.redeploy(p.id(), "feature").status());
    for (String job : old.values()) assertEquals(BuildStatus.CANCELLED, o.job(job).status(), job);
    waitFor("the new round to link its jobs", Duration.ofSeconds(10), () -> store.previewBuildJobs(p.id()).size() == 2);
    builder.release.countDown();
    Preview running = m.await(p.id(), Duration.ofSeconds(20));
    assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
    Map<String, String> now = store.previewBuildJobs(p.id());
    for (String c : List.of("web", "api")) {
      assertFalse(now.get(c).equals(old.get(c)), "a new job for " + c);
      BuildJob j = o.job(now.get(c));
      assertEquals("feature", j.config().commit());
      assertEquals(j.image(), running.images().get(c));
    }
    assertEquals(4, o.jobs("shop", 10).size());
    assertEquals(1, deployed.size(), "deployed once, by the new round");
  }

  @Test
  void anImageBuiltForTheCommitIsReusedWithoutAJob() {
    FakeBuilder builder = new FakeBuilder() {
      @Override
      public boolean hasImage(ImageReference image) {
        return image.familiar().equals("byop/shop/web:" + COMMIT.substring(0, 12));
      }
    };
    DefaultBuildOrchestrator o = orchestrator(builder);
    DefaultPreviewManager m = manager(o, Clock.systemUTC());
    Preview p = m.createPreview("shop", FakeBuilder.COMMIT);
    Preview running = m.await(p.id(), Duration.ofSeconds(20));
    assertEquals(PreviewStatus.RUNNING, running.status(), String.valueOf(running.error()));
    assertEquals(Set.of("api"), store.previewBuildJobs(p.id()).keySet(), "only api is built");
    assertEquals(List.of("api"), o.jobs("shop", 10).stream().map(BuildJob::component).toList());
    assertTrue(log(m, p.id()).stream().anyMatch(l -> l.equals("component web: reusing image byop/shop/web:"
        + FakeBuilder.COMMIT.substring(0, 12) + " built for commit " + FakeBuilder.COMMIT)));
  }
}
