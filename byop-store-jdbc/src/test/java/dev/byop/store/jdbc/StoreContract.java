package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.IllegalTransitionException;
import dev.byop.core.LogLine;
import dev.byop.core.NotFoundException;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.SecretRef;
import dev.byop.core.StoreException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.BuildJobStore.BuildTransition;
import dev.byop.core.spi.PreviewStore.PreviewTransition;
import dev.byop.store.jdbc.internal.JdbiStore;
import dev.byop.store.jdbc.internal.StoreOpener;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store itself: schema history, constraints, apps, claims, logs, previews; on H2 and PostgreSQL. */
public abstract class StoreContract extends DbTestBase {
  @BeforeEach
  void apps() {
    store.saveApp(app("shop", "web", "api"));
  }

  private void sql(String statement) {
    ((JdbiStore) store).jdbi().useHandle(h -> h.execute(statement));
  }

  private void refused(String why, String statement) {
    Exception e = assertThrows(Exception.class, () -> sql(statement), why);
    assertTrue(e.getMessage() != null, why);
  }

  @Test
  void migrationsAreRecordedAndReopeningAppliesNothing() {
    List<Map<String, Object>> rows = ((JdbiStore) store).jdbi().withHandle((Handle h) -> h.createQuery(
        "SELECT \"version\", \"success\" FROM \"" + StoreOpener.HISTORY_TABLE + "\" WHERE \"version\" IS NOT NULL")
        .mapToMap().list());
    assertEquals(List.of("1", "2", "3", "4", "5", "6"), rows.stream().map(r -> String.valueOf(r.get("version"))).toList());
    assertTrue(rows.stream().allMatch(r -> Boolean.TRUE.equals(r.get("success"))), rows::toString);
    try (var again = db.open(2)) {
      assertTrue(again.findApp("shop").isPresent());
    }
  }

  @Test
  void aStoredGitTokenIsAReference() {
    store.saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example/shop.git"), 0)));
    String cols = "UPDATE byop_component SET git_username = 'ci', git_token_ref = ";
    refused("a token value", cols + "'ghp_value' WHERE app_id = 'shop'");
    refused("a user without a token", "UPDATE byop_component SET git_username = 'ci' WHERE app_id = 'shop'");
  }

  @Test
  void constraintsRefuseImpossibleRows() {
    String cols = "INSERT INTO byop_build_job (id, app_id, component, config, status, pending_at, attempt";
    String ts = "TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00'";
    refused("unknown status", cols + ") VALUES ('j1', 'shop', 'web', '{}', 'DONE', " + ts + ", 0)");
    refused("unknown app", cols + ") VALUES ('j2', 'nope', 'web', '{}', 'PENDING', " + ts + ", 0)");
    refused("running without lease", cols + ", fetching_at) VALUES ('j3', 'shop', 'web', '{}', 'FETCHING', " + ts
        + ", 1, " + ts + ")");
    refused("pending with lease", cols + ", lease_owner, lease_expires_at) VALUES ('j4', 'shop', 'web', '{}',"
        + " 'PENDING', " + ts + ", 0, 'w', " + ts + ")");
    refused("success without image", cols + ", success_at) VALUES ('j5', 'shop', 'web', '{}', 'SUCCESS', " + ts
        + ", 1, " + ts + ")");
    refused("failed without reason", cols + ", failed_at) VALUES ('j6', 'shop', 'web', '{}', 'FAILED', " + ts
        + ", 1, " + ts + ")");
    refused("negative attempt", cols + ") VALUES ('j7', 'shop', 'web', '{}', 'PENDING', " + ts + ", -1)");
    refused("no pending time", "INSERT INTO byop_build_job (id, app_id, component, config, status, attempt)"
        + " VALUES ('j8', 'shop', 'web', '{}', 'PENDING', 0)");
    sql("INSERT INTO byop_log (owner_id, seq, at, line) VALUES ('o', 1, " + ts + ", 'a')");
    refused("duplicate log seq", "INSERT INTO byop_log (owner_id, seq, at, line) VALUES ('o', 1, " + ts + ", 'b')");
    refused("log seq 0", "INSERT INTO byop_log (owner_id, seq, at, line) VALUES ('o', 0, " + ts + ", 'b')");
    refused("running preview without url", "INSERT INTO byop_preview (id, app_id, status, deployer, images,"
        + " created_at, updated_at) VALUES ('p1', 'shop', 'RUNNING', 'local', '{}', " + ts + ", " + ts + ")");
    refused("stopped preview with lease", "INSERT INTO byop_preview (id, app_id, status, deployer, images,"
        + " created_at, updated_at, lease_owner, lease_expires_at) VALUES ('p2', 'shop', 'STOPPED', 'local', '{}', "
        + ts + ", " + ts + ", 'w', " + ts + ")");
    refused("component port", "INSERT INTO byop_component (app_id, position, name, git_url, context_dir, dockerfile,"
        + " build_args, port, env) VALUES ('shop', 5, 'x', 'u', '.', 'D', '{}', 70000, '{}')");
  }

