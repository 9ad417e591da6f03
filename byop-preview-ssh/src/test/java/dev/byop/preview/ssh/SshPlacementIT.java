package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.preview.compose.Placement;
import dev.byop.preview.compose.PreviewHost;
import dev.byop.testing.RequiresTestbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SSH placement against the bed's VPS hosts: a slot per preview from a static pool (released, waited for, found
 * again by the preview's recorded host), images shipped with only the layers a host lacks, and in registry mode the
 * host pulling exactly what was pushed (same repository, tag, digest and image id).
 */
@RequiresTestbed
class SshPlacementIT {
  static final String RUN = TestbedEnv.RUN;
  static final String NAMESPACE = "byop-it-place-" + RUN;
  static final String WEB1 = "byop-it-place/web-" + RUN + ":1";
  static final String WEB2 = "byop-it-place/web-" + RUN + ":2";
  static final String API = "byop-it-place/api-" + RUN + ":1";
  static TestbedEnv bed;
  static SshConnections pool;
  static Path webCtx;
  static Path apiCtx;

  @BeforeAll
  static void setUp() throws IOException {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    webCtx = Files.createTempDirectory("byop-it-place-web");
    bed.buildImage(WEB1, webCtx, 4 * 1024 * 1024, TestbedEnv.seed(31), "hello 1\n");
    bed.buildImage(WEB2, webCtx, 4 * 1024 * 1024, TestbedEnv.seed(31), "hello 2\n");
    apiCtx = Files.createTempDirectory("byop-it-place-api");
    bed.buildImage(API, apiCtx, 1024, TestbedEnv.seed(32), "api\n", 8081);
  }

  @AfterAll
  static void tearDown() {
    removeRemote(1, WEB1, WEB2, API);
    pool.close();
    bed.removeLocal(WEB1, WEB2, API);
    TestbedEnv.deleteTree(webCtx);
    TestbedEnv.deleteTree(apiCtx);
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

  static App app() {
    GitSource src = GitSource.of("https://example.invalid/shop.git");
    return App.of("shop", Component.of("web", src, 8080), Component.of("api", src, 8081));
  }

  static Preview preview(String id, @org.jspecify.annotations.Nullable String host) {
    Instant now = Instant.now();
    return new Preview(id, "shop", PreviewStatus.DEPLOYING, "ssh", null, id + ".byop.local", host, null, null, Map.of(),
        now, now, null, 0, null);
  }

  static SshPlacement placement(StaticCloudProvider cloud, Duration wait, RegistryDelivery registry) {
    return new SshPlacement(cloud, pool, new ImageShipper(pool, bed.localImages()),
        SshDeployerOptions.of("place-it.byop.test").withAcquireWait(wait).withBaseDir("byop-it-place-" + RUN), registry,
        new Redactor(), new dev.byop.core.ByopListener() { }, List.of());
  }

  static long shipped(List<String> log, String image) {
    Matcher m = Pattern.compile("shipped " + Pattern.quote(image) + " to vps1 \\(path \\w+: [^)]*\\): (\\d+) bytes sent")
        .matcher(String.join("\n", log));
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  @Test
  void aSlotPerPreviewImagesShippedLayerByLayerAndTheHostFoundAgain() {
    removeRemote(1, WEB1, WEB2, API);
    String a = "placea" + RUN;
    String b = "placeb" + RUN;
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(RemoteCaddy.remote(bed, 1), 1)),
        Map.of());
    try (SshPlacement placement = placement(cloud, Duration.ofMillis(500), null)) {
      List<String> log = new CopyOnWriteArrayList<>();
      Placement.Placed placed = placement.place(new DeployRequest(preview(a, null), app(),
          Map.of("web", ImageReference.parse(WEB1), "api", ImageReference.parse(API))), JobContext.of(a, log::add));
      assertEquals("vps1", placed.host().id());
      assertEquals(Map.of("web", WEB1, "api", API), placed.images(), "the names the host's engine knows");
      long first = shipped(log, WEB1);
      assertTrue(first > 4 * 1024 * 1024, "the first ship sends the whole image: " + log);
      assertEquals(bed.docker("image", "inspect", "--format", "{{.Id}}", WEB1).strip(),
          bed.vpsDocker(1, "image", "inspect", "--format", "{{.Id}}", WEB1).strip(), "the host has the very image");
      assertEquals(Map.of(placed.host(), Set.of(a)), placement.hosts());

      // a redeploy keeps its slot; of the changed web image only its small layer travels
      List<String> log2 = new CopyOnWriteArrayList<>();
      placement.place(new DeployRequest(preview(a, null), app(),
          Map.of("web", ImageReference.parse(WEB2), "api", ImageReference.parse(API))), JobContext.of(a, log2::add));
      long incremental = shipped(log2, WEB2);
      assertTrue(incremental > 0 && incremental < 64 * 1024, "redeploy shipped " + incremental + " bytes: " + log2);
      assertTrue(log2.stream().anyMatch(l -> l.startsWith("image " + API + " already on vps1 (path present")), log2.toString());
      System.out.println("SshPlacementIT: first ship " + first + " bytes, incremental " + incremental + " bytes");

      PreviewException full = assertThrows(PreviewException.class, () -> placement.place(new DeployRequest(preview(b, null),
          app(), Map.of("web", ImageReference.parse(WEB1))), JobContext.of(b, l -> { })));
      assertTrue(full.getMessage().contains("no host of the static pool has a free slot for preview " + b), full.getMessage());

      assertEquals("vps1", placement.hostOf(preview(a, null)).map(PreviewHost::id).orElseThrow());
      placement.release(a);
      assertEquals(Map.of(placed.host(), Set.of()), placement.hosts());
      assertTrue(placement.hostOf(preview(a, null)).isEmpty(), "no slot, no recorded host");
      assertEquals("vps1", placement.hostOf(preview(a, "vps1")).map(PreviewHost::id).orElseThrow(),
          "the host the preview was recorded on");
      assertTrue(placement.hostOf(preview(a, "gone")).isEmpty());
    }
  }

