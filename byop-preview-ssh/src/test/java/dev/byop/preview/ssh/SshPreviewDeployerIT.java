package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.PreviewStatus;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.preview.ssh.internal.MiniHttp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import dev.byop.testing.RequiresTestbed;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SSH deployer against the bed's VPS hosts, each running its own Caddy started over SSH. */
@RequiresTestbed
class SshPreviewDeployerIT {

  static final int ROUTER_PORT = 20000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 5000);
  static final int ADMIN_PORT = 25000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 5000);
  static final String DOMAIN = "ssh-it.byop.test";
  static TestbedEnv bed;
  static final String SSHIT1 = "sshit1" + TestbedEnv.RUN;
  static final String SSHCUT = "sshcut" + TestbedEnv.RUN;
  static final String SSHREG = "sshreg" + TestbedEnv.RUN;
  static final String SSHORPHAN = "sshorphan" + TestbedEnv.RUN;
  static final String SSHCAPA = "sshcapa" + TestbedEnv.RUN;
  static final String SSHCAPB = "sshcapb" + TestbedEnv.RUN;
  static final String SSHCAPC = "sshcapc" + TestbedEnv.RUN;
  static SshConnections pool;
  static Path webCtx;
  static Path apiCtx;
  static final String WEB1 = "byop-it-ssh/web-" + TestbedEnv.RUN + ":1";
  static final String WEB2 = "byop-it-ssh/web-" + TestbedEnv.RUN + ":2";
  static final String API = "byop-it-ssh/api-" + TestbedEnv.RUN + ":1";

  @BeforeAll
  static void setUp() throws IOException {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    webCtx = Files.createTempDirectory("byop-it-ssh-web");
    bed.buildImage(WEB1, webCtx, 4 * 1024 * 1024, TestbedEnv.seed(21), "hello 1\n");
    bed.buildImage(WEB2, webCtx, 4 * 1024 * 1024, TestbedEnv.seed(21), "hello 2\n");
    apiCtx = Files.createTempDirectory("byop-it-ssh-api");
    bed.buildImage(API, apiCtx, 1024, TestbedEnv.seed(22), "api\n", 8081);
    for (int n = 1; n <= 2; n++) {
      startCaddy(n);
    }
  }

  @AfterAll
  static void tearDownAll() {
    for (int n = 1; n <= 2; n++) {
      try {
        SshConnection c = pool.get(bed.vps(n));
        c.http("127.0.0.1", ADMIN_PORT, "POST", "/stop", new byte[0]);
        c.run(List.of("rm", "-f", "--", c.home() + "/byop-it-ssh-caddy-" + TestbedEnv.RUN + ".json", c.home() + "/byop-it-ssh-caddy-" + TestbedEnv.RUN + ".log"));
      } catch (RuntimeException e) {
        // already stopped
      }
      removeRemote(n, WEB1, WEB2, API);
    }
    pool.close();
    bed.removeLocal(WEB1, WEB2, API);
    TestbedEnv.deleteTree(webCtx);
    TestbedEnv.deleteTree(apiCtx);
  }

  /** Starts Caddy on VPS n (admin API on its loopback, preview server on :ROUTER_PORT) unless it already answers. */
  static void startCaddy(int n) {
    SshConnection c = pool.get(bed.vps(n));
    try {
      if (c.http("127.0.0.1", ADMIN_PORT, "GET", "/config/", null).status() == 200) {
        return;
      }
    } catch (SshException notRunning) {
      // start it below
    }
    String cfg = "{\"admin\":{\"listen\":\"127.0.0.1:" + ADMIN_PORT + "\"},\"apps\":{\"http\":{\"servers\":{\"byop\":{\"listen\":[\":"
        + ROUTER_PORT + "\"],\"automatic_https\":{\"disable\":true},\"routes\":[]}}}}}";
    String path = c.home() + "/byop-it-ssh-caddy-" + TestbedEnv.RUN + ".json";
    c.upload(path, cfg.getBytes(StandardCharsets.UTF_8));
    // a constant script; caddy's path, config and log file arrive as positional arguments, quoted like every word.
    // Backgrounded with its output in a file so that the exec channel closes; stopped through its admin API.
    c.run(List.of("sh", "-c", "\"$0\" run --config \"$1\" >\"$2\" 2>&1 </dev/null &", bed.caddyBinary().toString(), path,
        c.home() + "/byop-it-ssh-caddy-" + TestbedEnv.RUN + ".log"));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        if (c.http("127.0.0.1", ADMIN_PORT, "GET", "/config/", null).status() == 200) {
          return;
        }
      } catch (SshException notYet) {
        if (System.nanoTime() > deadline) {
          throw notYet;
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  static CloudProvider.RemoteHost remote(int n) {
    SshHost h = bed.vps(n);
    return new CloudProvider.RemoteHost("vps" + n, h.address(), h.port(), h.user(), SecretRef.file(bed.key()), null,
        bed.knownHosts().toString(), false, Map.of());
  }

  static App app() {
    GitSource src = GitSource.of("https://example.invalid/shop.git");
    return App.of("shop", Component.of("web", src, 8080).withHealthPath("/app.txt"), Component.of("api", src, 8081));
  }

  static Preview preview(String id, String web) {
    Instant now = Instant.now();
    return new Preview(id, "shop", PreviewStatus.DEPLOYING, "ssh", null, id + ".byop.local", null, null, null,
        Map.of("web", web, "api", API), now, now, null, 0, null);
  }

  static PreviewDeployer.DeployRequest request(Preview p) {
    return new PreviewDeployer.DeployRequest(p, app(), Map.of("web", ImageReference.parse(p.images().get("web")), "api", ImageReference.parse(API)));
  }

  static SshPreviewDeployer deployer(CloudProvider cloud, Duration wait) {
    return new SshPreviewDeployer(cloud, pool, new ImageShipper(pool, bed.localImages()),
        new CaddyRemoteRouter("127.0.0.1", ADMIN_PORT, "byop", ROUTER_PORT),
        SshDeployerOptions.of(DOMAIN).withAcquireWait(wait).withReadyTimeout(Duration.ofSeconds(30))
            .withStopTimeout(Duration.ofSeconds(1)).withInstance("ssh-it-" + TestbedEnv.RUN));
  }

  static String get(String address, String hostname, String path) throws IOException {
    MiniHttp.Response r = MiniHttp.get(address, ROUTER_PORT, hostname, path, Duration.ofSeconds(5));
    assertEquals(200, r.status(), r.body());
    assertEquals(hostname.split("\\.")[0], r.header("X-Byop-Preview").substring(5), "answered through the preview's route");
    return r.body();
  }

  static void removeRemote(int n, String... refs) {
    for (String r : refs) {
      try {
        bed.vpsDocker(n, "image", "rm", "-f", r);
      } catch (IllegalStateException absent) {
        // not there
      }
    }
  }

  @Test
  void twoComponentAppRunsIsRedeployedIncrementallyAndTornDown() throws IOException {
    removeRemote(1, WEB1, WEB2, API);
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(remote(1), 2)), Map.of());
    try (SshPreviewDeployer d = deployer(cloud, Duration.ZERO)) {
      List<String> log = new CopyOnWriteArrayList<>();
      Preview p = preview(SSHIT1, WEB1);
      PreviewDeployer.Deployment dep = d.deploy(request(p), JobContext.of(p.id(), log::add));
      assertEquals("vps1", dep.host());
      assertEquals("http://" + SSHIT1 + "." + DOMAIN + ":" + ROUTER_PORT + "/", dep.url());
      String hostname = SSHIT1 + "." + DOMAIN;
      assertEquals("hello 1\n", get(dep.address(), hostname, "/app.txt"));
      assertTrue(log.stream().anyMatch(l -> l.contains("compose file uploaded to " + bed.vpsHome(1) + "/byop/previews/" + SSHIT1)), log.toString());
      PreviewDeployer.Health h = d.status(p);
      assertTrue(h.urlAnswers());
      assertEquals(Map.of("web", "running", "api", "running"), h.components());

      // one-line change in the web component: only its small layer travels
      List<String> log2 = new CopyOnWriteArrayList<>();
      Preview p2 = preview(SSHIT1, WEB2);
      d.deploy(request(p2), JobContext.of(p2.id(), log2::add));
      assertEquals("hello 2\n", get(dep.address(), hostname, "/app.txt"));
      long bytes = shippedBytes(log2, WEB2);
      assertTrue(bytes > 0 && bytes < 64 * 1024, "redeploy shipped " + bytes + " bytes: " + log2);
      assertTrue(log2.stream().anyMatch(l -> l.contains("image " + API + " already on vps1")), log2.toString());
      assertTrue(log2.contains("removed image " + WEB1 + " from vps1"), "the replaced image is removed: " + log2);
      assertFalse(pool.get(bed.vps(1)).exec(List.of("docker", "image", "inspect", WEB1), StdinSource.NONE, null, Duration.ofSeconds(10)).ok());

      d.tearDown(preview(SSHIT1, WEB2), JobContext.of(p.id(), log2::add));
      SshConnection c = pool.get(bed.vps(1));
      assertFalse(c.exec(List.of("test", "-e", bed.vpsHome(1) + "/byop/previews/" + SSHIT1), StdinSource.NONE, null, Duration.ofSeconds(10)).ok(),
          "preview directory removed");
      assertEquals("", c.run(List.of("docker", "ps", "-a", "-q", "--filter", "label=dev.byop.preview=" + SSHIT1)).stdout().strip());
      assertFalse(c.exec(List.of("docker", "image", "inspect", WEB2), StdinSource.NONE, null, Duration.ofSeconds(10)).ok(), "unused image removed");
      assertTrue(cloud.hosts().get(0).previews().isEmpty(), "host released");
      MiniHttp.Response gone = MiniHttp.get(dep.address(), ROUTER_PORT, hostname, "/app.txt", Duration.ofSeconds(5));
      assertEquals(null, gone.header("X-Byop-Preview"), "route removed");
      assertNotEquals("hello 2\n", gone.body());
    } finally {
      removeRemote(1, WEB1);
    }
  }

  static long shippedBytes(List<String> log, String image) {
    Pattern p = Pattern.compile("shipped " + Pattern.quote(image) + " to \\S+: (\\d+) bytes");
    for (String l : log) {
      Matcher m = p.matcher(l);
      if (m.find()) {
        return Long.parseLong(m.group(1));
      }
    }
    return -1;
  }

  @Test
  void connectionCutWhileShippingFailsTheDeployCleanly() throws IOException {
    removeRemote(1, WEB1, API);
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(remote(1), 1)), Map.of());
    java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
    ImageShipper once = new ImageShipper(pool, ImageShipperIT.cutting(bed.localImages(), pool, bed.vps(1), armed, cut, 1024 * 1024),
        List.of("docker"), 1);
    once.learn(WEB1);
    armed.set(true);
    SshPreviewDeployer d = new SshPreviewDeployer(cloud, pool, once, new CaddyRemoteRouter("127.0.0.1", ADMIN_PORT, "byop", ROUTER_PORT),
        SshDeployerOptions.of(DOMAIN).withReadyTimeout(Duration.ofSeconds(30)).withStopTimeout(Duration.ofSeconds(1)).withInstance("ssh-it-" + TestbedEnv.RUN));
    Preview p = new Preview(SSHCUT, "shop", PreviewStatus.DEPLOYING, "ssh", null, SSHCUT + ".byop.local", null, null, null,
        Map.of("web", WEB1), Instant.now(), Instant.now(), null, 0, null);
    App webOnly = App.of("shop", Component.of("web", GitSource.of("https://example.invalid/shop.git"), 8080));
    PreviewException e = assertThrows(PreviewException.class,
        () -> d.deploy(new PreviewDeployer.DeployRequest(p, webOnly, Map.of("web", ImageReference.parse(WEB1))), JobContext.of(SSHCUT, l -> { })));
    assertTrue(cut.get(), "the connection was cut during the transfer");
    assertTrue(e.getMessage().contains("failed after 1 attempts"), e.getMessage());
    SshConnection c = pool.get(bed.vps(1));
    assertFalse(c.exec(List.of("docker", "image", "inspect", WEB1), StdinSource.NONE, null, Duration.ofSeconds(10)).ok(), "no partial image");
    assertEquals("", c.run(List.of("docker", "ps", "-a", "-q", "--filter", "label=dev.byop.preview=" + SSHCUT)).stdout().strip(), "nothing started");
    d.tearDown(p, JobContext.of(SSHCUT, l -> { }));
    assertTrue(cloud.hosts().get(0).previews().isEmpty(), "host released");
  }

  @Test
  void registryModeHostPullsTheImagesItself() throws IOException {
    // where a build of app shop, component web pushes (the default namespace); the host pulls that very name
    String pushed = bed.pushToRegistry(WEB1, "byop/shop/web:reg" + TestbedEnv.RUN);
    String onHost = bed.testbed.vps(1).registry() + "/byop/shop/web:reg" + TestbedEnv.RUN;
    App webOnly = App.of("shop", Component.of("web", GitSource.of("https://example.invalid/shop.git"), 8080).withHealthPath("/app.txt"));
    Preview p = new Preview(SSHREG, "shop", PreviewStatus.DEPLOYING, "ssh", null, SSHREG + ".byop.local", null, null, null,
        Map.of("web", pushed), Instant.now(), Instant.now(), null, 0, null);
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(remote(1), 1)), Map.of());
    var reg = bed.testbed.registry();
    try (SshPreviewDeployer d = new SshPreviewDeployer(cloud, pool, new ImageShipper(pool, bed.localImages()),
        new CaddyRemoteRouter("127.0.0.1", ADMIN_PORT, "byop", ROUTER_PORT),
        SshDeployerOptions.of(DOMAIN).withReadyTimeout(Duration.ofSeconds(30)).withStopTimeout(Duration.ofSeconds(1)).withInstance("ssh-it-" + TestbedEnv.RUN),
        new RegistryDelivery(bed.testbed.vps(1).registry(), reg.user(), SecretRef.value(reg.password())))) {
      List<String> log = new CopyOnWriteArrayList<>();
      PreviewDeployer.Deployment dep = d.deploy(new PreviewDeployer.DeployRequest(p, webOnly, Map.of("web", ImageReference.parse(pushed))),
          JobContext.of(p.id(), log::add));
      assertEquals("hello 1\n", get(dep.address(), SSHREG + "." + DOMAIN, "/app.txt"));
      assertTrue(log.stream().anyMatch(l -> l.startsWith("pulled " + onHost + " on vps1")), log.toString());
      assertTrue(log.stream().noneMatch(l -> l.contains(reg.password())), "the password is never logged");
      d.tearDown(p, JobContext.of(p.id(), log::add));
      assertFalse(pool.get(bed.vps(1)).exec(List.of("docker", "image", "inspect", onHost), StdinSource.NONE, null, Duration.ofSeconds(10)).ok(),
          "pulled image removed on tear-down");
    } finally {
      removeRemote(1, onHost);
      bed.removeLocal(pushed);
    }
  }

  @Test
  void sweepRemovesPreviewsNoLongerKnownAfterARestart() {
    App webOnly = App.of("shop", Component.of("web", GitSource.of("https://example.invalid/shop.git"), 8080));
    Preview p = new Preview(SSHORPHAN, "shop", PreviewStatus.DEPLOYING, "ssh", null, SSHORPHAN + ".byop.local", null, null, null,
        Map.of("web", WEB1), Instant.now(), Instant.now(), null, 0, null);
    try (SshPreviewDeployer before = deployer(new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(remote(1), 1)), Map.of()), Duration.ZERO)) {
      before.deploy(new PreviewDeployer.DeployRequest(p, webOnly, Map.of("web", ImageReference.parse(WEB1))), JobContext.of(p.id(), l -> { }));
    }
    // a restarted host application whose store no longer has the preview
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(remote(1), 1)), Map.of());
    try (SshPreviewDeployer after = deployer(cloud, Duration.ZERO)) {
      List<String> removed = after.sweep(java.util.Set.of("some-other-preview"), JobContext.of("sweep", l -> { }));
      assertEquals(List.of("vps1: preview " + SSHORPHAN), removed);
      SshConnection c = pool.get(bed.vps(1));
      assertEquals("", c.run(List.of("docker", "ps", "-a", "-q", "--filter", "label=dev.byop.preview=" + SSHORPHAN)).stdout().strip());
      assertFalse(c.exec(List.of("test", "-e", bed.vpsHome(1) + "/byop/previews/" + SSHORPHAN), StdinSource.NONE, null, Duration.ofSeconds(10)).ok());
      assertEquals(List.of(), after.sweep(java.util.Set.of(), JobContext.of("sweep", l -> { })), "nothing left to sweep");
    }
  }

  @Test
  void withOneSlotPerHostAThirdPreviewFailsClearlyAfterWaiting() {
    StaticCloudProvider cloud = new StaticCloudProvider(
        List.of(new StaticCloudProvider.PoolHost(remote(1), 1), new StaticCloudProvider.PoolHost(remote(2), 1)), Map.of());
    try (SshPreviewDeployer d = deployer(cloud, Duration.ofSeconds(1))) {
      Preview a = preview(SSHCAPA, WEB1);
      Preview b = preview(SSHCAPB, WEB1);
      String hostA = d.deploy(request(a), JobContext.of(a.id(), l -> { })).host();
      String hostB = d.deploy(request(b), JobContext.of(b.id(), l -> { })).host();
      assertNotEquals(hostA, hostB, "one preview per host");
      Preview c = preview(SSHCAPC, WEB1);
      PreviewException e = assertThrows(PreviewException.class, () -> d.deploy(request(c), JobContext.of(c.id(), l -> { })));
      assertTrue(e.getMessage().contains("no host of the static pool has a free slot for preview " + SSHCAPC), e.getMessage());
      d.tearDown(a, JobContext.of(a.id(), l -> { }));
      assertEquals(hostA, d.deploy(request(c), JobContext.of(c.id(), l -> { })).host(), "the freed slot is used");
      d.tearDown(b, JobContext.of(b.id(), l -> { }));
      d.tearDown(c, JobContext.of(c.id(), l -> { }));
      assertTrue(cloud.hosts().stream().allMatch(s -> s.previews().isEmpty()));
    }
  }
}