  @Test
  void appsRoundTripWithComponentsAndState() {
    Component web = new Component("web", new GitSource("https://git.example/shop.git", "main", null), "services/web",
        "Dockerfile.prod", Map.of("A", "1"), 3000, Map.of("GREETING", "hello $USER \"quoted\""), "/health");
    Component own = Component.of("own", GitSource.of("https://git.example/own.git")
        .withCredentials(dev.byop.core.GitCredentials.of("ci", SecretRef.file(Path.of("git-token")))), 0);
    App app = new App("shop", "The Shop", List.of(web, Component.of("api", GitSource.of("git@host:shop.git"), 0), own));
    store.saveApp(app);
    assertEquals(app, store.findApp("shop").orElseThrow());
    assertEquals("file:git-token", store.findApp("shop").orElseThrow().component("own").orElseThrow().source()
        .credentials().token().describe(), "the app's git token is stored as its reference");
    // a token value is never written: saving it fails and leaves the stored app as it was
    App withValue = new App("shop", "The Shop", List.of(own.withSource(own.source().withCredentials(
        dev.byop.core.GitCredentials.of("ci", SecretRef.value("tok-in-a-row"))))));
    var refused = assertThrows(dev.byop.core.ValidationException.class, () -> store.saveApp(withValue));
    assertFalse(refused.getMessage().contains("tok-in-a-row"), refused.getMessage());
    assertEquals(app, store.findApp("shop").orElseThrow());
    assertEquals(List.of(app), store.listApps());
    assertNull(store.appState("shop").orElseThrow().currentImage());
    assertThrows(NotFoundException.class, () -> store.deleteApp("nope"));
  }

  @Test
  void buildConfigRoundTripsAndValueSecretsAreRefused() {
    BuildConfig c = BuildConfig.builder().component("api").commit("main").dockerfile("x/Dockerfile")
        .buildArg("K", "v").target("prod").label("l", "v").platforms(List.of("linux/amd64")).noCache(true)
        .secret("npm", SecretRef.env("NPM_TOKEN")).secret("key", SecretRef.file(Path.of("/run/key"))).tag("v1")
        .build();
    BuildJob job = store.createBuildJob("shop", "api", c, Instant.now());
    assertEquals(c, store.findBuildJob(job.id()).orElseThrow().config());
    assertThrows(ValidationException.class, () -> store.createBuildJob("shop", "api",
        BuildConfig.builder().secret("s", SecretRef.value("inline")).build(), Instant.now()));
    assertThrows(NotFoundException.class, () -> store.createBuildJob("shop", "nope", c, Instant.now()));
  }

