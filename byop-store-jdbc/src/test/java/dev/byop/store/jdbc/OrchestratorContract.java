package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Credentials;
import dev.byop.core.IllegalTransitionException;
import dev.byop.core.LogLine;
import dev.byop.core.SecretRef;
import dev.byop.core.StoreException;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.spi.BuildJobStore.BuildTransition;
import dev.byop.core.spi.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every orchestrator behaviour, run against a real store; subclasses pick H2 or the test bed's PostgreSQL. */
public abstract class OrchestratorContract extends OrchestratorTestBase {
  private List<String> transitionsOf(String jobId) {
    return transitions.stream().filter(t -> t.startsWith(jobId + " ")).map(t -> t.substring(jobId.length() + 1))
        .collect(Collectors.toList());
  }

  private List<String> logText(String jobId) {
    return store.readLog(jobId, 0, 10_000).stream().map(LogLine::text).collect(Collectors.toList());
  }

  @Test
  void localOnlyBuildEndsSuccessWithLocalImage() {
    var o = orchestrator(new FakeBuilder(), null, null);
    BuildJob job = o.requestBuild("shop", BuildConfig.defaults());
    assertEquals(BuildStatus.PENDING, job.status());
    BuildJob done = o.await(job.id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    assertEquals("byop/shop/web:" + FakeBuilder.COMMIT.substring(0, 12), done.image());
    assertEquals(FakeBuilder.COMMIT, done.commit());
    assertEquals(1, done.attempt());
    assertNull(done.leaseOwner());
    for (BuildStatus s : List.of(BuildStatus.PENDING, BuildStatus.FETCHING, BuildStatus.BUILDING, BuildStatus.SUCCESS)) {
      assertNotNull(done.statusTimes().get(s), s + " time");
    }
    assertNull(done.statusTimes().get(BuildStatus.PUSHING));
    assertEquals(done.image(), store.appState("shop").orElseThrow().currentImage());
    assertTrue(logText(job.id()).stream().anyMatch(l -> l.contains("stays in the local engine")), logText(job.id())::toString);
    waitFor("events", Duration.ofSeconds(5), () -> transitionsOf(job.id()).size() == 3);
    assertEquals(List.of("PENDING->FETCHING", "FETCHING->BUILDING", "BUILDING->SUCCESS"), transitionsOf(job.id()));
  }

  @Test
  void registryClientPushesWhenBuilderCannot() {
    FakeRegistry registry = new FakeRegistry();
    var o = orchestrator(new FakeBuilder(), registry, REGISTRY);
    BuildJob job = o.requestBuild("shop", BuildConfig.builder().component("api").tag("v1").build());
    BuildJob done = o.await(job.id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    assertEquals(REGISTRY + "/byop/shop/api:v1", done.image(), "under the default registry.namespace");
    assertEquals(FakeRegistry.DIGEST, done.digest());
    assertEquals(1, registry.pushes.size());
    assertEquals("byop/shop/api:v1", registry.pushes.peek().localImage());
    var state = store.appState("shop").orElseThrow();
    assertEquals(done.image(), state.currentImage());
    assertEquals(FakeRegistry.DIGEST, state.currentDigest());
    assertNotNull(done.statusTimes().get(BuildStatus.PUSHING));
    waitFor("events", Duration.ofSeconds(5), () -> transitionsOf(job.id()).size() == 4);
    assertEquals(List.of("PENDING->FETCHING", "FETCHING->BUILDING", "BUILDING->PUSHING", "PUSHING->SUCCESS"),
        transitionsOf(job.id()));
  }

  @Test
  void builderThatCanPushPushesItself() {
    FakeBuilder builder = new FakeBuilder();
    builder.canPush = true;
    FakeRegistry registry = new FakeRegistry();
    registry.held.put(FakeBuilder.imageFor(REGISTRY, "blog", "web"), "sha256:" + "b".repeat(64));
    var o = orchestrator(builder, registry, REGISTRY);
    BuildJob done = o.await(o.requestBuild("blog", BuildConfig.defaults()).id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    assertEquals(FakeBuilder.imageFor(REGISTRY, "blog", "web"), done.image());
    assertEquals("sha256:" + "b".repeat(64), done.digest());
    assertTrue(registry.pushes.isEmpty());
  }

  @Test
  void builderPushedDigestThatTheRegistryDoesNotHoldFails() {
    FakeBuilder builder = new FakeBuilder();
    builder.canPush = true;
    FakeRegistry registry = new FakeRegistry();
    registry.held.put(FakeBuilder.imageFor(REGISTRY, "blog", "web"), "sha256:" + "d".repeat(64));
    var o = orchestrator(builder, registry, REGISTRY);
    BuildJob done = o.await(o.requestBuild("blog", BuildConfig.defaults()).id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.FAILED, done.status());
    assertTrue(done.error().contains("digest mismatch"), done.error());
  }

  @Test
  void secretsAreRedactedAndLateFollowerGetsEveryLineOnce() throws Exception {
    Path secretFile = Files.createTempFile("byop-secret", ".txt");
    Files.writeString(secretFile, "build-secret-value-42\n");
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    builder.extraLines = 300;
    builder.secretToLog = "registry-pass-7";
    var o = orchestrator(store, builder, new FakeRegistry(), REGISTRY, 1, Duration.ofMillis(500),
        Duration.ofSeconds(20), 3, Credentials.basic("byop", "registry-pass-7"));
    BuildJob job = o.requestBuild("shop",
        BuildConfig.builder().secret("npm", SecretRef.file(secretFile)).build());
    assertTrue(builder.entered.await(20, TimeUnit.SECONDS));
    // Follow late, while lines are being written, from the start.
    List<LogLine> followed = new ArrayList<>();
    AutoCloseable handle = o.followLogs(job.id(), 0, line -> {
      synchronized (followed) {
        followed.add(line);
      }
    });
    builder.release.countDown();
    BuildJob done = o.await(job.id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    List<LogLine> stored = store.readLog(job.id(), 0, 10_000);
    waitFor("follower to catch up", Duration.ofSeconds(10), () -> {
      synchronized (followed) {
        return followed.size() >= stored.size();
      }
    });
    handle.close();
    synchronized (followed) {
      assertEquals(stored.stream().map(LogLine::seq).collect(Collectors.toList()),
          followed.stream().map(LogLine::seq).collect(Collectors.toList()));
    }
    for (int i = 0; i < stored.size(); i++) assertEquals(i + 1, stored.get(i).seq());
    String all = stored.stream().map(LogLine::text).collect(Collectors.joining("\n"));
    assertFalse(all.contains("build-secret-value-42"), "build secret leaked");
    assertFalse(all.contains("registry-pass-7"), "registry password leaked");
    assertTrue(all.contains("secret npm=******"), all);
    assertTrue(all.contains("login ******"), all);
    waitFor("listener lines", Duration.ofSeconds(5),
        () -> listenerLines.stream().filter(l -> l.ownerId().equals(job.id())).count() == stored.size());
    assertTrue(listenerLines.stream().noneMatch(l -> l.text().contains("registry-pass-7")));
    // A follower after the end gets the stored lines and ends.
    List<LogLine> after = new ArrayList<>();
    o.followLogs(job.id(), 10, after::add).close();
    assertEquals(stored.size() - 10, after.size());
    assertEquals(11, after.get(0).seq());
  }

  @Test
  void buildsOfOneComponentRunInRequestOrderOthersProceed() {
    FakeBuilder builder = new FakeBuilder();
    var o = orchestrator(store, builder, null, null, 4, Duration.ofMillis(500), Duration.ofSeconds(20), 3, null);
    List<BuildJob> jobs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      jobs.add(o.requestBuild(i % 2 == 0 ? "shop" : "blog", BuildConfig.defaults()));
    }
    for (BuildJob j : jobs) assertEquals(BuildStatus.SUCCESS, o.await(j.id(), Duration.ofSeconds(20)).status());
    List<String> shopOrder = builder.buildOrder.stream().filter(s -> s.startsWith("shop web "))
        .map(s -> s.substring("shop web ".length())).collect(Collectors.toList());
    List<String> expected = jobs.stream().filter(j -> j.appId().equals("shop")).map(BuildJob::id)
        .collect(Collectors.toList());
    assertEquals(expected, shopOrder);
    assertEquals(0, builder.overlaps.get());
  }

  @Test
  void twoComponentsOfOneAppBuildAtOnceTwoBuildsOfOneComponentDoNot() {
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    var o = orchestrator(store, builder, null, null, 4, Duration.ofSeconds(5), Duration.ofSeconds(20), 3, null);
    BuildJob web1 = o.requestBuild("shop", BuildConfig.builder().component("web").build());
    BuildJob web2 = o.requestBuild("shop", BuildConfig.builder().component("web").build());
    BuildJob api = o.requestBuild("shop", BuildConfig.builder().component("api").build());
    waitFor("web and api to build at once", Duration.ofSeconds(10), () -> builder.inBuild.get() == 2);
    assertEquals(BuildStatus.BUILDING, o.job(web1.id()).status());
    assertEquals(BuildStatus.BUILDING, o.job(api.id()).status(), "api does not wait for web");
    assertEquals(BuildStatus.PENDING, o.job(web2.id()).status(), "the second web build waits for the first");
    builder.release.countDown();
    for (BuildJob j : List.of(web1, web2, api)) {
      assertEquals(BuildStatus.SUCCESS, o.await(j.id(), Duration.ofSeconds(20)).status());
    }
    BuildJob w1 = o.job(web1.id());
    BuildJob a = o.job(api.id());
    // (the recorded times of web #1's end and web #2's claim may be microseconds apart either way: the builder's
    // own view says they did not overlap)
    assertEquals(List.of("shop web " + web1.id(), "shop web " + web2.id()),
        builder.buildOrder.stream().filter(s -> s.startsWith("shop web ")).collect(Collectors.toList()));
    assertTrue(a.statusTimes().get(BuildStatus.BUILDING).isBefore(w1.statusTimes().get(BuildStatus.SUCCESS)),
        "api built while web #1 did");
    assertEquals(0, builder.overlaps.get());
    assertEquals(1, builder.appOverlaps.get());
  }

  @Test
  void cancelPendingEndsCancelledAtOnce() throws Exception {
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    var o = orchestrator(builder, null, null);
    BuildJob first = o.requestBuild("shop", BuildConfig.defaults());
    BuildJob second = o.requestBuild("shop", BuildConfig.defaults());
    assertTrue(builder.entered.await(20, TimeUnit.SECONDS));
    assertEquals(BuildStatus.PENDING, o.job(second.id()).status());
    BuildJob cancelled = o.cancel(second.id());
    assertEquals(BuildStatus.CANCELLED, cancelled.status());
    assertEquals(0, cancelled.attempt());
    assertNotNull(cancelled.statusTimes().get(BuildStatus.CANCELLED));
    builder.release.countDown();
    assertEquals(BuildStatus.SUCCESS, o.await(first.id(), Duration.ofSeconds(20)).status());
    assertEquals(BuildStatus.CANCELLED, o.job(second.id()).status());
  }

  /** Starts a job that blocks in {@code status}; returns it once the builder or registry is inside that step. */
  private BuildJob blockIn(DefaultBuildOrchestrator o, FakeBuilder b, FakeRegistry r, BuildStatus status)
      throws Exception {
    BuildJob job = o.requestBuild("shop", BuildConfig.defaults());
    var entered = status == BuildStatus.PUSHING ? r.entered : b.entered;
    assertTrue(entered.await(20, TimeUnit.SECONDS));
    waitFor("status " + status, Duration.ofSeconds(10), () -> o.job(job.id()).status() == status);
    return job;
  }

  private static void configure(FakeBuilder b, FakeRegistry r, BuildStatus status, boolean ignore) {
    b.ignoreCancellation = ignore;
    r.ignoreCancellation = ignore;
    switch (status) {
      case FETCHING -> b.blockIn = FakeBuilder.Step.FETCH;
      case BUILDING -> b.blockIn = FakeBuilder.Step.BUILD;
      case PUSHING -> r.block = true;
      default -> throw new IllegalArgumentException(status.name());
    }
  }

  @ParameterizedTest(name = "cancel in {0}, builder ignores cancellation: {1}")
  @CsvSource({"FETCHING,false", "FETCHING,true", "BUILDING,false", "BUILDING,true", "PUSHING,false", "PUSHING,true"})
  void cancelInEachRunningStatus(BuildStatus status, boolean ignore) throws Exception {
    FakeBuilder b = new FakeBuilder();
    FakeRegistry r = new FakeRegistry();
    configure(b, r, status, ignore);
    var o = orchestrator(b, r, REGISTRY);
    BuildJob job = blockIn(o, b, r, status);
    BuildJob cancelled = o.cancel(job.id());
    assertEquals(BuildStatus.CANCELLED, cancelled.status());
    assertNull(cancelled.leaseOwner());
    var seen = status == BuildStatus.PUSHING ? r.cancelSeen : b.cancelSeen;
    assertTrue(seen.await(5, TimeUnit.SECONDS), "the provider's cancellation fired");
    waitFor("event", Duration.ofSeconds(5), () -> transitionsOf(job.id()).contains(status + "->CANCELLED"));
    b.release.countDown();
    r.release.countDown();
    // Whatever the provider does afterwards, the job stays CANCELLED and the app keeps no image.
    BuildJob after = o.await(job.id(), Duration.ofSeconds(5));
    assertEquals(BuildStatus.CANCELLED, after.status());
    waitFor("worker to let go", Duration.ofSeconds(10), () -> b.runningPerApp.values().stream()
        .allMatch(a -> a.get() == 0));
    assertNull(store.appState("shop").orElseThrow().currentImage());
  }

  @ParameterizedTest(name = "timeout in {0}, builder ignores cancellation: {1}")
  @CsvSource({"FETCHING,true", "BUILDING,false", "BUILDING,true", "PUSHING,true"})
  void timeoutInEachRunningStatusFails(BuildStatus status, boolean ignore) throws Exception {
    FakeBuilder b = new FakeBuilder();
    FakeRegistry r = new FakeRegistry();
    configure(b, r, status, ignore);
    var o = orchestrator(store, b, r, REGISTRY, 1, Duration.ofMillis(500), Duration.ofMillis(700), 3, null);
    BuildJob job = o.requestBuild("shop", BuildConfig.defaults());
    BuildJob done = o.await(job.id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.FAILED, done.status());
    assertEquals("timed out after 700ms", done.error());
    assertTrue(done.statusTimes().containsKey(status), "was in " + status + " before timing out");
    var seen = status == BuildStatus.PUSHING ? r.cancelSeen : b.cancelSeen;
    assertTrue(seen.await(5, TimeUnit.SECONDS), "the provider's cancellation fired");
    b.release.countDown();
    r.release.countDown();
    assertTrue(logText(job.id()).contains("timed out after 700ms"));
  }

  @Test
  void illegalTransitionsAreRejected() {
    BuildJob job = store.createBuildJob("shop", "web", BuildConfig.defaults(), Instant.now());
    assertThrows(IllegalTransitionException.class, () -> store.transitionBuildJob(
        BuildTransition.of(job.id(), null, BuildStatus.PENDING, BuildStatus.SUCCESS, Instant.now())));
    assertThrows(IllegalTransitionException.class, () -> store.transitionBuildJob(
        BuildTransition.of(job.id(), null, BuildStatus.PENDING, BuildStatus.BUILDING, Instant.now())));
    // the stored status is not the expected one
    assertThrows(StoreException.class, () -> store.transitionBuildJob(
        BuildTransition.of(job.id(), "w", BuildStatus.FETCHING, BuildStatus.BUILDING, Instant.now())
            .withResult(FakeBuilder.COMMIT, null, null)));
    BuildJob claimed = store.claimBuildJob("w1", Instant.now(), Duration.ofSeconds(30)).orElseThrow();
    assertEquals(job.id(), claimed.id());
    // another worker does not hold it
    assertThrows(StoreException.class, () -> store.transitionBuildJob(
        BuildTransition.of(job.id(), "w2", BuildStatus.FETCHING, BuildStatus.BUILDING, Instant.now())
            .withResult(FakeBuilder.COMMIT, null, null)));
    BuildJob failed = store.transitionBuildJob(BuildTransition.of(job.id(), "w1", BuildStatus.FETCHING,
        BuildStatus.FAILED, Instant.now()).withError("broken"));
    assertEquals("broken", failed.error());
    for (BuildStatus to : BuildStatus.values()) {
      assertThrows(IllegalTransitionException.class, () -> store.transitionBuildJob(
          BuildTransition.of(job.id(), null, BuildStatus.FAILED, to, Instant.now())), "FAILED -> " + to);
    }
    assertFalse(store.renewBuildLease(job.id(), "w1", Instant.now(), Duration.ofSeconds(1)));
  }

  @Test
  void expiredLeaseIsRetriedThenFailedWithReason() {
    BuildJob job = store.createBuildJob("blog", "web", BuildConfig.defaults(), Instant.now());
    Instant t0 = Instant.now();
    // a worker that died right after claiming, twice
    store.claimBuildJob("dead/1", t0, Duration.ofMillis(100)).orElseThrow();
    List<BuildJob> r1 = store.recoverExpiredBuildJobs(t0.plusSeconds(1), 2);
    assertEquals(1, r1.size());
    assertEquals(BuildStatus.PENDING, r1.get(0).status());
    assertEquals(1, r1.get(0).attempt());
    store.claimBuildJob("dead/2", t0.plusSeconds(1), Duration.ofMillis(100)).orElseThrow();
    List<BuildJob> r2 = store.recoverExpiredBuildJobs(t0.plusSeconds(2), 2);
    assertEquals(BuildStatus.FAILED, r2.get(0).status());
    assertTrue(r2.get(0).error().contains("lease expired 2 times"), r2.get(0).error());
    assertEquals(job.id(), r2.get(0).id());
  }

  @Test
  void orchestratorRecoversAJobWhoseWorkerVanished() {
    BuildJob job = store.createBuildJob("blog", "web", BuildConfig.defaults(), Instant.now());
    store.claimBuildJob("vanished/1", Instant.now(), Duration.ofMillis(200)).orElseThrow();
    var o = orchestrator(new FakeBuilder(), null, null);
    BuildJob done = o.await(job.id(), Duration.ofSeconds(20));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    assertEquals(2, done.attempt());
    waitFor("events", Duration.ofSeconds(5), () -> transitionsOf(job.id()).contains("FETCHING->PENDING"));
  }

  @Test
  void cancelFromAnotherInstanceStopsTheHolderWithinTheLease() throws Exception {
    FakeBuilder holderBuilder = new FakeBuilder();
    holderBuilder.blockIn = FakeBuilder.Step.BUILD;
    holderBuilder.ignoreCancellation = true;
    var holder = orchestrator(holderBuilder, null, null);
    BuildJob job = holder.requestBuild("blog", BuildConfig.defaults());
    assertTrue(holderBuilder.entered.await(20, TimeUnit.SECONDS));
    // the other instance starts once the holder has the job, so it cannot take the job itself
    Store otherStore = db.open(2);
    toClose.add(otherStore);
    FakeBuilder idle = new FakeBuilder();
    var other = orchestrator(otherStore, idle, null, null, 1, Duration.ofMillis(500), Duration.ofSeconds(20), 3, null);
    long t0 = System.nanoTime();
    assertEquals(BuildStatus.CANCELLED, other.cancel(job.id()).status());
    assertTrue(holderBuilder.cancelSeen.await(5, TimeUnit.SECONDS), "the holder's builder was told");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < 1500, "holder noticed after " + ms + "ms");
    holderBuilder.release.countDown();
    assertEquals(BuildStatus.CANCELLED, holder.await(job.id(), Duration.ofSeconds(5)).status());
    assertTrue(idle.builds.isEmpty());
  }
}
