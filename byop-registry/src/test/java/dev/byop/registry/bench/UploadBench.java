package dev.byop.registry.bench;

import dev.byop.registry.DistributionClient;
import dev.byop.registry.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Blob upload to a registry (distribution 2.8, the bed's binary, a private instance in a temporary directory that
 * is removed afterwards, so the runs leave no gigabytes in the shared registry): one monolithic PUT (the baseline) against chunked PATCH uploads with several
 * chunk sizes, 100 MB of random bytes, median of 5 runs each, side by side in one run.
 *
 * <p>{@code ./mvnw -q -pl byop-registry -am test -Pbench-registry -DskipTests}
 */
public final class UploadBench {
  private static final long SIZE = 100L << 20;
  private static final int RUNS = 5;

  public static void main(String[] args) throws Exception {
    String tag = Long.toString(System.currentTimeMillis(), 36);
    Path dir = Files.createTempDirectory("byop-upload-bench");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String address = "127.0.0.1:" + port;
    Files.writeString(dir.resolve("registry.yml"), String.join("\n", "version: 0.1", "log:", "  level: error",
        "storage:", "  filesystem:", "    rootdirectory: " + dir.resolve("data"), "http:", "  addr: " + address, ""));
    Process registry = new ProcessBuilder(List.of("docker-registry", "serve", dir.resolve("registry.yml").toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
    try {
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (true) {
        try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
          break;
        } catch (IOException notYet) {
          if (!registry.isAlive() || System.nanoTime() > deadline) throw new IllegalStateException("registry down");
          Thread.sleep(50);
        }
      }
      runAll(address, tag, dir);
    } finally {
      registry.destroy();
      if (!registry.waitFor(10, TimeUnit.SECONDS)) registry.destroyForcibly();
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  private static void runAll(String address, String tag, Path dir) throws Exception {
    // warm-up: one upload each way, not measured (JIT, connection setup)
    DistributionClient warm = DistributionClient.builder(address).build();
    Path w = dir.resolve("warm");
    write(w, tag.hashCode() - 1L);
    warm.uploadBlob("registry/bench-" + tag + "-warm", MediaTypes.OCI_LAYER, w);
    write(w, tag.hashCode() - 2L);
    try (InputStream in = Files.newInputStream(w)) {
      warm.uploadBlobChunked("registry/bench-" + tag + "-warm", MediaTypes.OCI_LAYER, in);
    }
    Files.delete(w);
    System.out.printf("%-22s %10s %10s %8s%n", "variant", "median ms", "MB/s", "ratio");
    double base = 0;
    List<String> summary = new ArrayList<>();
    for (int chunkMb : new int[] {0, 4, 16, 64}) {
      DistributionClient c = DistributionClient.builder(address)
          .chunkSize(Math.max(chunkMb, 1) << 20).build();
      List<Long> times = new ArrayList<>();
      for (int run = 0; run < RUNS; run++) {
        // fresh bytes each time so no run profits from a blob the registry already holds
        Path file = dir.resolve("blob-" + chunkMb + "-" + run);
        write(file, (long) chunkMb * 1000 + run + tag.hashCode());
        String repo = "registry/bench-" + tag + "-" + chunkMb;
        long t0 = System.nanoTime();
        if (chunkMb == 0) {
          c.uploadBlob(repo, MediaTypes.OCI_LAYER, file);
        } else {
          try (InputStream in = Files.newInputStream(file)) {
            c.uploadBlobChunked(repo, MediaTypes.OCI_LAYER, in);
          }
        }
        times.add((System.nanoTime() - t0) / 1_000_000);
        Files.delete(file);
      }
      Collections.sort(times);
      long median = times.get(RUNS / 2);
      if (chunkMb == 0) base = median;
      System.out.printf("%-22s %10d %10.1f %8.2f%n", chunkMb == 0 ? "monolithic (baseline)" : "chunked " + chunkMb
          + " MB", median, (SIZE / 1048576.0) / (median / 1000.0), median / base);
      summary.add(String.format(java.util.Locale.ROOT, "BENCH upload %s ratio=%.3f bytes=%d",
          chunkMb == 0 ? "monolithic" : "chunked-" + chunkMb + "mb", median / base, SIZE));
    }
    summary.forEach(System.out::println);
  }

  private static void write(Path file, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] buf = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long done = 0; done < SIZE; done += buf.length) {
        for (int i = 0; i < buf.length; i += 8) {
          long v = r.nextLong();
          for (int k = 0; k < 8; k++) buf[i + k] = (byte) (v >>> (8 * k));
        }
        out.write(buf);
      }
    }
  }
}