  @Test
  void claimTakesOldestPendingPerComponentAndRunningComponentsWait() {
    store.saveApp(app("blog", "web"));
    Instant t = Instant.now();
    BuildJob s1 = store.createBuildJob("shop", "web", BuildConfig.defaults(), t);
    BuildJob s2 = store.createBuildJob("shop", "web", BuildConfig.defaults(), t);
    BuildJob a1 = store.createBuildJob("shop", "api", BuildConfig.defaults(), t);
    BuildJob b1 = store.createBuildJob("blog", "web", BuildConfig.defaults(), t);
    Duration lease = Duration.ofSeconds(30);
    assertEquals(s1.id(), store.claimBuildJob("w1", t, lease).orElseThrow().id());
    assertEquals(a1.id(), store.claimBuildJob("w2", t, lease).orElseThrow().id(),
        "shop/web is busy; shop/api builds beside it");
    assertEquals(b1.id(), store.claimBuildJob("w4", t, lease).orElseThrow().id(), "blog is next");
    assertTrue(store.claimBuildJob("w3", t, lease).isEmpty(), "s2 waits for s1 (same component)");
    BuildJob building = store.transitionBuildJob(BuildTransition.of(s1.id(), "w1", BuildStatus.FETCHING,
        BuildStatus.BUILDING, t).withResult("abc1234", null, null));
    assertEquals("abc1234", building.commit());
    assertTrue(store.renewBuildLease(s1.id(), "w1", t.plusSeconds(1), lease));
    assertFalse(store.renewBuildLease(s1.id(), "w9", t.plusSeconds(1), lease));
    store.transitionBuildJob(BuildTransition.of(s1.id(), "w1", BuildStatus.BUILDING, BuildStatus.SUCCESS, t)
        .withResult(null, "byop/shop-web:abc", "sha256:x"));
    assertEquals("byop/shop-web:abc", store.appState("shop").orElseThrow().currentImage());
    BuildJob next = store.claimBuildJob("w3", t, lease).orElseThrow();
    assertEquals(s2.id(), next.id());
    assertEquals(1, next.attempt());
    assertEquals("w3", next.leaseOwner());
    assertThrows(StoreException.class, () -> store.deleteApp("shop"), "a running job blocks deletion");
    assertEquals(List.of(a1.id(), s2.id(), s1.id()),
        store.listBuildJobs("shop", 10).stream().map(BuildJob::id).toList());
  }

  @Test
  void logsAreNumberedPerOwnerInOrder() {
    Instant t = Instant.now();
    assertEquals(0, store.appendLog("a", List.of(), t));
    assertEquals(2, store.appendLog("a", List.of("one", "two"), t));
    assertEquals(1, store.appendLog("b", List.of("other"), t));
    assertEquals(3, store.appendLog("a", List.of("three"), t));
    List<LogLine> lines = store.readLog("a", 1, 10);
    assertEquals(List.of(2L, 3L), lines.stream().map(LogLine::seq).toList());
    assertEquals(List.of("two", "three"), lines.stream().map(LogLine::text).toList());
    assertEquals(1, store.readLog("a", 0, 1).size());
  }

  @Test
  void previewLifecycleKeepsAppStateInStep() {
    Instant t = Instant.now();
    Preview p = store.createPreview("shop", "local", "abc1234", "shop-p1.byop.local", t, t.plusSeconds(3600));
    assertEquals(PreviewStatus.BUILDING, p.status());
    assertEquals(List.of(p.id()), store.listActivePreviews().stream().map(Preview::id).toList());
    Preview claimed = store.claimPreview("w1", t, Duration.ofSeconds(30)).orElseThrow();
    assertEquals(1, claimed.attempt());
    assertTrue(store.claimPreview("w2", t, Duration.ofSeconds(30)).isEmpty(), "held by a live worker");
    assertTrue(store.renewPreviewLease(p.id(), "w1", t, Duration.ofSeconds(30)));
    store.transitionPreview(PreviewTransition.of(p.id(), "w1", PreviewStatus.BUILDING, PreviewStatus.DEPLOYING, t));
    assertThrows(IllegalTransitionException.class, () -> store.transitionPreview(
        PreviewTransition.of(p.id(), "w1", PreviewStatus.DEPLOYING, PreviewStatus.BUILDING, t)));
    assertThrows(StoreException.class, () -> store.transitionPreview(
        PreviewTransition.of(p.id(), "w2", PreviewStatus.DEPLOYING, PreviewStatus.RUNNING, t)));
    Preview running = store.transitionPreview(new PreviewTransition(p.id(), "w1", PreviewStatus.DEPLOYING,
        PreviewStatus.RUNNING, t, "byop.local", "127.0.0.1", "http://shop-p1.byop.local:8088",
        Map.of("web", "byop/shop-web:abc"), null));
    assertEquals(Map.of("web", "byop/shop-web:abc"), running.images());
    assertFalse(store.renewPreviewLease(p.id(), "w1", t, Duration.ofSeconds(30)), "RUNNING releases the lease");
    var state = store.appState("shop").orElseThrow();
    assertEquals(p.id(), state.previewId());
    assertEquals("http://shop-p1.byop.local:8088", state.previewUrl());
    assertEquals(List.of(p.id()), store.listExpiredPreviews(t.plusSeconds(7200)).stream().map(Preview::id).toList());
    assertThrows(IllegalTransitionException.class, () -> store.transitionPreview(
        PreviewTransition.of(p.id(), null, PreviewStatus.RUNNING, PreviewStatus.STOPPED, t)), "only via STOPPING");
    store.saveHostLease(p.id(), "vps1", t);
    store.transitionPreview(PreviewTransition.of(p.id(), null, PreviewStatus.RUNNING, PreviewStatus.STOPPING, t));
    assertNull(store.appState("shop").orElseThrow().previewId());
    assertEquals(1, store.listPreviews("shop").size(), "a STOPPING preview still counts");
    assertTrue(store.listExpiredPreviews(t.plusSeconds(7200)).isEmpty(), "its tear-down is under way already");
    Preview stopping = store.claimPreview("w3", t, Duration.ofSeconds(30)).orElseThrow();
    assertEquals(PreviewStatus.STOPPING, stopping.status());
    assertTrue(store.renewPreviewLease(p.id(), "w3", t, Duration.ofSeconds(30)));
    store.transitionPreview(PreviewTransition.of(p.id(), "w3", PreviewStatus.STOPPING, PreviewStatus.STOPPED, t));
    assertTrue(store.listPreviews("shop").isEmpty());
    assertEquals(Map.of(p.id(), "vps1"), store.hostLeases(), "a lease goes with release, not with a status");
    store.deleteApp("shop");
    assertTrue(store.findApp("shop").isEmpty());
    assertTrue(store.findPreview(p.id()).isEmpty());
  }

