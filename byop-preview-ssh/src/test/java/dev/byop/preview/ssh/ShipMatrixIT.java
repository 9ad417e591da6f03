package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shipping across engine versions and image stores (issue 17): each local engine of the matrix ships a first image
 * and then one with a single changed small layer to a VPS host of the bed over SSH, with the host's own docker CLI
 * ({@code docker load}); the host runs both and lists them (complete), and a third ship finds the image present.
 * VPS 1 runs Docker 20.10, VPS 2 Docker 26.1 with the containerd store. Each case prints one {@code SHIP} line with the
 * path and bytes of both ships (the closing note's table).
 */
@RequiresTestbed
class ShipMatrixIT {

  static final int FILLER = 4 * 1024 * 1024;
  static TestbedEnv bed;
  static Testbed tb;
  static final List<Path> dirs = new ArrayList<>();

  @BeforeAll
  static void load() {
    bed = TestbedEnv.load();
    tb = Testbed.get();
  }

  @AfterAll
  static void cleanup() {
    dirs.forEach(TestbedEnv::deleteTree);
  }

  /** Source engine, target VPS, whether the incremental ship must leave out the layers the host holds. */
  static Stream<Arguments> combinations() {
    Testbed t = Testbed.get();
    List<String> engines = t.engines().stream().map(Testbed.Engine::name).toList();
    List<Arguments> l = new ArrayList<>();
    // baseline: 20.10 -> 20.10
    add(l, engines, Testbed.Engine.DOCKER20, 1, true);
    // 20.10 -> 26.1 containerd: the containerd store refuses a 20.10 archive without its layer files ("layer not
    // found"); rewritten into an OCI layout it takes it thin
    add(l, engines, Testbed.Engine.DOCKER20, 2, true);
    // 26.1 containerd (gzip blobs, found by the archive's manifest) -> 20.10
    add(l, engines, Testbed.Engine.DOCKER26_CONTAINERD, 1, true);
    // 26.1 classic (uncompressed blobs) -> 26.1 containerd
    add(l, engines, Testbed.Engine.DOCKER26, 2, true);
    // 26.1 containerd -> 26.1 containerd
    add(l, engines, Testbed.Engine.DOCKER26_CONTAINERD, 2, true);
    return l.stream();
  }

  private static void add(List<Arguments> l, List<String> engines, String source, int vps, boolean thin) {
    if (engines.contains(source)) {
      l.add(Arguments.of(source, vps, thin));
    }
  }

  static Testbed.Engine engine(String name) {
    return tb.engines().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
  }

  /** Builds {@code tag} on {@code e}: base image, a seeded filler layer, a small text layer. */
  static void build(Testbed.Engine e, String tag, Path ctx, String app) throws IOException {
    Path f = ctx.resolve("filler.bin");
    if (!Files.exists(f)) {
      byte[] filler = new byte[FILLER];
      new java.util.Random(TestbedEnv.seed(17)).nextBytes(filler);
      Files.write(f, filler);
    }
    Files.writeString(ctx.resolve("app.txt"), app);
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + bed.baseImage() + "\nCOPY filler.bin /filler.bin\nCOPY app.txt /app.txt\n");
    cli(e, "build", "-q", "-t", tag, ctx.toString());
  }

  static String cli(Testbed.Engine e, String... args) {
    List<String> cmd = new ArrayList<>(List.of(e.cli().toString()));
    cmd.addAll(List.of(args));
    Map<String, String> env = new java.util.HashMap<>(e.environment());
    env.put("DOCKER_BUILDKIT", "1");
    return TestbedEnv.run(cmd, env);
  }

  static void quietly(Runnable r) {
    try {
      r.run();
    } catch (IllegalStateException gone) {
      // not there
    }
  }

  /** The host lists the image (a containerd store's incomplete image answers inspect but is not listed). */
  static boolean listed(int vps, String tag) {
    return !bed.vpsDocker(vps, "image", "ls", "--quiet", tag).isBlank();
  }

  static String line(ShipResult r) {
    return r.path() + " bytes=" + r.bytesSent() + " skipped=" + r.layersSkipped() + "/" + r.layers() + " (" + r.reason() + ")";
  }

  @ParameterizedTest(name = "{0} -> vps{1}")
  @MethodSource("combinations")
  void shipsFirstAndIncrementalAcrossEngines(String source, int vps, boolean thin) throws IOException {
    Testbed.Engine src = engine(source);
    Path ctx = Files.createTempDirectory("byop-it-matrix");
    dirs.add(ctx);
    String repo = "byop-it-matrix/" + source + "-vps" + vps + "-" + TestbedEnv.RUN;
    String v1 = repo + ":1";
    String v2 = repo + ":2";
    build(src, v1, ctx, "one\n");
    build(src, v2, ctx, "two\n");
    try (DockerClient engine = DockerClient.connect(DockerEndpoint.parse(src.dockerHost()));
        SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshHost host = bed.vps(vps);
      ImageShipper shipper = new ImageShipper(pool, new EngineLocalImages(engine), List.of("docker"), 1);
      ShipResult first = shipper.ship(host, v1);
      assertFalse(first.alreadyPresent(), first.toString());
      assertEquals("one\n", bed.vpsDocker(vps, "run", "--rm", v1, "cat", "/app.txt"));
      assertTrue(listed(vps, v1), "complete on the host: " + first);

      ShipResult second = shipper.ship(host, v2);
      assertEquals("two\n", bed.vpsDocker(vps, "run", "--rm", v2, "cat", "/app.txt"));
      assertTrue(listed(vps, v2), "complete on the host: " + second);
      if (thin) {
        assertEquals("thin", second.path(), second.toString());
        assertTrue(second.bytesSent() < FILLER / 4, "only the changed layer travels: " + second);
        assertTrue(second.layersSkipped() >= 2, "base and filler left out: " + second);
      } else {
        assertEquals("full", second.path(), second.toString());
        assertTrue(second.reason().contains("refused"), second.reason());
      }
      assertTrue(shipper.ship(host, v2).alreadyPresent(), "a third ship finds it");
      System.out.println("SHIP " + source + " -> vps" + vps + " (" + tb.vpsEngine(vps) + ") first: " + line(first)
          + " | incremental: " + line(second));
    } finally {
      quietly(() -> bed.vpsDocker(vps, "image", "rm", "-f", v1, v2));
      quietly(() -> cli(src, "image", "rm", "-f", v1, v2));
    }
  }

  /**
   * The containerd store's trap: VPS 2 holds the layers uncompressed (shipped from a classic store), the archive of a
   * containerd-store engine names their gzip blobs; left out, the load "succeeds" and the image runs but is incomplete
   * (not listed, cannot be saved). The shipper notices and sends the whole archive; the preview is never told RUNNING
   * on an incomplete image.
   */
  @Test
  void aThinLoadThatLeavesAnIncompleteImageIsRepairedByAFullSend() throws IOException {
    List<String> names = tb.engines().stream().map(Testbed.Engine::name).toList();
    assumeTrue(names.contains(Testbed.Engine.DOCKER26) && names.contains(Testbed.Engine.DOCKER26_CONTAINERD)
        && tb.vpsEngine(2).equals(Testbed.Engine.DOCKER26_CONTAINERD), "needs both 26.1 engines and VPS 2 on 26.1 containerd");
    Testbed.Engine gzipSource = engine(Testbed.Engine.DOCKER26_CONTAINERD);
    Testbed.Engine plainSource = engine(Testbed.Engine.DOCKER26);
    Path ctx = Files.createTempDirectory("byop-it-trap");
    dirs.add(ctx);
    String tag = "byop-it-matrix/trap-" + TestbedEnv.RUN + ":1";
    String plain = "byop-it-matrix/trap-plain-" + TestbedEnv.RUN + ":1";
    build(gzipSource, tag, ctx, "trap\n");
    Path archive = ctx.resolve("image.tar");
    try {
      // the same image, layers uncompressed: through the classic store
      cli(gzipSource, "save", "-o", archive.toString(), tag);
      cli(plainSource, "load", "-i", archive.toString());
      cli(plainSource, "tag", tag, plain);
      try (DockerClient gz = DockerClient.connect(DockerEndpoint.parse(gzipSource.dockerHost()));
          DockerClient pl = DockerClient.connect(DockerEndpoint.parse(plainSource.dockerHost()));
          SshConnections pool = new SshConnections(SshOptions.defaults())) {
        SshHost vps2 = bed.vps(2);
        new ImageShipper(pool, new EngineLocalImages(pl), List.of("docker"), 1).ship(vps2, plain);
        assertTrue(listed(2, plain));

        ImageShipper shipper = new ImageShipper(pool, new EngineLocalImages(gz), List.of("docker"), 1);
        ShipResult r = shipper.ship(vps2, tag);
        assertEquals("full", r.path(), r.toString());
        assertTrue(r.reason().contains("incomplete"), r.reason());
        assertTrue(r.bytesSent() > FILLER / 2, "the whole archive went the second time: " + r);
        assertTrue(listed(2, tag), "complete after the repair");
        assertEquals("trap\n", bed.vpsDocker(2, "run", "--rm", tag, "cat", "/app.txt"));
        assertTrue(shipper.ship(vps2, tag).alreadyPresent(), "recognised once complete");
        System.out.println("SHIP trap docker26-containerd -> vps2 over uncompressed layers: " + line(r));
      }
    } finally {
      quietly(() -> bed.vpsDocker(2, "image", "rm", "-f", tag, plain));
      quietly(() -> cli(gzipSource, "image", "rm", "-f", tag));
      quietly(() -> cli(plainSource, "image", "rm", "-f", tag, plain));
    }
  }
}
