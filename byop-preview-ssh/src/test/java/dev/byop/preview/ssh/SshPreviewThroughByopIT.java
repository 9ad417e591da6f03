package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.testing.RequiresTestbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Remote previews as a host application gets them: a {@link Byop} (BuildKit on the local engine, the ssh deployer,
 * a static pool holding one of the bed's VPS hosts) previews a two-component app (web routed, api beside it) with the
 * host's Caddy, redeploys it shipping only the changed layer and deletes it leaving nothing, on VPS 1 (Docker 20.10,
 * Compose v1) and on VPS 2 (Docker 26.1 with the containerd store and Compose v2 when the bed runs the modern
 * engines: the 20.10 image crosses image stores, thin as an OCI layout, issue 17); and routes the same app
 * with Traefik's labels. Traefik has no package here: a stand-in image (busybox httpd answering every request) plays
 * the Traefik container, so what is tested is the labels, the per-preview route network Traefik joins and leaves, and
 * the container byop starts, as on the local side.
 */
@RequiresTestbed
class SshPreviewThroughByopIT {
  static final String RUN = TestbedEnv.RUN;
  static final String APP = "shop" + RUN;
  static final String INSTANCE = "ssh-byop-" + RUN;
  static final String TRAEFIK = "byop-it-ssh-traefik-" + RUN;
  static final int TRAEFIK_PORT = 30000 + (int) (Long.parseLong(RUN, 16) % 5000) + 5000;
  static TestbedEnv bed;
  static SshConnections pool;
  static final Map<Integer, RemoteCaddy> CADDIES = new java.util.concurrent.ConcurrentHashMap<>();
  static TestRepo repo;
  static Path data;