  @Test
  void previewBuildJobsAreMadeOnlyForTheHolderAndARedeployForgetsThem() {
    Instant t = Instant.now();
    Duration lease = Duration.ofSeconds(30);
    BuildConfig web = BuildConfig.builder().component("web").build();
    BuildConfig api = BuildConfig.builder().component("api").build();
    Preview p = store.createPreview("shop", "local", null, "shop-links.byop.local", t, null);
    assertTrue(store.createPreviewBuildJob(p.id(), "w1", "web", web, t).isEmpty(), "not claimed yet");
    store.claimPreview("w1", t, lease).orElseThrow();
    assertTrue(store.createPreviewBuildJob(p.id(), "w2", "web", web, t).isEmpty(), "another worker holds it");
    BuildJob w = store.createPreviewBuildJob(p.id(), "w1", "web", web, t).orElseThrow();
    assertEquals(BuildStatus.PENDING, w.status());
    assertEquals("shop", w.appId());
    assertTrue(store.createPreviewBuildJob(p.id(), "w1", "web", web, t).isEmpty(), "one job per component per round");
    BuildJob a = store.createPreviewBuildJob(p.id(), "w1", "api", api, t).orElseThrow();
    assertEquals(Map.of("web", w.id(), "api", a.id()), store.previewBuildJobs(p.id()));
    assertEquals(2, store.listBuildJobs("shop", 10).size(), "only the jobs made");
    // a preview's job that succeeds is not the app's current image; a plain build's is
    assertEquals(w.id(), store.claimBuildJob("b1", t, lease).orElseThrow().id());
    succeed(w.id(), "b1", t, "byop/shop/web:preview");
    assertNull(store.appState("shop").orElseThrow().currentImage());
    BuildJob plain = store.createBuildJob("shop", "web", web, t);
    assertEquals(a.id(), store.claimBuildJob("b2", t, lease).orElseThrow().id());
    assertEquals(plain.id(), store.claimBuildJob("b3", t, lease).orElseThrow().id());
    succeed(plain.id(), "b3", t, "byop/shop/web:plain");
    assertEquals("byop/shop/web:plain", store.appState("shop").orElseThrow().currentImage());
    // a crash: the lease expires, another worker claims it in BUILDING and finds the same links
    store.claimPreview("w3", t.plusSeconds(60), lease).orElseThrow();
    assertEquals(Map.of("web", w.id(), "api", a.id()), store.previewBuildJobs(p.id()));
    assertTrue(store.createPreviewBuildJob(p.id(), "w1", "api", api, t).isEmpty(), "the old worker lost its lease");
    // a redeploy while building (from outside) releases the lease and starts a new round without links
    store.transitionPreview(PreviewTransition.of(p.id(), null, PreviewStatus.BUILDING, PreviewStatus.BUILDING,
        t.plusSeconds(61)).withCommit("feature"));
    assertEquals(Map.of(), store.previewBuildJobs(p.id()));
    assertTrue(store.createPreviewBuildJob(p.id(), "w3", "web", web, t).isEmpty(), "the redeploy released the lease");
    Preview again = store.claimPreview("w4", t.plusSeconds(62), lease).orElseThrow();
    assertEquals(1, again.attempt(), "a new round counts its attempts from the start");
    assertEquals("feature", again.commit());
    BuildJob w2 = store.createPreviewBuildJob(p.id(), "w4", "web", web, t).orElseThrow();
    store.transitionPreview(PreviewTransition.of(p.id(), "w4", PreviewStatus.BUILDING, PreviewStatus.STOPPING,
        t.plusSeconds(63)));
    assertTrue(store.createPreviewBuildJob(p.id(), "w4", "api", api, t).isEmpty(), "only while BUILDING");
    assertEquals(Map.of("web", w2.id()), store.previewBuildJobs(p.id()), "the links stay while it stops");
  }

