package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.internal.ImageNames;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.PreviewStore.PreviewTransition;
import dev.byop.core.spi.Store;
import dev.byop.testing.ChildJvm;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.TestDatabase;
import dev.byop.testing.Testbed;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Crash trials through {@code Byop}: a child JVM running byop's preview workers is SIGKILLed (by pid) during a deploy,
 * during the tear-down of a give-up and during the tear-down of a delete; a restarted {@code Byop} (this JVM) then must
 * leave nothing running of a FAILED or STOPPED preview, tear a remote preview down on DELETE, and count the host
 * slots recorded before the crash. On the embedded H2 (shared over its TCP server) and on the bed's PostgreSQL, remote
 * (VPS host 1, static provider) and local (Docker Compose, the bed's Caddy).
 */
@RequiresTestbed
class PreviewCrashTrialIT {
  static final String RUN = TestbedEnv.RUN;
  static final String APP = "crash" + RUN;
  static final String COMMIT = "c0ffee" + RUN + "0".repeat(40 - 6 - RUN.length());
  static final String REPO = "byop-it-crash" + RUN;
  static final String ROUTE_PREFIX = "byop-crash" + RUN + "-";
  /** A cold child JVM on a loaded machine: long enough that it keeps its leases until it is killed. */
  static final Duration CHILD_LEASE = Duration.ofSeconds(3);
  static final long SEED = Long.getLong("crash.seed", System.nanoTime());
  static final Random RANDOM = new Random(SEED);
  static TestbedEnv env;
  static Testbed bed;
  static Server h2;
  static Path work;
  static String image;
  static int trial;
  static final List<String> summary = new ArrayList<>();
  static SshConnections pool;
  static RemoteCaddy caddy;

  @BeforeAll
  static void setUp() throws Exception {
    env = TestbedEnv.load();
    bed = env.testbed;
    work = Files.createTempDirectory("byop-it-crash");
    image = ImageNames.local(REPO, APP, "web", ImageNames.tag(COMMIT)).familiar();
    buildImage();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    h2 = Server.createTcpServer("-tcpPort", String.valueOf(port), "-ifNotExists").start();
    // the remote router: this run's Caddy on VPS 1
    pool = new SshConnections(SshOptions.defaults());
    caddy = RemoteCaddy.start(env, pool, 1);
    System.out.println("crash trial seed " + SEED + " (rerun with -Dcrash.seed=" + SEED + ")");
  }

  @AfterAll
  static void tearDownAll() {
    summary.forEach(System.out::println);
    if (h2 != null) h2.stop();
    caddy.close();
    try {
      env.vpsDocker(1, "image", "rm", "-f", image);
    } catch (IllegalStateException absent) {
      // not there
    }
    env.removeLocal(image);
    TestbedEnv.deleteTree(work);
    pool.close();
  }

  /** The preview's image: the bed's busybox serving {@code /index.html} and {@code /app.txt} on 8080 (cached rebuilds). */
  static void buildImage() throws java.io.IOException {
    Path ctx = work.resolve("ctx");
    Files.createDirectories(ctx);
    Files.writeString(ctx.resolve("app.txt"), "crash " + RUN + "\n");
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + env.baseImage() + "\nCOPY app.txt /app.txt\n"
        + "COPY app.txt /index.html\n"
        // exits on SIGTERM (httpd as PID 1 would ignore it), so a tear-down does not wait out the stop timeout
        + "CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p 8080 -h / & wait\"]\n");
    env.docker("build", "-q", "-t", image, ctx.toString());
  }

  /** Where a trial keeps its store: a fresh H2 file behind the TCP server, or a fresh PostgreSQL database. */
  record Db(String url, String user, String password, AutoCloseable drop) {}

  Db db(String kind) {
    if (kind.equals("h2")) {
      String url = "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/" + work.resolve("h2-" + (++trial)).toAbsolutePath()
          + "/byop";
      return new Db(url, "sa", "", () -> { });
    }
    TestDatabase pg = bed.postgres().createDatabase("crash" + RUN + "_" + (++trial));
    return new Db(pg.jdbcUrl(), pg.user(), pg.password(), pg);
  }

  /** The configuration file a host would write: store, workers with a short lease, and the remote or local deployer. */
  Path config(Db db, String target, int maxAttempts, String name) throws Exception {
    Map<String, Object> store = new LinkedHashMap<>(Map.of("provider", "jdbc", "url", db.url(), "user", db.user()));
    if (!db.password().isEmpty()) {
      Path pw = work.resolve("pw-" + trial);
      Files.writeString(pw, db.password());
      store.put("password", Map.of("file", pw.toAbsolutePath().toString()));
    }
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("imageRepository", REPO);
    preview.put("sweepInterval", "0s");
    preview.put("readyTimeout", "60s");
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", work.resolve("data-" + trial).toString());
    root.put("store", store);
    root.put("builder", Map.of("provider", "prebuilt", "dockerCli", env.dockerCli(), "dockerHost", env.localDockerHost()));
    root.put("orchestrator", Map.of("workers", 2, "lease", CHILD_LEASE.toMillis() + "ms", "maxAttempts", maxAttempts,
        "pollInterval", "100ms"));
    if (target.equals("remote")) {
      Testbed.SshHost h = bed.vps(1);
      preview.put("provider", "ssh");
      preview.put("domain", RemoteCaddy.DOMAIN);
      preview.put("instance", "crash-" + RUN);
      preview.put("stopTimeout", "1s");
      preview.put("acquireWait", "10s");
      preview.put("router", Map.of("adminPort", RemoteCaddy.ADMIN_PORT, "server", "byop", "httpPort",
          RemoteCaddy.HTTP_PORT));
      preview.put("docker", Map.of("host", env.localDockerHost()));
      root.put("cloud", Map.of("provider", "static", "hosts", List.of(Map.of("id", "vps1", "address", h.address(),
          "port", h.port(), "user", h.user(), "privateKey", Map.of("file", h.privateKey().toString()),
          "knownHosts", h.knownHosts().toString(), "capacity", 2))));
    } else {
      preview.put("provider", "local");
      preview.put("router", "caddy");
      preview.put("instance", "crash" + RUN);
      preview.put("docker", env.dockerCli());
      preview.put("dockerHost", env.localDockerHost());
      preview.put("caddy", Map.of("admin", bed.caddy().adminUri().toString(), "server", bed.caddy().serverName(),
          "listener", bed.caddy().httpUri().toString(), "publicPort", Integer.toString(bed.caddy().httpUri().getPort()),
          "routeIdPrefix", ROUTE_PREFIX));
    }
    root.put("preview", preview);
    root.put("git", Map.of("allowFile", "true"));
    Path file = work.resolve(name + "-" + trial + ".json");
    // JSON is YAML: the file the child loads is what ByopConfig.load reads on a host
    Files.writeString(file, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(root));
    return file;
  }

  ChildJvm child(Path config, String name) throws Exception {
    return ChildJvm.start(PreviewCrashChild.class, List.of(config.toString()), Map.of(),
        Path.of("target", "crash-" + name + "-" + trial + ".log"));
  }

  Byop byop(Path config) {
    return Byop.builder().config(ByopConfig.load(config)).register(new PrebuiltImages.Factory())
        .discover(getClass().getClassLoader()).build();
  }

  static App app() {
    return App.of(APP, Component.of("web", GitSource.of("https://example.invalid/crash.git"), 8080)
        .withHealthPath("/app.txt"));
  }

  static Preview request(Store store, String deployer) throws java.io.IOException {
    // a local tear-down removes the images nothing runs any more, the prebuilt one too: build it again (cached)
    buildImage();
    String token = Long.toHexString(RANDOM.nextLong() & 0xffffffffL);
    return store.createPreview(APP, deployer, COMMIT, APP + "-" + token + ".byop.local", Instant.now(), null);
  }

  // ------------------------------------------------------------------ what runs

  List<String> containers(String target, String previewId) {
    String out = target.equals("remote")
        ? env.vpsDocker(1, "ps", "-a", "-q", "--filter", "label=dev.byop.preview=" + previewId)
        : env.docker("ps", "-a", "-q", "--filter", "label=dev.byop.preview=" + previewId);
    return out.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  boolean routed(String target, String previewId) throws Exception {
    if (target.equals("remote")) {
      return caddy.admin("GET", "/id/byop-" + previewId, null).status() == 200;
    }
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(bed.caddy().adminUri() + "/id/" + ROUTE_PREFIX + previewId)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200;
  }

  static void waitFor(String what, Duration timeout, ChildJvm child, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (child != null) child.checkAlive();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + (child != null ? "; child output:\n" + child.output() : ""));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static boolean logged(Store store, String previewId, String text) {
    return store.readLog(previewId, 0, 10_000).stream().map(LogLine::text).anyMatch(l -> l.contains(text));
  }

  static void pause(int maxMillis) {
    try {
      Thread.sleep(RANDOM.nextInt(maxMillis + 1)); // a random point inside the step, not a wait for a condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ------------------------------------------------------------------ the trial

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"h2, remote", "postgres, remote", "h2, local", "postgres, local"})
  void nothingLeaksAcrossKillsDuringDeployGiveUpAndTearDown(String storeKind, String target) throws Exception {
    Db db = db(storeKind);
    String deployer = target.equals("remote") ? "ssh" : "local";
    int kills = 0;
    int killedInProgress = 0;
    int giveUpKills = 0;
    int leftByKill = 0;
    try (AutoCloseable dropped = db.drop()) {
      Path giveUpConfig = config(db, target, 1, "give-up");
      Preview p1;
      Preview p2;
      try (Byop setup = byop(giveUpConfig)) {
        setup.store().saveApp(app());
        p1 = request(setup.store(), deployer);
        p2 = request(setup.store(), deployer);
      }
      List<String> ids = List.of(p1.id(), p2.id());

      // 1. killed while deploying (maxAttempts 1: the next claim gives up)
      try (Byop view = byop(giveUpConfig); ChildJvm a = child(giveUpConfig, "deploy")) {
        Store store = view.store();
        waitFor("both previews deploying with something on the host", Duration.ofSeconds(90), a, () -> ids.stream()
            .allMatch(id -> {
              PreviewStatus st = store.findPreview(id).orElseThrow().status();
              return !st.isInProgress() || st == PreviewStatus.DEPLOYING
                  && (target.equals("remote") ? store.hostLeases().containsKey(id) : !containers(target, id).isEmpty());
            }));
        pause(300);
        assertEquals(137, a.kill(), "SIGKILL");
        kills++;
        for (String id : ids) {
          if (store.findPreview(id).orElseThrow().status().isInProgress()) killedInProgress++;
        }
      }

      // 2. killed while the give-up tears down what the first attempt left
      try (Byop view = byop(giveUpConfig); ChildJvm b = child(giveUpConfig, "give-up")) {
        Store store = view.store();
        waitFor("a give-up tear-down (or both ended)", Duration.ofSeconds(60), b, () -> ids.stream().anyMatch(
            id -> logged(store, id, "tearing down what preview " + id + " runs"))
            || ids.stream().noneMatch(id -> store.findPreview(id).orElseThrow().status().isInProgress()));
        boolean during = ids.stream().anyMatch(id -> store.findPreview(id).orElseThrow().status().isInProgress());
        assertEquals(137, b.kill(), "SIGKILL");
        kills++;
        if (during) giveUpKills++;
      }

      // 3. a restarted Byop finishes: FAILED (given up) with nothing of it running, its host slot free
      try (Byop restarted = byop(giveUpConfig)) {
        var previews = restarted.previews();
        for (String id : ids) {
          Preview done = previews.await(id, Duration.ofSeconds(90));
          assertTrue(done.status() == PreviewStatus.FAILED || done.status() == PreviewStatus.RUNNING, done.toString());
          if (done.status() == PreviewStatus.FAILED) {
            assertTrue(done.error().contains("gave up") || done.error().contains("failed"), done.error());
            assertEquals(List.of(), containers(target, id), "a FAILED preview runs nothing: " + id);
            assertTrue(!routed(target, id), "a FAILED preview has no route: " + id);
            assertTrue(!restarted.store().hostLeases().containsKey(id), "its host slot is released");
          }
          Preview stopped = previews.deletePreview(id);
          assertEquals(PreviewStatus.STOPPED, stopped.status(), stopped.toString());
          assertEquals(List.of(), containers(target, id));
        }
      }

      // 4. killed while tearing down a running preview
      Path config = config(db, target, 3, "tear-down");
      Preview p3;
      try (Byop view = byop(config); ChildJvm c = child(config, "tear-down")) {
        Store store = view.store();
        p3 = request(store, deployer);
        waitFor("the preview running", Duration.ofSeconds(90), c,
            () -> store.findPreview(p3.id()).orElseThrow().status() == PreviewStatus.RUNNING);
        // what a DELETE on another instance records first; the child's workers take the tear-down
        store.transitionPreview(PreviewTransition.of(p3.id(), null, PreviewStatus.RUNNING, PreviewStatus.STOPPING,
            Instant.now()));
        waitFor("the child tearing down", Duration.ofSeconds(30), c,
            () -> logged(store, p3.id(), "tearing down preview " + p3.id()));
        pause(200);
        assertEquals(137, c.kill(), "SIGKILL");
        kills++;
        leftByKill = containers(target, p3.id()).size();
      }

      // 5. restarted: the host slot is counted again; DELETE (repeated while the dead worker's lease runs out) resumes
      try (Byop restarted = byop(config)) {
        Preview left = restarted.store().findPreview(p3.id()).orElseThrow();
        boolean interrupted = left.status() == PreviewStatus.STOPPING;
        if (target.equals("remote")) {
          CloudProvider cloud = restarted.cloudProvider().orElseThrow();
          if (interrupted) {
            assertEquals(List.of(p3.id()), cloud.hosts().get(0).previews(), "the slot survives the restart");
          }
        }
        // DELETE, asked again as a client would while the dead worker's lease runs out, resumes the tear-down
        waitFor("DELETE to tear the preview down", Duration.ofSeconds(60), null,
            () -> restarted.previews().deletePreview(p3.id()).status() == PreviewStatus.STOPPED);
        Preview gone = restarted.store().findPreview(p3.id()).orElseThrow();
        assertEquals(PreviewStatus.STOPPED, gone.status(), gone.toString());
        assertEquals(List.of(), containers(target, p3.id()), "nothing runs after DELETE");
        assertTrue(!routed(target, p3.id()), "no route after DELETE");
        assertTrue(restarted.store().hostLeases().isEmpty(), "no host slot left: " + restarted.store().hostLeases());
        if (target.equals("remote")) {
          assertEquals(List.of(), restarted.cloudProvider().orElseThrow().hosts().get(0).previews());
        }
        int leaked = 0;
        int routes = 0;
        for (String id : List.of(p1.id(), p2.id(), p3.id())) {
          leaked += containers(target, id).size();
          if (routed(target, id)) routes++;
        }
        summary.add(String.format("crash trial %s/%s: %d kills (deploy 1 with %d previews in progress, give-up %d,"
            + " tear-down 1 %s with %d containers left by the kill), leaked containers %d, leaked routes %d, host"
            + " leases left %d", storeKind, target, kills, killedInProgress, giveUpKills,
            interrupted ? "interrupted" : "finished first", leftByKill, leaked, routes,
            restarted.store().hostLeases().size()));
        assertEquals(0, leaked);
        assertEquals(0, routes);
      }
    }
  }
}
