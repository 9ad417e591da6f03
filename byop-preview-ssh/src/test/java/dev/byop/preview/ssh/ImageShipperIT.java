package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ships real images to the bed's vps1 over SSH and checks bytes, fallbacks and cut connections. */
@RequiresTestbed
class ImageShipperIT {

  static TestbedEnv bed;
  static Path ctx;
  static Path cutCtx;
  static final String V1 = "byop-it-ssh/ship-" + TestbedEnv.RUN + ":v1";
  static final String V2 = "byop-it-ssh/ship-" + TestbedEnv.RUN + ":v2";
  static final String BIG = "byop-it-ssh/cut-" + TestbedEnv.RUN + ":1";
  static final int FILLER = 8 * 1024 * 1024;

  @BeforeAll
  static void images() throws IOException {
    bed = TestbedEnv.load();
    ctx = Files.createTempDirectory("byop-it-ssh-ship");
    bed.buildImage(V1, ctx, FILLER, TestbedEnv.seed(7), "hello 1\n");
    bed.buildImage(V2, ctx, FILLER, TestbedEnv.seed(7), "hello 2\n");
    cutCtx = Files.createTempDirectory("byop-it-ssh-cut");
    bed.buildImage(BIG, cutCtx, 24 * 1024 * 1024, TestbedEnv.seed(11), "cut\n");
    removeRemote(V1, V2, BIG);
  }

  @AfterAll
  static void cleanup() {
    removeRemote(V1, V2, BIG);
    bed.removeLocal(V1, V2, BIG);
    TestbedEnv.deleteTree(ctx);
    TestbedEnv.deleteTree(cutCtx);
  }

  static void removeRemote(String... refs) {
    for (String r : refs) {
      try {
        bed.vpsDocker(1, "image", "rm", "-f", r);
      } catch (IllegalStateException absent) {
        // was not there
      }
    }
  }