  private void succeed(String jobId, String worker, Instant t, String image) {
    store.transitionBuildJob(BuildTransition.of(jobId, worker, BuildStatus.FETCHING, BuildStatus.BUILDING, t)
        .withResult("abc1234", null, null));
    store.transitionBuildJob(BuildTransition.of(jobId, worker, BuildStatus.BUILDING, BuildStatus.SUCCESS, t)
        .withResult(null, image, "sha256:x"));
  }

  @Test
  void hostLeasesAreStoredReplacedAndGoWithTheirPreview() {
    Instant t = Instant.now();
    Preview a = store.createPreview("shop", "ssh", null, "shop-h1.byop.local", t, null);
    Preview b = store.createPreview("shop", "ssh", null, "shop-h2.byop.local", t, null);
    store.saveHostLease(a.id(), "vps1", t);
    store.saveHostLease(b.id(), "vps1", t.plusMillis(1));
    store.saveHostLease(a.id(), "vps2", t.plusMillis(2));
    assertEquals(Map.of(a.id(), "vps2", b.id(), "vps1"), store.hostLeases());
    store.deleteHostLease(b.id());
    store.deleteHostLease(b.id());
    assertEquals(Map.of(a.id(), "vps2"), store.hostLeases());
    assertThrows(RuntimeException.class, () -> store.saveHostLease("no-such-preview", "vps1", t));
    assertThrows(RuntimeException.class, () -> store.saveHostLease(a.id(), " ", t));
    store.transitionPreview(PreviewTransition.of(a.id(), null, PreviewStatus.BUILDING, PreviewStatus.STOPPING, t));
    store.transitionPreview(PreviewTransition.of(b.id(), null, PreviewStatus.BUILDING, PreviewStatus.STOPPING, t));
    store.claimPreview(a.id(), "w", t, Duration.ofSeconds(1)).orElseThrow();
    store.transitionPreview(PreviewTransition.of(a.id(), "w", PreviewStatus.STOPPING, PreviewStatus.STOPPED, t));
    store.claimPreview(b.id(), "w", t, Duration.ofSeconds(1)).orElseThrow();
    store.transitionPreview(PreviewTransition.of(b.id(), "w", PreviewStatus.STOPPING, PreviewStatus.STOPPED, t));
    store.deleteApp("shop");
    assertTrue(store.hostLeases().isEmpty());
  }

