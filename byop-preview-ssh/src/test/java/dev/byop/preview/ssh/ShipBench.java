package dev.byop.preview.ssh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Image shipping: byop (layer-aware streaming over one SSH connection) against the seed's way
 * ({@code docker save -o file}, {@code scp}, {@code docker load -i}, {@code rm}), same image, same host (the bed's vps1).
 *
 * <p>first/cold: the first ship of the process (its first SSH connection) with no layer-name cache (the local engine's
 * 20.10 archive names its layer files while streaming, so the base layer the host has is left out in the one pass);
 * first/warm: a later process with the cache file of an earlier one; incremental: the next version (one small
 * changed layer) right after the first. Run with the ssh debug log for each ship's timeline (ImageShipper) and execs
 * (SshConnection).
 *
 * <p>Run: {@code ./mvnw -B -q -pl byop-preview-ssh -am -DskipTests -Pbench-ssh verify} (needs the test bed).
 * Options: {@code -Dbench.rounds=5 -Dbench.fillerMb=64}.
 */
public final class ShipBench {

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    int fillerMb = Integer.getInteger("bench.fillerMb", 64);
    BenchSupport bed = BenchSupport.load();
    Path ctx = Files.createTempDirectory("byop-bench-ssh");
    String v1 = "byop-it-ssh/bench:v1";
    String v2 = "byop-it-ssh/bench:v2";
    bed.build(v1, ctx, fillerMb * 1024 * 1024, 99, "version 1\n");
    bed.build(v2, ctx, fillerMb * 1024 * 1024, 99, "version 2\n");
    List<long[]> seedFirst = new ArrayList<>();
    List<long[]> seedIncr = new ArrayList<>();
    List<long[]> byopFirst = new ArrayList<>();
    List<long[]> byopWarm = new ArrayList<>();
    Path cache = Files.createTempDirectory("byop-bench-cache").resolve("layer-names");
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      // a process that has seen these layers before (e.g. another app on the same base): its cache file is warm
      new ImageShipper(pool, bed.localImages(), List.of("docker"), ImageShipper.Retry.attempts(3), cache, new dev.byop.core.internal.Redactor()).learn(v1);
    }
    List<long[]> byopIncr = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      bed.removeOnVps(v1, v2);
      seedFirst.add(bed.seedWay(v1));
      seedIncr.add(bed.seedWay(v2));
      bed.removeOnVps(v1, v2);
      try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
        ImageShipper shipper = new ImageShipper(pool, bed.localImages());
        long t0 = System.nanoTime();
        ShipResult a = shipper.ship(bed.vps1(), v1);
        long t1 = System.nanoTime();
        ShipResult b = shipper.ship(bed.vps1(), v2);
        long t2 = System.nanoTime();
        byopFirst.add(new long[] {a.bytesSent(), t1 - t0});
        byopIncr.add(new long[] {b.bytesSent(), t2 - t1});
      }
      bed.removeOnVps(v1, v2);
      try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
        ImageShipper warm = new ImageShipper(pool, bed.localImages(), List.of("docker"), ImageShipper.Retry.attempts(3), cache, new dev.byop.core.internal.Redactor());
        long t0 = System.nanoTime();
        ShipResult a = warm.ship(bed.vps1(), v1);
        byopWarm.add(new long[] {a.bytesSent(), System.nanoTime() - t0});
      }
    }
    bed.removeOnVps(v1, v2);
    bed.removeLocal(v1, v2);
    bed.deleteTree(ctx);
    bed.deleteTree(cache.getParent());
    System.out.printf(Locale.ROOT, "%nimage: %s (base %d MB filler layer + busybox + one small layer), host vps1, %d rounds, medians%n", v1, fillerMb, rounds);
    System.out.printf(Locale.ROOT, "%-14s %16s %12s %16s %12s %10s %10s%n", "deploy", "seed bytes", "seed s", "byop bytes", "byop s", "bytes x", "time x");
    row("first/cold", seedFirst, byopFirst);
    row("first/warm", seedFirst, byopWarm);
    row("incremental", seedIncr, byopIncr);
    SUMMARY.forEach(System.out::println);
  }

  /** One BENCH line per scenario (time ratio byop / seed, bytes byop sent), printed last. */
  private static final List<String> SUMMARY = new ArrayList<>();

  private static void row(String name, List<long[]> seed, List<long[]> byop) {
    long sb = median(seed, 0);
    long st = median(seed, 1);
    long bb = median(byop, 0);
    long bt = median(byop, 1);
    System.out.printf(Locale.ROOT, "%-14s %16d %12.3f %16d %12.3f %10.4f %10.3f%n", name, sb, st / 1e9, bb, bt / 1e9, (double) bb / sb, (double) bt / st);
    SUMMARY.add(String.format(Locale.ROOT, "BENCH ship %s ratio=%.3f bytes=%d", name.replace('/', '-'), (double) bt / st, bb));
  }

  private static long median(List<long[]> l, int col) {
    long[] v = l.stream().mapToLong(a -> a[col]).sorted().toArray();
    return v[v.length / 2];
  }

  private ShipBench() {}

}
