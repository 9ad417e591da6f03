package dev.byop.preview.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Heap while shipping a large image (issue 14): a child JVM limited to {@code -Xmx64m} ships a 1 GB image (one
 * 1 GB layer over the bed's base) to the bed's vps1 with the {@link ImageShipper}; it must succeed, and it reports the
 * peak heap its memory pools saw. Streaming end to end (Engine API save stream, tar filter, SSH channel) keeps the heap
 * independent of the image size.
 *
 * <p>Run: {@code ./mvnw -B -q -pl byop-preview-ssh -am -DskipTests -Pbench-ssh-heap verify} (needs the test bed).
 * Options: {@code -Dbench.imageMb=1024 -Dbench.xmx=64m}. Ends with
 * {@code BENCH ship heap-<n>mb ratio=<peak heap / -Xmx> bytes=<peak heap>}.
 */
public final class ShipHeapBench {

  public static void main(String[] args) throws Exception {
    int imageMb = Integer.getInteger("bench.imageMb", 1024);
    String xmx = System.getProperty("bench.xmx", "64m");
    BenchSupport bed = BenchSupport.load();
    Path ctx = Files.createTempDirectory("byop-bench-heap");
    String image = "byop-it-ssh/heap-bench:" + imageMb;
    try {
      // the filler written in chunks (BenchSupport reuses a file of the right size): the parent needs no 1 GB array
      Path filler = ctx.resolve("filler.bin");
      long size = imageMb * 1024L * 1024L;
      try (OutputStream out = Files.newOutputStream(filler)) {
        Random r = new Random(4242);
        byte[] chunk = new byte[1 << 20];
        for (long n = 0; n < size; n += chunk.length) {
          r.nextBytes(chunk);
          out.write(chunk);
        }
      }
      bed.build(image, ctx, (int) Math.min(size, Integer.MAX_VALUE), 4242, "heap\n");
      Files.delete(filler);
      bed.removeOnVps(image);
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx" + xmx, "-XX:+UseSerialGC", "-cp", classPath(), Child.class.getName(), image));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      int rc = p.waitFor();
      String peakLine = out.lines().filter(l -> l.startsWith("PEAK ")).findFirst().orElse(null);
      if (rc != 0 || peakLine == null) {
        System.out.println(out.lines().filter(l -> !l.contains(" INFO ")).collect(Collectors.joining("\n")));
        throw new IllegalStateException("the -Xmx" + xmx + " ship of " + imageMb + " MB exited " + rc);
      }
      String[] f = peakLine.split(" ");
      long peak = Long.parseLong(f[1]);
      long max = Long.parseLong(f[2]);
      long bytes = Long.parseLong(f[3]);
      double seconds = Double.parseDouble(f[4]);
      System.out.printf(Locale.ROOT, "%nshipped %s (%d MB layer) to vps1 in a -Xmx%s JVM: %d bytes in %.1f s, peak heap %.1f MB"
          + " of %.1f MB%n", image, imageMb, xmx, bytes, seconds, peak / 1048576.0, max / 1048576.0);
      System.out.printf(Locale.ROOT, "BENCH ship heap-%dmb ratio=%.3f bytes=%d%n", imageMb, (double) peak / max, peak);
    } finally {
      bed.removeOnVps(image);
      bed.removeLocal(image);
      bed.deleteTree(ctx);
    }
  }

  /** The test class path as the bench runs (exec:java gives it through the context class loader). */
  private static String classPath() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl instanceof URLClassLoader u) {
      return Stream.of(u.getURLs()).map(url -> {
        try {
          return Path.of(url.toURI()).toString();
        } catch (java.net.URISyntaxException e) {
          throw new IllegalStateException(e);
        }
      }).collect(Collectors.joining(java.io.File.pathSeparator));
    }
    return System.getProperty("java.class.path");
  }

  /** The shipping JVM: ships the image and prints {@code PEAK <peak heap> <max heap> <bytes sent> <seconds>}. */
  public static final class Child {
    public static void main(String[] args) throws IOException {
      BenchSupport bed = BenchSupport.load();
      long t0 = System.nanoTime();
      ShipResult r;
      try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
        r = new ImageShipper(pool, bed.localImages()).ship(bed.vps1(), args[0]);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println("PEAK " + peak + " " + Runtime.getRuntime().maxMemory() + " " + r.bytesSent() + " "
          + String.format(Locale.ROOT, "%.3f", seconds));
    }
  }
}