  @Test
  void stoppingIsClaimedByIdOnlyWhenNoLiveWorkerHoldsIt() {
    Instant t = Instant.now();
    Preview p = store.createPreview("shop", "local", null, "shop-s1.byop.local", t, null);
    store.claimPreview("builder", t, Duration.ofSeconds(30)).orElseThrow();
    Preview stopping = store.transitionPreview(
        PreviewTransition.of(p.id(), null, PreviewStatus.BUILDING, PreviewStatus.STOPPING, t));
    assertEquals(0, stopping.attempt(), "entering STOPPING resets the attempts");
    assertFalse(store.renewPreviewLease(p.id(), "builder", t, Duration.ofSeconds(30)), "the builder lost it");
    Preview mine = store.claimPreview(p.id(), "deleter", t, Duration.ofSeconds(30)).orElseThrow();
    assertEquals(1, mine.attempt());
    assertTrue(store.claimPreview(p.id(), "other", t.plusSeconds(1), Duration.ofSeconds(30)).isEmpty(), "held");
    assertTrue(store.claimPreview("other", t.plusSeconds(1), Duration.ofSeconds(30)).isEmpty(), "held");
    // a failed tear-down keeps the lease (the retry waits for it) and records why
    Preview failed = store.transitionPreview(PreviewTransition.of(p.id(), "deleter", PreviewStatus.STOPPING,
        PreviewStatus.STOPPING, t).withError("host unreachable"));
    assertEquals("host unreachable", failed.error());
    assertTrue(store.claimPreview("other", t.plusSeconds(1), Duration.ofSeconds(30)).isEmpty(), "still held");
    Preview again = store.claimPreview(p.id(), "after-crash", t.plusSeconds(31), Duration.ofSeconds(30)).orElseThrow();
    assertEquals(PreviewStatus.STOPPING, again.status());
    assertEquals(2, again.attempt());
  }

  @Test
  void expiredPreviewLeaseCanBeClaimedAgain() {
    Instant t = Instant.now();
    Preview p = store.createPreview("shop", "local", null, "shop-p2.byop.local", t, null);
    store.claimPreview("dead", t, Duration.ofMillis(100)).orElseThrow();
    Preview again = store.claimPreview("w2", t.plusSeconds(1), Duration.ofSeconds(30)).orElseThrow();
    assertEquals(p.id(), again.id());
    assertEquals(2, again.attempt());
  }

  @Test
  void errorsLongerThanTheirColumnAreCutWithAMarkerAndTheFailedTransitionHappens() {
    Instant t = Instant.now();
    BuildJob job = store.createBuildJob("shop", "web", BuildConfig.defaults(), t);
    store.claimBuildJob("w1", t, Duration.ofSeconds(30)).orElseThrow();
    String error = "executor failed running [/bin/sh -c echo " + "x".repeat(20_000) + "]: exit code: 3";
    BuildJob failed = store.transitionBuildJob(BuildTransition.of(job.id(), "w1", BuildStatus.FETCHING,
        BuildStatus.FAILED, t).withError(error));
    assertEquals(BuildStatus.FAILED, failed.status());
    assertEquals(10_000, failed.error().length());
    assertTrue(failed.error().startsWith("executor failed running [/bin/sh -c echo xxx"));
    assertTrue(failed.error().contains(dev.byop.core.internal.LogHub.CUT_MARKER), failed.error().substring(9_900));
    assertEquals(failed, store.findBuildJob(job.id()).orElseThrow());

    Preview p = store.createPreview("shop", "local", null, "shop-p3.byop.local", t, null);
    store.claimPreview("w1", t, Duration.ofSeconds(30)).orElseThrow();
    Preview pf = store.transitionPreview(PreviewTransition.of(p.id(), "w1", PreviewStatus.BUILDING,
        PreviewStatus.FAILED, t).withError(error + "\0"));
    assertEquals(PreviewStatus.FAILED, pf.status());
    assertTrue(pf.error().length() <= 10_000 && pf.error().contains(dev.byop.core.internal.LogHub.CUT_MARKER));
  }

  @Test
  void aLineLongerThanTheColumnOrHoldingNulIsStoredNotRefused() {
    Instant t = Instant.now();
    assertEquals(2, store.appendLog("long", List.of("a".repeat(200_000), "nul\0here"), t));
    List<LogLine> lines = store.readLog("long", 0, 10);
    assertEquals(100_000, lines.get(0).text().length());
    assertTrue(lines.get(0).text().contains(dev.byop.core.internal.LogHub.CUT_MARKER));
    assertEquals("nul\uFFFDhere", lines.get(1).text());
  }
}
