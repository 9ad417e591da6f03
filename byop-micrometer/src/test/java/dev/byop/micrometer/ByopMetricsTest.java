package dev.byop.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.testkit.ByopExtension;
import dev.byop.testkit.ByopFakes;
import dev.byop.testkit.ByopTestKit;
import dev.byop.testkit.Outcome;
import dev.byop.testkit.ScriptedDeployer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link ByopMetrics} on real runs of {@link Byop} with the test kit's scripted providers. */
@ExtendWith(ByopExtension.class)
class ByopMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static SimpleMeterRegistry bind(Byop byop) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new ByopMetrics(byop).bindTo(registry);
    return registry;
  }

  private static void saveShop(Byop byop) {
    byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example.test/shop.git"), 8080)));
  }

  private static BuildJob build(Byop byop) {
    BuildJob job = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    return byop.orchestrator().await(job.id(), WAIT);
  }

  /** Listeners run after the store changed, so a test that saw the change waits for the meter too. */
  private static void eventually(double expected, DoubleSupplier actual, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (actual.getAsDouble() != expected) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " is " + actual.getAsDouble() + ", expected "
          + expected);
      TimeUnit.MILLISECONDS.sleep(10);
    }
  }

  private static double builds(SimpleMeterRegistry r, String outcome) {
    return r.get("byop.builds").tag("outcome", outcome).counter().count();
  }

  private static long phaseCount(SimpleMeterRegistry r, String name, String phase) {
    Timer t = r.find(name).tag("phase", phase).timer();
    return t == null ? 0 : t.count();
  }

  @Test
  void imageDeliveriesCountBytesSentAndSkippedByPath(Byop byop) {
    SimpleMeterRegistry r = bind(byop);
    // what a deployer reports through the instance's listeners (the providers find them as ByopListener)
    dev.byop.core.ByopListener events = byop.events();
    events.imageDelivered(new dev.byop.core.ImageDelivery("p1", "vps1", "shop/web:1", "thin", 4_096, 60_000_000));
    events.imageDelivered(new dev.byop.core.ImageDelivery("p2", "vps1", "shop/api:1", "full", 70_000_000, 0));
    events.imageDelivered(new dev.byop.core.ImageDelivery("p3", "vps2", "shop/api:1", "registry", 0, 0));
    assertEquals(4_096, r.get("byop.preview.image.bytes").tag("transfer", "sent").tag("path", "thin").counter()
        .count());
    assertEquals(60_000_000, r.get("byop.preview.image.bytes").tag("transfer", "skipped").tag("path", "thin")
        .counter().count());
    assertEquals(70_000_000, r.get("byop.preview.image.bytes").tag("transfer", "sent").tag("path", "full").counter()
        .count());
    assertEquals(1, r.get("byop.preview.image.deliveries").tag("path", "registry").counter().count());
    assertEquals("bytes", r.get("byop.preview.image.bytes").tag("path", "thin").tag("transfer", "sent").counter()
        .getId().getBaseUnit());
  }

  @Test
  void aSuccessfulBuildCountsItsOutcomeAndTimesEveryPhase(Byop byop) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    assertEquals(0, builds(r, "success"));
    assertEquals(BuildStatus.SUCCESS, build(byop).status());
    eventually(1, () -> builds(r, "success"), "byop.builds{outcome=success}");
    assertEquals(0, builds(r, "failed"));
    for (String phase : new String[] {"queue", "fetch", "build", "push"}) {
      assertEquals(1, phaseCount(r, "byop.build.phase", phase), phase);
    }
  }

  @Test
  void aFailureAtBuildingCountsFailedAndTimesNoPush(Byop byop, ByopFakes fakes) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    fakes.failAt(BuildStatus.BUILDING, "no");
    assertEquals(BuildStatus.FAILED, build(byop).status());
    eventually(1, () -> builds(r, "failed"), "byop.builds{outcome=failed}");
    assertEquals(1, phaseCount(r, "byop.build.phase", "build"));
    assertEquals(0, phaseCount(r, "byop.build.phase", "push"));
  }

  @Test
  void aSlowBuildIsTimedInSeconds(Byop byop, ByopFakes fakes) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    fakes.step(BuildStatus.BUILDING).then(Outcome.slow(Duration.ofMillis(300)));
    assertEquals(BuildStatus.SUCCESS, build(byop).status());
    eventually(1, () -> builds(r, "success"), "byop.builds{outcome=success}");
    Timer t = r.get("byop.build.phase").tag("phase", "build").timer();
    assertTrue(t.totalTime(TimeUnit.SECONDS) >= 0.3, t.totalTime(TimeUnit.SECONDS) + " s");
  }

  @Test
  void theQueueGaugeCountsPendingJobsAndCancelledOnesLeaveIt(Byop byop, ByopFakes fakes) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    Gauge queue = r.get("byop.build.queue").gauge();
    assertEquals(0, queue.value());
    fakes.step(BuildStatus.FETCHING).then(Outcome.hang());
    BuildJob first = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    fakes.step(BuildStatus.FETCHING).awaitCalls(1, WAIT);
    // one build per app at a time: the next two wait behind the hanging one
    BuildJob second = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    BuildJob third = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    assertEquals(2, queue.value());
    byop.orchestrator().cancel(third.id());
    assertEquals(1, queue.value());
    byop.orchestrator().cancel(first.id());
    assertEquals(BuildStatus.SUCCESS, byop.orchestrator().await(second.id(), WAIT).status());
    assertEquals(0, queue.value());
    eventually(2, () -> builds(r, "cancelled"), "byop.builds{outcome=cancelled}");
  }

  @Test
  void anExpiredLeaseCountsARecoveryAndTheRetryIsNotTimedAsQueueWait() throws Exception {
    try (ByopTestKit kit = ByopTestKit.builder().config(Map.of("orchestrator", Map.of("lease", "2s"))).build()) {
      Byop byop = kit.byop();
      SimpleMeterRegistry r = bind(byop);
      saveShop(byop);
      // a worker of another instance claims the job with a short lease and dies: this instance recovers it (its own
      // workers hold 2 s leases, so a busy machine does not make them expire too)
      BuildJob job = byop.store().createBuildJob("shop", "web", BuildConfig.defaults(), Instant.now());
      assertEquals(job.id(), byop.store().claimBuildJob("ghost/1", Instant.now(), Duration.ofMillis(100))
          .orElseThrow().id());
      assertEquals(BuildStatus.SUCCESS, byop.orchestrator().await(job.id(), WAIT).status());
      eventually(1, () -> builds(r, "success"), "byop.builds{outcome=success}");
      assertEquals(1, r.get("byop.build.lease.recoveries").tag("result", "retried").counter().count());
      assertNull(r.find("byop.build.lease.recoveries").tag("result", "gave_up").counter());
      assertEquals(0, phaseCount(r, "byop.build.phase", "queue"));
      assertEquals(1, phaseCount(r, "byop.build.phase", "fetch"));
    }
  }

  @Test
  void anExpiredLeaseOnTheLastAttemptCountsAGiveUp() throws Exception {
    try (ByopTestKit kit = ByopTestKit.builder()
        .config(Map.of("orchestrator", Map.of("lease", "2s", "maxAttempts", 1))).build()) {
      Byop byop = kit.byop();
      SimpleMeterRegistry r = bind(byop);
      saveShop(byop);
      BuildJob job = byop.store().createBuildJob("shop", "web", BuildConfig.defaults(), Instant.now());
      byop.store().claimBuildJob("ghost/1", Instant.now(), Duration.ofMillis(100)).orElseThrow();
      assertEquals(BuildStatus.FAILED, byop.orchestrator().await(job.id(), WAIT).status());
      eventually(1, () -> r.find("byop.build.lease.recoveries").tag("result", "gave_up").counters().stream()
          .mapToDouble(c -> c.count()).sum(), "byop.build.lease.recoveries{result=gave_up}");
      eventually(1, () -> builds(r, "failed"), "byop.builds{outcome=failed}");
    }
  }

  @Test
  void previewsAreCountedTimedAndGaugedPerHost(Byop byop) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    Preview p = byop.previews().await(byop.previews().createPreview("shop").id(), WAIT);
    assertEquals(PreviewStatus.RUNNING, p.status(), p.error());
    eventually(1, () -> r.get("byop.previews").tag("outcome", "running").counter().count(), "previews running");
    Gauge running = r.get("byop.previews.running").tag("host", ScriptedDeployer.HOST).gauge();
    assertEquals(1, running.value());
    assertEquals(1, phaseCount(r, "byop.preview.phase", "build"));
    assertEquals(1, phaseCount(r, "byop.preview.phase", "deploy"));
    byop.previews().await(byop.previews().deletePreview(p.id()).id(), WAIT);
    eventually(1, () -> r.get("byop.previews").tag("outcome", "stopped").counter().count(), "previews stopped");
    eventually(0, running::value, "byop.previews.running{host=scripted.local}");
  }

  @Test
  void aPreviewFailingAtDeployIsCountedFailed(Byop byop, ByopFakes fakes) throws Exception {
    SimpleMeterRegistry r = bind(byop);
    saveShop(byop);
    fakes.failAt(PreviewStatus.DEPLOYING, "no room");
    assertEquals(PreviewStatus.FAILED, byop.previews().await(byop.previews().createPreview("shop").id(), WAIT)
        .status());
    eventually(1, () -> r.get("byop.previews").tag("outcome", "failed").counter().count(), "previews failed");
    assertEquals(0, r.get("byop.previews").tag("outcome", "running").counter().count());
  }

  @Test
  void closedMetricsStopListening(Byop byop) throws Exception {
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    ByopMetrics m = new ByopMetrics(byop);
    m.bindTo(r);
    m.close();
    SimpleMeterRegistry open = bind(byop);
    saveShop(byop);
    assertEquals(BuildStatus.SUCCESS, build(byop).status());
    eventually(1, () -> builds(open, "success"), "byop.builds{outcome=success} of the open metrics");
    assertEquals(0, builds(r, "success"));
  }
}