  @Test
  void inRegistryModeTheHostPullsExactlyWhatWasPushed() {
    String id = "placereg" + RUN;
    String tag = "reg" + RUN;
    String pushed = bed.pushToRegistry(WEB1, NAMESPACE + "/shop/web:" + tag);
    String onHost = bed.testbed.vps(1).registry() + "/" + NAMESPACE + "/shop/web:" + tag;
    String digest = bed.docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", pushed).lines()
        .filter(l -> l.startsWith(bed.testbed.registry().address() + "/" + NAMESPACE + "/shop/web@"))
        .map(l -> l.substring(l.indexOf('@') + 1)).findFirst().orElseThrow();
    var reg = bed.testbed.registry();
    RegistryDelivery delivery = new RegistryDelivery(bed.testbed.vps(1).registry(), reg.user(), SecretRef.value(reg.password()),
        NAMESPACE);
    StaticCloudProvider cloud = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(RemoteCaddy.remote(bed, 1), 2)),
        Map.of());
    App webOnly = App.of("shop", Component.of("web", GitSource.of("https://example.invalid/shop.git"), 8080));
    try (SshPlacement placement = placement(cloud, Duration.ZERO, delivery)) {
      List<String> log = new CopyOnWriteArrayList<>();
      // as a build records it: the pushed reference with its digest
      Placement.Placed placed = placement.place(new DeployRequest(preview(id, null), webOnly,
          Map.of("web", ImageReference.parse(pushed + "@" + digest))), JobContext.of(id, log::add));
      assertEquals(Map.of("web", onHost), placed.images());
      assertTrue(log.stream().anyMatch(l -> l.startsWith("pulled " + onHost + " on vps1") && l.contains(digest)), log.toString());
      assertTrue(log.stream().noneMatch(l -> l.contains(reg.password())), "the password is never logged");
      String hostDigests = bed.vpsDocker(1, "image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", onHost);
      assertTrue(hostDigests.contains(bed.testbed.vps(1).registry() + "/" + NAMESPACE + "/shop/web@" + digest), hostDigests);
      String localId = bed.docker("image", "inspect", "--format", "{{.Id}}", WEB1).strip();
      assertEquals(localId, bed.vpsDocker(1, "image", "inspect", "--format", "{{.Id}}", onHost).strip(), "same image id");
      System.out.println("SshPlacementIT: pushed " + digest + ", vps1 holds " + hostDigests.strip() + ", image id " + localId);

      // a recorded digest the registry does not serve under that tag is refused
      String other = "sha256:" + "0".repeat(64);
      PreviewException e = assertThrows(PreviewException.class, () -> placement.place(new DeployRequest(preview(id + "x", null),
          webOnly, Map.of("web", ImageReference.parse(pushed + "@" + other))), JobContext.of(id, l -> { })));
      assertTrue(e.getMessage().contains("not the one the build pushed"), e.getMessage());
    } finally {
      removeRemote(1, onHost);
      bed.removeLocal(pushed);
    }
  }
}
