package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.preview.compose.HttpProbe;
import dev.byop.preview.compose.TraefikRouter;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.core.spi.PreviewDeployer.Deployment;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@RequiresTestbed
class LocalPreviewDeployerIT {
  static final String INSTANCE = "it-" + TestApps.newId();
  static Testbed bed;
  static Path src;
  static final List<String> log = Collections.synchronizedList(new ArrayList<>());
  static final Set<String> previews = Collections.synchronizedSet(new HashSet<>());
  /** This machine, for probes of the tests themselves (routes are queried on the host previews run on). */
  static final LocalHost LOCAL = new LocalHost(List.of("docker"), Path.of(System.getProperty("java.io.tmpdir")), Map.of());

  @BeforeAll
  static void sources(Testbed testbed, @TempDir Path dir) throws Exception {
    bed = testbed;
    src = dir;
    TestApps.writeWeb(dir.resolve("web"), bed.baseImage(), "v1");
    TestApps.writeApi(dir.resolve("api"), bed.baseImage(), "v1");
    Path crash = dir.resolve("crash");
    Files.createDirectories(crash);
    Files.writeString(crash.resolve("Dockerfile"), "FROM " + bed.baseImage()
        + "\nCMD [\"sh\", \"-c\", \"echo boom-from-api; exit 3\"]\n");
  }

  @AfterAll
  static void sweepEverythingOfThisClass(@TempDir Path work) {
    // whatever a failed assertion left behind: everything labelled with this class's instance
    for (Testbed.Engine engine : bed.engines()) {
      TestApps.deployer(TestApps.options(bed, engine, "caddy", INSTANCE, work, Duration.ofSeconds(30)))
          .sweep(Set.of(), JobContext.of("sweep", LogSink.discard()));
    }
  }

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  static Map<String, dev.byop.core.ImageReference> build(String tag) {
    return build(bed.docker20(), tag);
  }

  static Map<String, dev.byop.core.ImageReference> build(Testbed.Engine engine, String tag) {
    String web = "byop-it-preview/web:" + tag;
    String api = "byop-it-preview/api:" + tag;
    TestApps.dockerBuild(engine, src.resolve("web"), web);
    TestApps.dockerBuild(engine, src.resolve("api"), api);
    return TestApps.images(web, api);
  }