  @BeforeAll
  static void setUp() throws Exception {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    repo = TestRepo.create("byop-it-ssh-byop-repo");
    data = Files.createTempDirectory("byop-it-ssh-byop-data");
    byte[] filler = new byte[4 * 1024 * 1024];
    new Random(TestbedEnv.seed(41)).nextBytes(filler);
    repo.write("web/filler.bin", filler);
    repo.write("web/Dockerfile", "FROM " + bed.baseImage() + "\nCOPY filler.bin /filler.bin\nCOPY www /www\n"
        + "CMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n");
    repo.write("web/www/index.html", "web " + RUN + " v1\n");
    repo.write("api/Dockerfile", "FROM " + bed.baseImage() + "\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8081\", \"-h\", \"/www\"]\n");
    repo.write("api/www/index.html", "api " + RUN + "\n");
    repo.commit("v1");
    // the stand-in Traefik, present on vps1 as an operator would have pulled traefik there
    Path ctx = data.resolve("fake-traefik");
    Files.createDirectories(ctx);
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + bed.baseImage() + "\nRUN mkdir -p /www && echo fake > /www/index.html\n"
        + "ENTRYPOINT [\"/bin/sh\", \"-c\", \"exec httpd -f -p 80 -h /www\", \"fake-traefik\"]\n");
    bed.docker("build", "-q", "-t", TRAEFIK + ":1", ctx.toString());
    new ImageShipper(pool, bed.localImages()).ship(bed.vps(1), TRAEFIK + ":1");
  }

  @AfterAll
  static void tearDownAll() {
    // a fresh store knows no preview: the sweep removes whatever a failed case of this run left on the host
    for (int n : new int[] {1, 2}) {
      try (Byop sweeper = byop("sweep" + n, Map.of(), n)) {
        ((dev.byop.core.internal.DefaultPreviewManager) sweeper.previews()).sweep();
      } catch (RuntimeException e) {
        System.err.println("sweep of vps" + n + " after SshPreviewThroughByopIT failed: " + e);
      }
    }
    for (String c : List.of(TRAEFIK)) {
      try {
        bed.vpsDocker(1, "rm", "-f", c);
        bed.vpsDocker(1, "network", "rm", c);
      } catch (IllegalStateException gone) {
        // not there
      }
    }
    try {
      bed.vpsDocker(1, "image", "rm", "-f", TRAEFIK + ":1");
    } catch (IllegalStateException gone) {
      // not there
    }
    CADDIES.values().forEach(RemoteCaddy::close);
    pool.close();
    bed.removeLocal(TRAEFIK + ":1");
    repo.close();
    TestbedEnv.deleteTree(data);
  }

  static RemoteCaddy caddy(int n) {
    return CADDIES.computeIfAbsent(n, k -> RemoteCaddy.start(bed, pool, k));
  }

  /** The configuration a host would write: BuildKit on the local engine, VPS n over SSH, the given router keys. */
  static Byop byop(String dir, Map<String, Object> router, int n) {
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "ssh");
    preview.put("domain", RemoteCaddy.DOMAIN);
    preview.put("instance", INSTANCE);
    preview.put("baseDir", "byop-it-ssh-byop-" + RUN);
    preview.put("readyTimeout", "60s");
    preview.put("stopTimeout", "1s");
    preview.put("sweepInterval", "0s");
    preview.put("router", Map.of("adminPort", RemoteCaddy.ADMIN_PORT, "server", "byop", "httpPort", RemoteCaddy.HTTP_PORT));
    preview.putAll(router);
    String engine = bed.localDockerHost();
    preview.put("docker", Map.of("host", engine));
    var h = bed.testbed.vps(n);
    Map<String, Object> host = Map.of("id", "vps" + n, "address", h.address(), "port", h.port(), "user", h.user(),
        "privateKey", Map.of("file", h.privateKey().toString()), "knownHosts", h.knownHosts().toString(), "capacity", 3);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.resolve(dir).toString());
    root.put("git", Map.of("allowFile", true));
    root.put("builder", Map.of("provider", "buildkit", "endpoint", "docker+" + engine));
    root.put("preview", preview);
    root.put("cloud", Map.of("provider", "static", "hosts", List.of(host)));
    root.put("orchestrator", Map.of("workers", 2, "pollInterval", "50ms"));
    return Byop.builder().config(ByopConfig.of(root)).discover(SshPreviewThroughByopIT.class.getClassLoader())
        .listener(new dev.byop.core.ByopListener() {
          @Override
          public void imageDelivered(dev.byop.core.ImageDelivery d) {
            DELIVERIES.add(d);
          }
        }).build();
  }

  /** What the deployer reported to the host's listeners. */
  static final java.util.Queue<dev.byop.core.ImageDelivery> DELIVERIES = new java.util.concurrent.ConcurrentLinkedQueue<>();

  static App app() {
    GitSource src = GitSource.of(repo.url());
    return new App(APP, APP, List.of(Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html"),
        Component.of("api", src, 8081).withContext("api", "Dockerfile")));
  }

  static List<String> log(Byop byop, Preview p) {
    return byop.previews().logs(p.id(), 0, 10_000).stream().map(LogLine::text).toList();
  }

  static Preview running(Byop byop, Preview p) {
    Preview r = byop.previews().await(p.id(), Duration.ofMinutes(4));
    assertEquals(PreviewStatus.RUNNING, r.status(), r.error() + "\n" + log(byop, p));
    return r;
  }

  static long shipped(List<String> log, String component, int n) {
    Matcher m = Pattern.compile("shipped \\S+/" + Pattern.quote(component)
        + ":\\S+ to vps" + n + " \\(path (?:thin|full): [^)]*\\): (\\d+) bytes sent, (\\d+) bytes of (\\d+) of (\\d+) layers")
        .matcher(String.join("\n", log));
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    return last;
  }

  static List<String> vps(int n, String... args) {
    return bed.vpsDocker(n, args).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "vps{0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
  void aTwoComponentAppRunsBehindTheHostsCaddyIsRedeployedByTheChangedLayerAndLeavesNothing(int n) throws Exception {
    RemoteCaddy caddy = caddy(n);
    repo.write("web/www/index.html", "web " + RUN + " v1 vps" + n + "\n");
    repo.commit("v1 for vps" + n);
    try (Byop byop = byop("caddy" + n, Map.of(), n)) {
      byop.store().saveApp(app());
      Preview p = running(byop, byop.previews().createPreview(APP));
      assertEquals("vps" + n, p.host());
      String hostname = p.hostname().split("\\.", 2)[0] + "." + RemoteCaddy.DOMAIN;
      assertEquals("http://" + hostname + ":" + RemoteCaddy.HTTP_PORT + "/", p.url());
      RemoteCaddy.Reply web = RemoteCaddy.http(caddy.host, "127.0.0.1", RemoteCaddy.HTTP_PORT, hostname, "GET", "/", null);
      assertEquals(200, web.status());
      assertEquals("web " + RUN + " v1 vps" + n + "\n", web.body(), "answered by the web component through Caddy on vps1");
      assertEquals(2, vps(n, "ps", "-q", "--filter", "label=dev.byop.preview=" + p.id()).size(), "web and api run");
      List<String> first = log(byop, p);
      long firstBytes = shipped(first, "web", n);
      assertTrue(firstBytes > 4 * 1024 * 1024, "the first deploy ships the whole web image: " + first);
      dev.byop.core.ImageDelivery firstWeb = DELIVERIES.stream().filter(d -> d.previewId().equals(p.id())
          && d.image().contains("/web:")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(DELIVERIES));
      assertEquals(firstBytes, firstWeb.bytesSent(), "the listener hears what the log says: " + firstWeb);
      assertEquals("vps" + n, firstWeb.host());

      repo.write("web/www/index.html", "web " + RUN + " v2 vps" + n + "\n");
      String v2 = repo.commit("v2");
      byop.previews().redeploy(p.id(), v2);
      Preview again = running(byop, p);
      List<String> second = log(byop, p).subList(first.size(), log(byop, p).size());
      long incremental = shipped(second, "web", n);
      assertTrue(incremental > 0 && incremental < 64 * 1024, "the redeploy ships only the changed layer: " + second);
      dev.byop.core.ImageDelivery thin = DELIVERIES.stream().filter(d -> d.previewId().equals(p.id())
          && d.image().contains("/web:")).reduce((a, b) -> b).orElseThrow();
      assertEquals("thin", thin.path(), String.valueOf(thin));
      assertEquals(incremental, thin.bytesSent());
      assertTrue(thin.bytesSkipped() > 1024 * 1024, "the layers the host had are counted as skipped: " + thin);
      // only images changed (each component's is tagged by the commit): the containers are replaced through the engine,
      // compose is not started
      assertTrue(second.stream().anyMatch(l -> l.endsWith(": only images changed; replacing web, api through the engine")),
          "the redeploy replaces the containers through the engine: " + second);
      assertTrue(second.stream().noneMatch(l -> l.startsWith("compose up ")), "no compose up on the redeploy: " + second);
      assertTrue(second.stream().anyMatch(l -> l.startsWith("replaced ") && l.contains("(component web)")), String.valueOf(second));
      assertTrue(second.stream().anyMatch(l -> l.matches("removed image .*/web:[0-9a-f]{12} from vps" + n)),
          "the replaced web image is removed: " + second);
      assertEquals("web " + RUN + " v2 vps" + n + "\n",
          RemoteCaddy.http(caddy.host, "127.0.0.1", RemoteCaddy.HTTP_PORT, hostname, "GET", "/", null).body());
      System.out.println("SshPreviewThroughByopIT: docker20 -> vps" + n + " (" + bed.testbed.vpsEngine(n) + "): first deploy shipped "
          + firstBytes + " bytes of web, redeploy " + incremental + " bytes");

      Preview stopped = byop.previews().deletePreview(again.id());
      assertEquals(PreviewStatus.STOPPED, stopped.status());
      assertEquals(List.of(), vps(n, "ps", "-aq", "--filter", "label=dev.byop.preview=" + p.id()), "no container");
      assertEquals(List.of(), vps(n, "network", "ls", "-q", "--filter", "label=dev.byop.preview=" + p.id()), "no network");
      assertEquals(404, caddy.admin("GET", "/id/byop-" + p.id(), null).status(), "no route");
      assertFalse(pool.get(bed.vps(n)).exec(List.of("test", "-e", bed.vpsHome(n) + "/byop-it-ssh-byop-" + RUN + "/byop-"
          + p.id()), StdinSource.NONE, null, Duration.ofSeconds(10)).ok(), "no directory");
      assertEquals(List.of(), vps(n, "image", "ls", "-q", "--filter", "reference=*/" + APP + "/*"), "no image of the app");
      assertTrue(byop.store().hostLeases().isEmpty(), "the host slot is free");
    }
  }

  @Test
  void withTraefikTheEntryServiceCarriesTheRouteLabelsOnARouteNetworkTheRouterJoinsAndLeaves() {
    Map<String, Object> traefik = Map.of("image", TRAEFIK + ":1", "network", TRAEFIK, "containerName", TRAEFIK,
        "bindAddress", "127.0.0.1", "port", Integer.toString(TRAEFIK_PORT));
    try (Byop byop = byop("traefik", Map.of("router", "traefik", "traefik", traefik), 1)) {
      byop.store().saveApp(app());
      Preview p = running(byop, byop.previews().createPreview(APP));
      String hostname = p.hostname().split("\\.", 2)[0] + "." + RemoteCaddy.DOMAIN;
      assertEquals("http://" + hostname + ":" + TRAEFIK_PORT + "/", p.url());
      String web = vps(1, "ps", "-q", "--filter", "label=dev.byop.preview=" + p.id(), "--filter", "label=dev.byop.component=web")
          .get(0);
      String labels = bed.vpsDocker(1, "inspect", "--format", "{{json .Config.Labels}}", web);
      String router = "byop-" + p.id();
      assertTrue(labels.contains("\"traefik.enable\":\"true\"")
          && labels.contains("\"traefik.http.routers." + router + ".rule\":\"Host(`" + hostname + "`)\"")
          && labels.contains("\"traefik.http.services." + router + ".loadbalancer.server.port\":\"8080\""), labels);
      String routeNet = "byop-" + p.id().toLowerCase(java.util.Locale.ROOT) + "_byop-route";
      assertTrue(labels.contains("\"traefik.docker.network\":\"" + routeNet + "\""), labels);
      String members = bed.vpsDocker(1, "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", routeNet);
      assertTrue(members.contains(TRAEFIK), "the router joined the preview's route network: " + members);
      String api = vps(1, "ps", "-q", "--filter", "label=dev.byop.preview=" + p.id(), "--filter", "label=dev.byop.component=api")
          .get(0);
      assertFalse(bed.vpsDocker(1, "inspect", "--format", "{{json .Config.Labels}}", api).contains("traefik."),
          "only the entry service is routed");
      String run = bed.vpsDocker(1, "inspect", "--format", "{{json .Args}}", TRAEFIK);
      assertTrue(run.contains("--providers.docker.constraints=Label(`dev.byop.instance`,`" + INSTANCE + "`)"), run);

      byop.previews().deletePreview(p.id());
      assertEquals(List.of(), vps(1, "network", "ls", "-q", "--filter", "name=" + routeNet), "the route network is gone");
      assertEquals(List.of(), vps(1, "ps", "-aq", "--filter", "label=dev.byop.preview=" + p.id()));
    }
  }
}
