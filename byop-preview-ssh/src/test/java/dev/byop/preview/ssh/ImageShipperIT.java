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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Ships real images to the bed's vps1 over SSH and checks bytes, fallbacks and cut connections. */
@RequiresTestbed
class ImageShipperIT {

    static TestbedEnv bed;
    static Path ctx;
    static final String V1 = "byop-it-ssh/ship:v1";
    static final String V2 = "byop-it-ssh/ship:v2";
    static final String BIG = "byop-it-ssh/cut:1";
    static final int FILLER = 8 * 1024 * 1024;

    @BeforeAll
    static void images() throws IOException {
        bed = TestbedEnv.load();
        ctx = Files.createTempDirectory("byop-it-ssh-ship");
        bed.buildImage(V1, ctx, FILLER, 7, "hello 1\n");
        bed.buildImage(V2, ctx, FILLER, 7, "hello 2\n");
        bed.buildImage(BIG, Files.createTempDirectory("byop-it-ssh-cut"), 24 * 1024 * 1024, 11, "cut\n");
        removeRemote(V1, V2, BIG);
    }

    @AfterAll
    static void cleanup() {
        removeRemote(V1, V2, BIG);
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

    /** Local images whose first save stream once armed cuts the pooled SSH connection after 4 MB have been read. */
    static LocalImages cutting(LocalImages real, SshConnections pool, SshHost host, AtomicBoolean armed, AtomicBoolean cut) {
        return cutting(real, pool, host, armed, cut, 4 * 1024 * 1024);
    }

    /** As above, cutting after {@code after} bytes. */
    static LocalImages cutting(LocalImages real, SshConnections pool, SshHost host, AtomicBoolean armed, AtomicBoolean cut, long after) {
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
                            Thread killer = new Thread(() -> pool.get(host).disconnect());
                            killer.start();
                            try {
                                killer.join();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        return n;
                    }
                };
            }
        };
    }
}