  static Preview stored(String id, App app, Map<String, dev.byop.core.ImageReference> images) {
    previews.add(id);
    return TestApps.preview(id, app.id(), images.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().familiar())));
  }

  static JobContext ctx(String id) {
    return JobContext.of(id, log::add);
  }

  /** GET through Caddy's listener with the preview's Host header; returns status line and body. */
  static String get(URI base, String host, String path) throws Exception {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      return r.lines().collect(Collectors.joining("\n"));
    }
  }

  static List<String> labelled(String kind, String previewId) {
    return labelled(bed.docker20(), kind, previewId);
  }

  static List<String> labelled(Testbed.Engine engine, String kind, String previewId) {
    List<String> argv = new ArrayList<>(kind.equals("container") ? List.of("ps", "-aq") : List.of(kind, "ls", "-q"));
    argv.addAll(List.of("--filter", "label=dev.byop.preview=" + previewId));
    return TestApps.docker(engine, argv.toArray(String[]::new));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void twoComponentAppRunsBehindCaddyWebReachesApiAndTearDownLeavesNothing(Testbed.Engine engine, @TempDir Path work) throws Exception {
    String id = TestApps.newId();
    var images = build(engine, id);
    App app = TestApps.app("shop", Map.of());
    Preview p = stored(id, app, images);
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, engine, "caddy", INSTANCE, work,
        Duration.ofSeconds(60)));

    Deployment dep = d.deploy(new DeployRequest(p, app, images), ctx(id));
    assertEquals("byop.local", dep.host());
    assertEquals("127.0.0.1", dep.address());
    assertEquals("http://" + p.hostname() + ":" + bed.caddy().httpUri().getPort() + "/", dep.url());

    String page = get(bed.caddy().httpUri(), p.hostname(), "/index.html");
    assertTrue(page.startsWith("HTTP/1.1 200") && page.contains("web v1"), page);
    assertTrue(page.contains("X-Byop-Preview: " + id), "answers through the preview's route carry its id: " + page);
    String viaWeb = get(bed.caddy().httpUri(), p.hostname(), "/cgi-bin/api");
    assertTrue(viaWeb.contains("api-ok v1"), "web must reach api by service name: " + viaWeb);
    assertTrue(d.router().routedPreviewIds(LOCAL).contains(id));
    assertTrue(d.status(TestApps.withUrl(p, dep.url())).urlAnswers());
    assertEquals(Set.of("web", "api"), d.status(p).components().keySet());
    List<String> apiVolumes = TestApps.docker(engine, "ps", "-q", "--filter", "label=dev.byop.component=api",
        "--filter", "label=dev.byop.preview=" + id).stream()
        .flatMap(c -> TestApps.docker(engine, "inspect", "--format", "{{range .Mounts}}{{.Name}}{{\"\\n\"}}{{end}}", c)
            .stream()).toList();
    assertEquals(1, apiVolumes.size(), "the api image declares VOLUME /data");
    assertEquals(2, labelled(engine, "container", id).size());
    assertEquals(1, labelled(engine, "network", id).size());

    d.tearDown(p, ctx(id));
    assertEquals(List.of(), labelled(engine, "container", id));
    assertEquals(List.of(), labelled(engine, "network", id));
    for (String v : apiVolumes) {
      assertEquals(List.of(), TestApps.docker(engine, "volume", "ls", "-q", "--filter", "name=" + v), "volume " + v);
    }
    assertFalse(d.router().routedPreviewIds(LOCAL).contains(id), "route removed");
    assertFalse(d.status(TestApps.withUrl(p, dep.url())).urlAnswers(), "Caddy's empty 200 for unrouted hosts is no answer");
    assertTrue(get(bed.caddy().httpUri(), p.hostname(), "/").isEmpty()
        || !get(bed.caddy().httpUri(), p.hostname(), "/").contains("web v1"));
    assertEquals(List.of(), TestApps.docker(engine, "image", "ls", "-q", "byop-it-preview/web:" + id),
        "unused preview images removed");
    assertFalse(Files.exists(work.resolve(ComposeDeployer.projectName(id))));
  }

  @Test
  void hostileEnvironmentValuesReachTheContainerExactly(@TempDir Path work) {
    String id = TestApps.newId();
    var images = build(id);
    Map<String, String> hostile = new java.util.LinkedHashMap<>();
    hostile.put("QUOTES", "it's \"quoted\" 'twice'");
    hostile.put("NEWLINE", "line one\nline two");
    hostile.put("DOLLAR", "$HOME ${PATH} $$ $ ${X:-default} $(id)");
    hostile.put("ANCHOR", "&anchor value");
    hostile.put("ALIAS", "*anchor");
    hostile.put("BOOLISH", "yes");
    hostile.put("COMMENT", "v # c");
    hostile.put("EMPTY", "");
    App app = TestApps.app("hostile", hostile);
    Preview p = stored(id, app, images);
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, "plain", INSTANCE, work,
        Duration.ofSeconds(60)));
    Deployment dep = d.deploy(new DeployRequest(p, app, images), ctx(id));
    assertTrue(dep.url().matches("http://127\\.0\\.0\\.1:\\d+/"), dep.url());
    assertTrue(HttpProbe.get(LOCAL, URI.create(dep.url()), null, Duration.ofSeconds(5)).ok());
    String api = TestApps.docker(bed, "ps", "-q", "--filter", "label=dev.byop.component=api",
        "--filter", "label=dev.byop.preview=" + id).get(0);
    String json = String.join("\n", TestApps.docker(bed, "inspect", "--format", "{{json .Config.Env}}", api));
    try {
      List<String> env = List.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, String[].class));
      for (var e : hostile.entrySet()) assertTrue(env.contains(e.getKey() + "=" + e.getValue()), e.getKey() + ": " + env);
    } catch (java.io.IOException e) {
      throw new AssertionError(json, e);
    }
    d.tearDown(p, ctx(id));
    assertEquals(List.of(), labelled("container", id));
  }

  @Test
  void aComponentThatExitsFailsWithItsLogs(@TempDir Path work) {
    String id = TestApps.newId();
    var images = build(id);
    String crash = "byop-it-preview/crash:" + id;
    TestApps.dockerBuild(bed, src.resolve("crash"), crash);
    var withCrash = TestApps.images("byop-it-preview/web:" + id, crash);
    App app = TestApps.app("crashy", Map.of());
    Preview p = stored(id, app, withCrash);
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, "plain", INSTANCE, work,
        Duration.ofSeconds(60)));
    var e = assertThrows(PreviewException.class, () -> d.deploy(new DeployRequest(p, app, withCrash), ctx(id)));
    assertTrue(e.getMessage().contains("component api"), e.getMessage());
    assertTrue(e.getMessage().contains("boom-from-api"), e.getMessage());
    assertTrue(log.stream().anyMatch(l -> l.contains("[api] boom-from-api")), "logs go to the preview log");
    d.tearDown(p, ctx(id));
    assertEquals(List.of(), labelled("container", id));
    TestApps.docker(bed, "image", "rm", "-f", "byop-it-preview/api:" + id);
  }

  @Test
  void neverHealthyFailsAfterTheReadyTimeout(@TempDir Path work) {
    String id = TestApps.newId();
    var images = build(id);
    App app = TestApps.app("sick", Map.of());
    App sick = new App(app.id(), app.name(), List.of(app.components().get(0),
        app.components().get(1).withHealthPath("/missing")));
    Preview p = stored(id, sick, images);
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, "plain", INSTANCE, work,
        Duration.ofSeconds(4)));
    var e = assertThrows(PreviewException.class, () -> d.deploy(new DeployRequest(p, sick, images), ctx(id)));
    assertTrue(e.getMessage().contains("did not answer") || e.getMessage().contains("unhealthy"), e.getMessage());
    d.tearDown(p, ctx(id));
  }

  @Test
  void sweepRemovesContainersNetworksAndRoutesTheStoreDoesNotKnow(@TempDir Path work) {
    String known = TestApps.newId();
    String orphan = TestApps.newId();
    var images = build(orphan);
    App app = TestApps.app("sweep", Map.of());
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, "caddy", INSTANCE, work,
        Duration.ofSeconds(60)));
    Preview p = stored(orphan, app, images);
    d.deploy(new DeployRequest(p, app, images), ctx(orphan));
    Preview k = stored(known, app, images);
    d.deploy(new DeployRequest(k, app, images), ctx(known));
    Set<String> live = new HashSet<>(previews);
    live.remove(orphan);

    List<String> removed = d.sweep(live, ctx("sweep"));
    assertTrue(removed.stream().anyMatch(r -> r.startsWith("container") && r.endsWith(orphan)), removed.toString());
    assertTrue(removed.stream().anyMatch(r -> r.startsWith("network") && r.endsWith(orphan)), removed.toString());
    assertTrue(removed.contains("route of preview " + orphan), removed.toString());
    assertEquals(List.of(), labelled("container", orphan));
    assertEquals(List.of(), labelled("network", orphan));
    assertEquals(2, labelled("container", known).size(), "known previews are left alone");
    assertTrue(d.router().routedPreviewIds(LOCAL).contains(known));
    d.tearDown(k, ctx(known));
  }

  @Test
  void traefikStartUpFailsClearlyWhenItsImageIsMissing(@TempDir Path work) {
    LocalPreviewOptions o = TestApps.options(bed, "traefik", INSTANCE, work, Duration.ofSeconds(5));
    TraefikRouter t = new TraefikRouter(o.traefik());
    var e = assertThrows(PreviewException.class, () -> t.ensureReady(o.host(), LogSink.discard()));
    assertTrue(e.getMessage().contains("Traefik image 'byop-it-preview/no-such-traefik:1' is not available"),
        e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void composeV2IsDetectedFromTheCliElseV1(Testbed.Engine engine, @TempDir Path work) {
    ComposeDeployer d = TestApps.deployer(TestApps.options(bed, engine, "plain", INSTANCE, work,
        Duration.ofSeconds(5)));
    // 20.10's CLI has no compose plugin; 26.1's finds Compose v2 through its DOCKER_CONFIG
    assertEquals(engine.composeV2() ? List.of(engine.cli().toString(), "compose") : List.of("docker-compose"),
        d.composeCommand(TestApps.options(bed, engine, "plain", INSTANCE, work, Duration.ofSeconds(5)).host()));
  }
}