  @Test
  void secondVersionSendsAboutTheChangedLayerOnly() {
    removeRemote(V1, V2);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      ImageShipper shipper = new ImageShipper(pool, bed.localImages());
      SshHost vps = bed.vps(1);
      ShipResult first = shipper.ship(vps, V1);
      assertFalse(first.alreadyPresent());
      // the bed pre-loads the base image on each VPS: only the filler and app layers travel
      assertTrue(first.bytesSent() > FILLER, "first ship carries the filler: " + first);
      assertTrue(first.bytesSent() < FILLER + 1_000_000, "first ship leaves out the base layer: " + first);
      assertEquals(shipper.remoteImageId(vps, V1), first.imageId());

      ShipResult second = shipper.ship(vps, V2);
      assertEquals(3, second.layers());
      assertEquals(2, second.layersSkipped(), second.toString());
      assertTrue(second.bytesSent() < 64 * 1024, "redeploy sends about the changed layer, not the image: " + second);
      assertEquals(second.imageId(), shipper.remoteImageId(vps, V2));

      ShipResult again = shipper.ship(vps, V2);
      assertTrue(again.alreadyPresent());
      assertEquals(0, again.bytesSent());
    }
  }

  /**
   * Across image stores (issue 17): a containerd-store engine names an image by its manifest digest, a classic one by
   * its config digest. The image loads and runs either way; the check after the load must not call that a failure.
   * 20.10 -> 26.1 (containerd): the bed's sshd on loopback with the 26.1 engine's socket as the remote docker.
   * 26.1 (containerd) -> 20.10: the 26.1 engine as the local source, vps1 as the target.
   */
  @Test
  void shipsAcrossImageStoresAndRecognisesTheLoadedImage() throws IOException {
    dev.byop.testing.Testbed tb = dev.byop.testing.Testbed.get();
    dev.byop.testing.Testbed.Engine store = tb.docker26Containerd();
    Testbed.SshHost loop = tb.ssh();
    SshHost local = new SshHost(loop.address(), loop.port(), loop.user(), SshKey.file(loop.privateKey()),
        HostKeyPolicy.knownHosts(loop.knownHosts()));
    List<String> toStore = List.of(bed.dockerCli(), "-H", store.dockerHost());
    String across = "byop-it-ssh/across-" + TestbedEnv.RUN + ":1";
    bed.buildImage(across, ctx, FILLER, TestbedEnv.seed(7), "across\n");
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      ImageShipper toContainerd = new ImageShipper(pool, bed.localImages(), toStore, 1);
      ShipResult r = toContainerd.ship(local, across);
      assertFalse(r.alreadyPresent(), r.toString());
      assertEquals("across\n", TestbedEnv.run(List.of(bed.dockerCli(), "-H", store.dockerHost(), "run", "--rm",
          across, "cat", "/app.txt"), java.util.Map.of()));
      assertTrue(toContainerd.ship(local, across).alreadyPresent(), "the loaded image is recognised as the same");

      // and back: the containerd store's save archive (OCI layout, gzip layers) to a 20.10 host
      removeRemote(across);
      try (dev.byop.docker.DockerClient src = dev.byop.docker.DockerClient.connect(
          dev.byop.docker.DockerEndpoint.parse(store.dockerHost()))) {
        ImageShipper fromContainerd = new ImageShipper(pool, new EngineLocalImages(src), List.of("docker"), 1);
        ShipResult back = fromContainerd.ship(bed.vps(1), across);
        assertFalse(back.alreadyPresent(), back.toString());
        assertEquals("across\n", bed.vpsDocker(1, "run", "--rm", across, "cat", "/app.txt"));
        assertTrue(fromContainerd.ship(bed.vps(1), across).alreadyPresent(), "recognised on the 20.10 host too");
      }
    } finally {
      removeRemote(across);
      bed.removeLocal(across);
      try {
        TestbedEnv.run(List.of(bed.dockerCli(), "-H", store.dockerHost(), "image", "rm", "-f", across), java.util.Map.of());
      } catch (IllegalStateException absent) {
        // was not there
      }
    }
  }

  @Test
  void freshShipperLearnsLayerNamesLocallyBeforeSkipping() {
    // a new process (empty name cache) against a host that already has the lower layers
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      new ImageShipper(pool, bed.localImages()).ship(bed.vps(1), V1);
    }
    removeRemote(V2);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      // and through the CLI source, which must behave the same
      ShipResult r = new ImageShipper(pool, bed.cliLocalImages()).ship(bed.vps(1), V2);
      assertTrue(r.bytesSent() < 64 * 1024, r.toString());
    }
  }

  @Test
  void connectionCutMidTransferIsRetriedOnAFreshConnection() throws IOException {
    removeRemote(BIG);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshHost vps = bed.vps(1);
      AtomicBoolean cut = new AtomicBoolean();
      AtomicBoolean armed = new AtomicBoolean();
      ImageShipper shipper = new ImageShipper(pool, cutting(bed.localImages(), pool, vps, armed, cut), List.of("docker"), 3);
      shipper.learn(BIG);
      armed.set(true);
      ShipResult r = shipper.ship(vps, BIG);
      assertTrue(cut.get(), "the connection was cut");
      assertEquals(2, r.attempts(), r.toString());
      assertEquals(r.imageId(), shipper.remoteImageId(vps, BIG));
    }
  }

  @Test
  void connectionCutWithoutRetriesFailsCleanlyAndLeavesNoImage() throws IOException {
    removeRemote(BIG);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshHost vps = bed.vps(1);
      AtomicBoolean cut = new AtomicBoolean();
      AtomicBoolean armed = new AtomicBoolean();
      ImageShipper shipper = new ImageShipper(pool, cutting(bed.localImages(), pool, vps, armed, cut), List.of("docker"), 1);
      shipper.learn(BIG);
      armed.set(true);
      SshException e = assertThrows(SshException.class, () -> shipper.ship(vps, BIG));
      assertTrue(e.getMessage().contains("failed after 1 attempts"), e.getMessage());
      assertNull(new ImageShipper(pool, bed.localImages()).remoteImageId(vps, BIG), "no partial image on the host");
    }
  }

  @Test
  void brokenLocalStreamFailsWithoutRetryAndLoadsNothing() throws IOException {
    removeRemote(BIG);
    AtomicLong saves = new AtomicLong();
    AtomicBoolean armed = new AtomicBoolean();
    LocalImages real = bed.localImages();
    LocalImages broken = new LocalImages() {
      @Override
      public LocalImage inspect(String reference) throws IOException {
        return real.inspect(reference);
      }

      @Override
      public InputStream save(String reference) throws IOException {
        InputStream in = real.save(reference);
        if (!armed.get()) {
          return in;
        }
        saves.incrementAndGet();
        AtomicLong read = new AtomicLong();
        return new FilterInputStream(in) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (read.addAndGet(Math.max(n, 0)) > 2 * 1024 * 1024) {
              throw new IOException("disk on fire");
            }
            return n;
          }
        };
      }
    };
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      ImageShipper shipper = new ImageShipper(pool, broken, List.of("docker"), 3);
      shipper.learn(BIG); // so that the failure hits the transfer itself
      armed.set(true);
      SshException e = assertThrows(SshException.class, () -> shipper.ship(bed.vps(1), BIG));
      assertTrue(e.getMessage().contains("reading the local image") && e.getMessage().contains("disk on fire"), e.getMessage());
      assertNull(shipper.remoteImageId(bed.vps(1), BIG), "nothing loaded");
      assertEquals(1, saves.get(), "not retried as if the connection had dropped");
      assertTrue(e.getMessage().contains("truncated archive"), e.getMessage());
    }
  }

  @Test
  void aCancelledShipStopsTheTransferAndLeavesNoLoadRunning() {
    removeRemote(BIG);
    dev.byop.core.internal.CancellationSource cancel = new dev.byop.core.internal.CancellationSource(
        new dev.byop.core.internal.Redactor());
    AtomicBoolean armed = new AtomicBoolean(true);
    AtomicBoolean fired = new AtomicBoolean();
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshHost vps = bed.vps(1);
      // the preview is deleted while its image is on the way: cancelled after 4 MiB of the 24 MiB
      ImageShipper shipper = new ImageShipper(pool, cutting(bed.localImages(), armed, fired, 4 * 1024 * 1024,
          () -> cancel.cancel("preview deleted")));
      long t0 = System.nanoTime();
      dev.byop.core.CancelledException e = assertThrows(dev.byop.core.CancelledException.class,
          () -> shipper.ship(vps, BIG, cancel));
      assertTrue(fired.get() && e.getMessage().contains("preview deleted"), e.getMessage());
      assertTrue(System.nanoTime() - t0 < java.time.Duration.ofSeconds(20).toNanos(), "stopped, not shipped to the end");
      assertNull(shipper.remoteImageId(vps, BIG), "nothing loaded");
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
      String ps;
      do {
        ps = pool.get(vps).run(List.of("ps", "-u", bed.get("VPS1_USER"), "-o", "args=")).stdout();
      } while (ps.contains("docker load") && System.nanoTime() < deadline);
      assertFalse(ps.contains("docker load"), "the host's docker load is gone: " + ps);
      assertTrue(pool.get(vps).run(List.of("true")).ok(), "the connection itself stays usable");
    } finally {
      removeRemote(BIG);
    }
  }

  @Test
  void registryModePullsWithThePasswordOnStdinAndLeavesNoCredentials() throws IOException {
    var reg = bed.testbed.registry();
    String local = bed.pushToRegistry(V1, "ssh/pull-" + TestbedEnv.RUN + ":1");
    String remote = bed.testbed.vps(1).registry() + "/ssh/pull-" + TestbedEnv.RUN + ":1";
    removeRemote(remote);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      ImageShipper shipper = new ImageShipper(pool, bed.localImages());
      String id = shipper.pull(bed.vps(1), remote, bed.testbed.vps(1).registry(), reg.user(), dev.byop.core.Secret.of(reg.password()), dev.byop.core.spi.Cancellation.none());
      assertEquals(bed.docker("image", "inspect", "--format", "{{.Id}}", V1).strip(), id);
      // other users' private directories make find exit 1; only what it prints matters
      String leftovers = pool.get(bed.vps(1)).exec(List.of("find", "/tmp", "-maxdepth", "2", "-name", "config.json", "-user",
          bed.testbed.vps(1).user()), StdinSource.NONE, null, java.time.Duration.ofSeconds(30)).stdout();
      assertEquals("", leftovers.strip(), "no docker config with credentials left on the host");
      assertThrows(RemoteCommandException.class, () -> shipper.pull(bed.vps(1), remote, bed.testbed.vps(1).registry(), reg.user(),
          dev.byop.core.Secret.of("wrong"), dev.byop.core.spi.Cancellation.none()));
    } finally {
      removeRemote(remote);
      bed.docker("image", "rm", local);
    }
  }

  /** Local images whose first save stream once armed cuts the pooled SSH connection after 4 MB have been read. */
  static LocalImages cutting(LocalImages real, SshConnections pool, SshHost host, AtomicBoolean armed, AtomicBoolean cut) {
    return cutting(real, pool, host, armed, cut, 4 * 1024 * 1024);
  }

  /** As above, cutting after {@code after} bytes by dropping the pooled connection. */
  static LocalImages cutting(LocalImages real, SshConnections pool, SshHost host, AtomicBoolean armed, AtomicBoolean cut, long after) {
    return cutting(real, armed, cut, after, () -> {
      // from another thread, as a network failure would: the reader is this stream's own thread
      Thread killer = new Thread(() -> pool.get(host).disconnect());
      killer.start();
      try {
        killer.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** Local images whose save stream, once armed, runs {@code onCut} once after {@code after} bytes have been read. */
  static LocalImages cutting(LocalImages real, AtomicBoolean armed, AtomicBoolean cut, long after, Runnable onCut) {
    return new LocalImages() {
      @Override
      public LocalImage inspect(String reference) throws IOException {
        return real.inspect(reference);
      }

      @Override
      public InputStream save(String reference) throws IOException {
        InputStream in = real.save(reference);
        if (!armed.get() || cut.get()) {
          return in;
        }
        AtomicLong read = new AtomicLong();
        return new FilterInputStream(in) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0 && read.addAndGet(n) > after && cut.compareAndSet(false, true)) {
              onCut.run();
            }
            return n;
          }
        };
      }
    };
  }
}
