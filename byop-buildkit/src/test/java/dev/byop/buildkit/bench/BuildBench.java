package dev.byop.buildkit.bench;

import dev.byop.buildkit.BuildKitClient;
import dev.byop.buildkit.BuildKitEndpoint;
import dev.byop.buildkit.DockerfileBuild;
import dev.byop.buildkit.SolveResult;
import dev.byop.core.spi.Cancellation;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * byop's BuildKit client against {@code DOCKER_BUILDKIT=1 /usr/bin/docker build} on the same daemon, side by side:
 * cold (fresh context dir, no cache), warm (same dir, nothing changed) and one changed file in a ~100 MB context,
 * with the context bytes the session sent ("byop file data": file content our DiffCopy sent; "daemon B": what the
 * daemon reports as "transferring context" for each tool, metadata included). Run with:
 * {@code ./mvnw -B -q -pl byop-buildkit -am verify -DskipTests -Pbench-buildkit} (optional {@code -Dbench.runs=5}).
 */
public final class BuildBench {
  private static final Pattern TRANSFER = Pattern.compile("transferring context: ([0-9.]+)([kMG]?B)(?: ([0-9.]+)s)?");

  private BuildBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> env = testbedEnv();
    int runs = Integer.getInteger("bench.runs", 3);
    String dockerHost = env.get("DOCKER_HOST");
    String cli = env.getOrDefault("DOCKER_CLI", "/usr/bin/docker");
    String base = env.get("BASE_IMAGE");
    Path work = Files.createTempDirectory("byop-bench");
    Path template = work.resolve("template");
    makeContext(template, base);
    Map<String, List<Double>> secs = new LinkedHashMap<>();
    Map<String, List<Long>> bytes = new LinkedHashMap<>();
    DockerClient docker = DockerClient.connect(DockerEndpoint.parse(dockerHost));
    try (BuildKitClient bk = BuildKitClient.connect(BuildKitEndpoint.docker(DockerEndpoint.parse(dockerHost)))) {
      bk.capabilities(); // connect once, like a long-running service would
      for (int i = 0; i < runs; i++) {
        for (String tool : List.of("byop", "docker")) {
          Path ctx = work.resolve(tool + "-" + i);
          copyTree(template, ctx);
          String image = "byop-it-buildkit/bench-" + tool + ":" + i;
          String key = "bench:" + UUID.randomUUID();
          record("cold", tool, build(tool, bk, cli, dockerHost, ctx, image, key, true), secs, bytes);
          record("warm", tool, build(tool, bk, cli, dockerHost, ctx, image, key, false), secs, bytes);
          Files.writeString(ctx.resolve("src/file-0007.txt"), "changed " + UUID.randomUUID() + "\n");
          record("one-file-changed", tool, build(tool, bk, cli, dockerHost, ctx, image, key, false), secs, bytes);
          docker.removeImage(image, true);
          deleteTree(ctx);
        }
      }
    } finally {
      deleteTree(work);
    }
    System.out.printf(Locale.ROOT, "%nBuildBench: %d runs, medians, context ~100 MB (1 x 95 MiB + 300 small files)%n",
        runs);
    System.out.printf(Locale.ROOT, "%-18s %9s %9s %7s %11s %11s %15s %15s %15s%n", "scenario", "byop s", "docker s",
        "ratio", "byop upl s", "docker upl s", "byop file data", "byop daemon B", "docker daemon B");
    for (String sc : List.of("cold", "warm", "one-file-changed")) {
      double b = median(secs.get(sc + "/byop"));
      double d = median(secs.get(sc + "/docker"));
      System.out.printf(Locale.ROOT, "%-18s %9.3f %9.3f %7.2f %11.1f %11.1f %15d %15d %15d%n", sc, b, d, b / d,
          median(secs.get(sc + "/byop/upload")), median(secs.get(sc + "/docker/upload")),
          medianL(bytes.get(sc + "/byop")), medianL(bytes.get(sc + "/byop/daemon")),
          medianL(bytes.get(sc + "/docker/daemon")));
    }
    // one comparable summary line per scenario (issue 14): ratio = byop's median wall time / the CLI's
    for (String sc : List.of("cold", "warm", "one-file-changed")) {
      System.out.printf(Locale.ROOT, "BENCH buildkit %s ratio=%.2f bytes=%d%n", sc,
          median(secs.get(sc + "/byop")) / median(secs.get(sc + "/docker")), medianL(bytes.get(sc + "/byop/daemon")));
    }
  }

  private record Run(double seconds, long bytes, double uploadSeconds, long daemonBytes) {}

  private static void record(String sc, String tool, Run r, Map<String, List<Double>> secs,
      Map<String, List<Long>> bytes) {
    secs.computeIfAbsent(sc + "/" + tool, k -> new ArrayList<>()).add(r.seconds());
    bytes.computeIfAbsent(sc + "/" + tool, k -> new ArrayList<>()).add(r.bytes());
    bytes.computeIfAbsent(sc + "/" + tool + "/daemon", k -> new ArrayList<>()).add(r.daemonBytes());
    secs.computeIfAbsent(sc + "/" + tool + "/upload", k -> new ArrayList<>()).add(r.uploadSeconds());
    System.out.printf(Locale.ROOT, "%-18s %-7s %8.3f s  file data sent %10d  (daemon: context %d bytes in %.1f s)%n",
        sc, tool, r.seconds(), r.bytes(), r.daemonBytes(), r.uploadSeconds());
  }

  private static Run build(String tool, BuildKitClient bk, String cli, String dockerHost, Path ctx, String image,
      String key, boolean noCache) throws Exception {
    long t0 = System.nanoTime();
    List<String> log = new CopyOnWriteArrayList<>();
    if (tool.equals("byop")) {
      SolveResult r = bk.build(DockerfileBuild.local(ctx, image).withSharedKey(key).withNoCache(noCache), log::add,
          Cancellation.none());
      double s = (System.nanoTime() - t0) / 1e9;
      return new Run(s, r.contextBytesSent(), uploadSeconds(log), transferred(log));
    }
    List<String> cmd = new ArrayList<>(List.of(cli, "build", "--progress=plain", "-t", image));
    if (noCache) {
      cmd.add("--no-cache");
    }
    cmd.add(ctx.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DOCKER_BUILDKIT", "1");
    pb.environment().put("DOCKER_HOST", dockerHost);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("docker build failed: " + out);
    }
    double s = (System.nanoTime() - t0) / 1e9;
    Collections.addAll(log, out.split("\n"));
    return new Run(s, -1, uploadSeconds(log), transferred(log));
  }

  /** The daemon's reported duration of the context transfer (its "transferring context: N Xs done" line). */
  static double uploadSeconds(List<String> log) {
    double last = 0;
    for (String l : log) {
      Matcher m = TRANSFER.matcher(l);
      if (m.find() && m.group(3) != null) {
        last = Double.parseDouble(m.group(3));
      }
    }
    return last;
  }

  /** The daemon's own "transferring context: N" for the context dir (the last such line is the context). */
  static long transferred(List<String> log) {
    long last = 0;
    for (String l : log) {
      if (l.contains("load build context") || !l.contains("transferring context")) {
        continue;
      }
      Matcher m = TRANSFER.matcher(l);
      if (m.find()) {
        double v = Double.parseDouble(m.group(1));
        last = (long) (v * switch (m.group(2)) {
          case "kB" -> 1e3;
          case "MB" -> 1e6;
          case "GB" -> 1e9;
          default -> 1;
        });
      }
    }
    return last;
  }

  private static void makeContext(Path dir, String base) throws IOException {
    Files.createDirectories(dir.resolve("src"));
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nCOPY . /app\nRUN ls /app/src | wc -l\n");
    for (int i = 0; i < 300; i++) {
      Files.writeString(dir.resolve(String.format(Locale.ROOT, "src/file-%04d.txt", i)),
          ("line of file " + i + "\n").repeat(50));
    }
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(dir.resolve("big.bin"))) {
      for (int i = 0; i < 95; i++) {
        for (int j = 0; j < block.length; j += 512) {
          block[j] = (byte) (i * 31 + j);
        }
        out.write(block);
      }
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static long medianL(List<Long> v) {
    List<Long> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }

  private static Map<String, String> testbedEnv() throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    Path f = Path.of(System.getenv().getOrDefault("BYOP_TESTBED_DIR", "/tmp/byop-testbed"), "env");
    for (String line : Files.readAllLines(f)) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith("#")) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return m;
  }
}
