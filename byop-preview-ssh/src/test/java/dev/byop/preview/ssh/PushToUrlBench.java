package dev.byop.preview.ssh;

import dev.byop.core.App;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageDelivery;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.internal.ShellQuote;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The headline bench of issue 14, push-to-URL: a commit of a two-component app (web: a filler layer of
 * {@code bench.fillerMb} MB and a small {@code www} layer; api: small) until the preview URL on the bed's VPS host 1
 * answers the commit's content, byop against the seed's pipeline scripted with the CLIs, on the same bed, side by side.
 *
 * <ul>
 *   <li>byop: a {@link Byop} as a host application configures it (BuildKit of the local Docker 20.10 engine through
 *       {@code docker+unix://}, the ssh deployer, a static pool holding vps1, the host's Caddy as router);
 *       {@code createPreview} of the commit (first: nothing of the app on the host), then {@code redeploy} to a commit
 *       that changed one file of web (incremental). The clock stops when the URL, asked through the host's Caddy at
 *       vps1's address, answers the new content.
 *   <li>seed: what the seed did per image, scripted as argument lists: {@code docker build} of each component
 *       ({@code DOCKER_BUILDKIT=1 /usr/bin/docker}, same daemon), {@code docker save -o} a temporary file, {@code scp} it
 *       to vps1, {@code docker load -i} and {@code rm} of it there (one ssh call), {@code rm} of the local file; then
 *       {@code scp} of a compose file for the same two services (web published on vps1's address) and
 *       {@code docker-compose up -d} there; the same HTTP loop until the new content answers.
 * </ul>
 *
 * <p>Each round gives each side content of its own (filler and pages seeded by round and side), so neither finds
 * the other's layers in the shared build cache: first is a cold build and a cold host for both. Rounds alternate which
 * side goes first; the table shows medians. For byop's incremental path the bench also prints where the time goes:
 * the phases (from byop's listener events) and every remote operation (from the ssh connection's debug log: exec,
 * SFTP, direct-tcpip, with their durations).
 *
 * <p>Run: {@code ./mvnw -B -q -pl byop-preview-ssh -am -DskipTests -Pbench-push verify} (needs the test bed).
 * Options: {@code -Dbench.rounds=3 -Dbench.fillerMb=6 -Dbench.ignoreTerm=false}. Ends with one line per scenario:
 * {@code BENCH push-to-url <first|incremental> ratio=<byop s / seed s> bytes=<bytes byop sent>}.
 */
public final class PushToUrlBench {

  static final String RUN = TestbedEnv.RUN;
  static final String APP = "push" + RUN;
  static final int SEED_PORT = 40000 + (int) (Long.parseLong(RUN, 16) % 5000);
  static final Duration READY = Duration.ofMinutes(3);
  static final boolean IGNORE_TERM = Boolean.getBoolean("bench.ignoreTerm");

  /** One timed deploy: seconds until the URL answered, bytes sent to the host, and named phase durations (ms). */
  record Sample(long nanos, long bytes, Map<String, Long> phases) {}

  /** Something byop's listener heard, with when. */
  record Event(Instant at, String what) {}

  /** One remote operation of the ssh debug log: when it ended, how long it took, what it was. */
  record RemoteOp(Instant end, long ms, String kind, String what) {}

  static final List<Event> EVENTS = new CopyOnWriteArrayList<>();
  static final List<ImageDelivery> DELIVERIES = new CopyOnWriteArrayList<>();

  private static Path sshLog;

  public static void main(String[] args) throws Exception {
    // before any logger exists: byop's own lines go to a file, the ssh connection's debug lines (one per remote
    // operation, with its duration) included; the breakdown reads them back
    sshLog = Files.createTempFile("byop-bench-push", ".log");
    System.setProperty("org.slf4j.simpleLogger.logFile", sshLog.toString());
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    System.setProperty("org.slf4j.simpleLogger.log.dev.byop.preview.ssh.SshConnection", "debug");
    System.setProperty("org.slf4j.simpleLogger.log.dev.byop.docker.DockerClient", "debug");
    int rounds = Integer.getInteger("bench.rounds", 3);
    int fillerMb = Integer.getInteger("bench.fillerMb", 6);
    PushToUrlBench bench = new PushToUrlBench(TestbedEnv.load(), fillerMb);
    try {
      bench.run(rounds);
    } finally {
      bench.cleanUp();
    }
  }

  private final TestbedEnv bed;
  private final int fillerBytes;
  private final SshConnections pool = new SshConnections(SshOptions.defaults());
  private final Testbed1 vps;
  private final Path work;
  private final TestRepo repo;
  private final Path seedDir;
  private final Path data;
  private final List<String> seedImages = new ArrayList<>();
  private RemoteCaddy caddy;
  private Byop byop;
  private boolean seedUp;

  /** vps1 as the seed's CLIs reach it. */
  record Testbed1(dev.byop.testing.Testbed.SshHost host, String home) {}

  private PushToUrlBench(TestbedEnv bed, int fillerMb) throws IOException {
    this.bed = bed;
    this.fillerBytes = fillerMb * 1024 * 1024;
    this.vps = new Testbed1(bed.testbed.vps(1), bed.vpsHome(1));
    this.work = Files.createTempDirectory("byop-bench-push");
    this.repo = TestRepo.create("byop-bench-push-repo");
    this.seedDir = work.resolve("seed");
    this.data = work.resolve("byop-data");
  }

  private void run(int rounds) throws Exception {
    caddy = RemoteCaddy.start(bed, pool, 1);
    byop = byop();
    byop.store().saveApp(app());
    List<Sample> byopFirst = new ArrayList<>();
    List<Sample> byopIncr = new ArrayList<>();
    List<Sample> seedFirst = new ArrayList<>();
    List<Sample> seedIncr = new ArrayList<>();
    List<RemoteOp> lastOps = List.of();
    Instant lastT0 = null;
    for (int i = 0; i < rounds; i++) {
      for (int side = 0; side < 2; side++) {
        boolean byopNow = (i + side) % 2 == 0;
        if (byopNow) {
          Sample[] s = byopRound(i);
          byopFirst.add(s[0]);
          byopIncr.add(s[1]);
          lastOps = lastIncrementalOps;
          lastT0 = lastIncrementalT0;
        } else {
          Sample[] s = seedRound(i);
          seedFirst.add(s[0]);
          seedIncr.add(s[1]);
        }
        System.out.printf(Locale.ROOT, "round %d %s: first %.2f s, incremental %.2f s%n", i + 1, byopNow ? "byop" : "seed",
            (byopNow ? byopFirst : seedFirst).get(i).nanos() / 1e9, (byopNow ? byopIncr : seedIncr).get(i).nanos() / 1e9);
      }
    }
    System.out.printf(Locale.ROOT, "%npush-to-URL: two-component app (web: %d MB filler + www, api: small; %s) -> vps1 (%s), "
        + "%d rounds, medians%n", fillerBytes / (1024 * 1024), IGNORE_TERM ? "PID 1 ignores TERM" : "stops on TERM",
        bed.testbed.vpsEngine(1), rounds);
    System.out.printf(Locale.ROOT, "%-12s %10s %10s %8s %14s %14s%n", "scenario", "byop s", "seed s", "ratio", "byop bytes",
        "seed bytes");
    double[] ratios = new double[2];
    long[] bytes = new long[2];
    String[] names = {"first", "incremental"};
    List<List<Sample>> b = List.of(byopFirst, byopIncr);
    List<List<Sample>> s = List.of(seedFirst, seedIncr);
    for (int k = 0; k < 2; k++) {
      long bt = median(b.get(k), Sample::nanos);
      long st = median(s.get(k), Sample::nanos);
      ratios[k] = (double) bt / st;
      bytes[k] = median(b.get(k), Sample::bytes);
      System.out.printf(Locale.ROOT, "%-12s %10.3f %10.3f %8.3f %14d %14d%n", names[k], bt / 1e9, st / 1e9, ratios[k], bytes[k],
          median(s.get(k), Sample::bytes));
    }
    phases("byop incremental", byopIncr);
    phases("seed incremental", seedIncr);
    phases("byop first", byopFirst);
    phases("seed first", seedFirst);
    if (lastT0 != null) {
      System.out.printf(Locale.ROOT, "%nremote operations of byop's last incremental deploy (ms from redeploy, duration):%n");
      for (RemoteOp op : lastOps) {
        long endMs = Duration.between(lastT0, op.end()).toMillis();
        System.out.printf(Locale.ROOT, "  %6d %6d  %s %s%n", endMs - op.ms(), op.ms(), op.kind(), op.what());
      }
    }
    warnings();
    System.out.printf(Locale.ROOT, "%n");
    for (int k = 0; k < 2; k++) {
      System.out.printf(Locale.ROOT, "BENCH push-to-url %s ratio=%.3f bytes=%d%n", names[k], ratios[k], bytes[k]);
    }
  }

  // ---------------------------------------------------------------- byop

  private List<RemoteOp> lastIncrementalOps = List.of();
  private Instant lastIncrementalT0;

  private Byop byop() {
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "ssh");
    preview.put("domain", RemoteCaddy.DOMAIN);
    preview.put("instance", "bench-push-" + RUN);
    preview.put("baseDir", "byop-bench-push-" + RUN);
    preview.put("readyTimeout", "120s");
    preview.put("stopTimeout", "1s");
    preview.put("sweepInterval", "0s");
    preview.put("router", Map.of("adminPort", RemoteCaddy.ADMIN_PORT, "server", "byop", "httpPort", RemoteCaddy.HTTP_PORT));
    String engine = bed.localDockerHost();
    preview.put("docker", Map.of("host", engine));
    var h = vps.host();
    Map<String, Object> host = Map.of("id", "vps1", "address", h.address(), "port", h.port(), "user", h.user(),
        "privateKey", Map.of("file", h.privateKey().toString()), "knownHosts", h.knownHosts().toString(), "capacity", 3);
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.toString());
    root.put("git", Map.of("allowFile", true));
    root.put("builder", Map.of("provider", "buildkit", "endpoint", "docker+" + engine));
    root.put("preview", preview);
    root.put("cloud", Map.of("provider", "static", "hosts", List.of(host)));
    root.put("orchestrator", Map.of("workers", 2, "pollInterval", "50ms"));
    return Byop.builder().config(ByopConfig.of(root)).discover(PushToUrlBench.class.getClassLoader())
        .listener(new ByopListener() {
          @Override
          public void buildStatusChanged(BuildJob job, BuildStatus from) {
            EVENTS.add(new Event(Instant.now(), "build " + job.component() + " " + job.status()));
          }

          @Override
          public void previewStatusChanged(Preview p, PreviewStatus from) {
            EVENTS.add(new Event(Instant.now(), "preview " + p.status()));
          }

          @Override
          public void imageDelivered(ImageDelivery d) {
            EVENTS.add(new Event(Instant.now(), "delivered " + d.image()));
            DELIVERIES.add(d);
          }
        }).build();
  }

  private App app() {
    GitSource src = GitSource.of(repo.url());
    return new App(APP, APP, List.of(Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html"),
        Component.of("api", src, 8081).withContext("api", "Dockerfile")));
  }

  /** Writes round {@code i}'s app for one side into {@code dir}: fresh filler, pages naming the side and version. */
  private void writeApp(Path dir, int i, String side) throws IOException {
    byte[] filler = new byte[fillerBytes];
    new Random(TestbedEnv.seed(100 + 2L * i + (side.equals("byop") ? 0 : 1))).nextBytes(filler);
    write(dir.resolve("web/filler.bin"), filler);
    write(dir.resolve("web/Dockerfile"), ("FROM " + bed.baseImage() + "\nCOPY filler.bin /filler.bin\nCOPY www /www\n"
        + cmd(8080)).getBytes(StandardCharsets.UTF_8));
    write(dir.resolve("web/www/index.html"), page(i, side, 1).getBytes(StandardCharsets.UTF_8));
    write(dir.resolve("api/Dockerfile"), ("FROM " + bed.baseImage() + "\nCOPY www /www\n" + cmd(8081))
        .getBytes(StandardCharsets.UTF_8));
    write(dir.resolve("api/www/index.html"), ("api " + RUN + " round " + i + " " + side + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The components' command: by default a shell that ends on TERM (as a well-behaved app does), so that replacing a
   * container costs neither side Compose's stop timeout; with {@code bench.ignoreTerm} httpd itself is PID 1, which
   * the kernel shields from TERM, and every replaced container waits out the stop timeout (10 s for the seed's
   * {@code up -d}; byop's {@code preview.stopTimeout}, 1 s here).
   */
  private static String cmd(int port) {
    return IGNORE_TERM ? "CMD [\"httpd\", \"-f\", \"-p\", \"" + port + "\", \"-h\", \"/www\"]\n"
        : "CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p " + port + " -h /www & wait\"]\n";
  }

  private static String page(int i, String side, int version) {
    return "web " + RUN + " round " + i + " " + side + " v" + version + "\n";
  }

  private static void write(Path p, byte[] content) throws IOException {
    Files.createDirectories(p.getParent());
    Files.write(p, content);
  }

  private Sample[] byopRound(int i) throws Exception {
    writeApp(repo.dir, i, "byop");
    String c1 = repo.commit("round " + i + " v1");
    Instant w0 = Instant.now();
    long t0 = System.nanoTime();
    Preview p = byop.previews().createPreview(APP, c1);
    String hostHeader = p.hostname().split("\\.", 2)[0] + "." + RemoteCaddy.DOMAIN;
    long t1 = awaitContent(RemoteCaddy.HTTP_PORT, hostHeader, page(i, "byop", 1), p);
    Instant w1 = Instant.now();
    running(p);
    Sample first = byopSample(p, w0, t1 - t0, w1);

    write(repo.dir.resolve("web/www/index.html"), page(i, "byop", 2).getBytes(StandardCharsets.UTF_8));
    String c2 = repo.commit("round " + i + " v2");
    Instant w2 = Instant.now();
    long t2 = System.nanoTime();
    byop.previews().redeploy(p.id(), c2);
    long t3 = awaitContent(RemoteCaddy.HTTP_PORT, hostHeader, page(i, "byop", 2), p);
    Instant w3 = Instant.now();
    running(p);
    Sample incr = byopSample(p, w2, t3 - t2, w3);
    lastIncrementalT0 = w2;
    lastIncrementalOps = remoteOps(w2, w3);
    Preview stopped = byop.previews().deletePreview(p.id());
    if (stopped.status() != PreviewStatus.STOPPED) {
      throw new IllegalStateException("preview " + p.id() + " did not stop: " + stopped);
    }
    return new Sample[] {first, incr};
  }

  private void running(Preview p) {
    Preview r = byop.previews().await(p.id(), READY);
    if (r.status() != PreviewStatus.RUNNING) {
      throw new IllegalStateException("preview " + p.id() + " is " + r.status() + ": " + r.error() + "\n"
          + String.join("\n", byop.previews().logs(p.id(), 0, 10_000).stream().map(l -> l.text()).toList()));
    }
  }

  /** byop's bytes and phases between {@code from} (the call) and {@code answered} (the URL gave the new content). */
  private Sample byopSample(Preview p, Instant from, long nanos, Instant answered) throws IOException {
    long bytes = DELIVERIES.stream().filter(d -> d.previewId().equals(p.id())).mapToLong(ImageDelivery::bytesSent).sum();
    DELIVERIES.removeIf(d -> d.previewId().equals(p.id()));
    List<Event> ev = EVENTS.stream().filter(e -> !e.at().isBefore(from)).toList();
    EVENTS.clear();
    Instant fetch = first(ev, "build ", BuildStatus.FETCHING.name(), from);
    Instant built = last(ev, "build ", BuildStatus.SUCCESS.name(), fetch);
    Instant deploying = first(ev, "preview DEPLOYING", "", built);
    Instant shipped = last(ev, "delivered ", "", deploying);
    Instant runningAt = first(ev, "preview RUNNING", "", answered);
    Map<String, Long> ph = new LinkedHashMap<>();
    ph.put("1 claim (call -> first build FETCHING)", ms(from, fetch));
    ph.put("2 fetch+build both components", ms(fetch, built));
    ph.put("3 builds done -> DEPLOYING", ms(built, deploying));
    ph.put("4 ship images (DEPLOYING -> last delivered)", ms(deploying, shipped));
    ph.put("5 compose + route until URL answers new", ms(shipped, answered));
    ph.put("6 URL answers -> RUNNING (probe, old image rm)", ms(answered, runningAt));
    List<RemoteOp> ops = remoteOps(deploying, runningAt.isBefore(answered) ? answered : runningAt);
    ph.put("ssh: remote operations DEPLOYING..RUNNING (count)", (long) ops.size());
    ph.put("ssh: their summed duration", ops.stream().mapToLong(RemoteOp::ms).sum());
    ph.put("ssh: exec count", ops.stream().filter(o -> o.kind().equals("exec")).count());
    ph.put("ssh: sftp/direct-tcpip count", ops.stream().filter(o -> o.kind().equals("sftp") || o.kind().equals("direct-tcpip")).count());
    ph.put("engine requests (local and remote) count", ops.stream().filter(o -> o.kind().equals("engine request")).count());
    Map<String, long[]> byVerb = new TreeMap<>();
    for (RemoteOp o : ops) {
      long[] a = byVerb.computeIfAbsent(o.kind() + " " + o.what(), k -> new long[2]);
      a[0]++;
      a[1] += o.ms();
    }
    // count and time under keys of their own: a key naming the count would split the median across rounds
    byVerb.forEach((k, a) -> {
      ph.put("  ssh " + k + " (count)", a[0]);
      ph.put("  ssh " + k + " (ms)", a[1]);
    });
    return new Sample(nanos, bytes, ph);
  }

  private static Instant first(List<Event> ev, String prefix, String suffix, Instant orElse) {
    return ev.stream().filter(e -> e.what().startsWith(prefix) && e.what().endsWith(suffix)).map(Event::at).findFirst().orElse(orElse);
  }

  private static Instant last(List<Event> ev, String prefix, String suffix, Instant orElse) {
    return ev.stream().filter(e -> e.what().startsWith(prefix) && e.what().endsWith(suffix)).map(Event::at)
        .reduce((a, b) -> b).orElse(orElse);
  }

  private static long ms(Instant a, Instant b) {
    return Duration.between(a, b).toMillis();
  }

  private static final Pattern OP = Pattern.compile("^(\\S+) \\[[^\\]]*\\] DEBUG \\S*(?:SshConnection|DockerClient) - (exec|sftp|direct-tcpip|engine request) on (.+?): (.*?)(?: \\((\\d+) ms\\))?$");

  /** The remote operations the ssh debug log shows ending between {@code from} and {@code to}. */
  private static List<RemoteOp> remoteOps(Instant from, Instant to) throws IOException {
    List<RemoteOp> out = new ArrayList<>();
    for (String line : Files.readAllLines(sshLog, StandardCharsets.UTF_8)) {
      Matcher m = OP.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Instant end = OffsetDateTime.parse(m.group(1)).toInstant();
      if (end.isBefore(from) || end.isAfter(to)) {
        continue;
      }
      // container ids and names in engine paths would make every request a kind of its own
      String what = m.group(4).replaceAll("/(containers|networks|images)/[^/ ]+", "/$1/{x}");
      if (m.group(2).equals("engine request")) what = (m.group(3).startsWith("ssh") ? "remote " : "local ") + what;
      out.add(new RemoteOp(end, m.group(5) == null ? 0 : Long.parseLong(m.group(5)), m.group(2), what));
    }
    return out;
  }

  // ---------------------------------------------------------------- seed

  private String seedProject() {
    return "byop-bench-seed-" + RUN;
  }

  private String seedRemoteDir() {
    return vps.home() + "/byop-bench-seed-" + RUN;
  }

  private Sample[] seedRound(int i) throws Exception {
    writeApp(seedDir, i, "seed");
    Sample first = seedDeploy(i, 1, true);
    write(seedDir.resolve("web/www/index.html"), page(i, "seed", 2).getBytes(StandardCharsets.UTF_8));
    Sample incr = seedDeploy(i, 2, false);
    seedDown();
    return new Sample[] {first, incr};
  }

  /** The seed's pipeline for version {@code v} of round {@code i}, timed until the URL answers the new content. */
  private Sample seedDeploy(int i, int v, boolean first) throws Exception {
    Map<String, Long> ph = new LinkedHashMap<>();
    Map<String, String> images = new LinkedHashMap<>();
    for (String c : List.of("web", "api")) {
      images.put(c, "byop-bench-seed-" + RUN + "/" + c + ":r" + i + "v" + v);
    }
    seedImages.addAll(images.values());
    Path tmp = Files.createTempDirectory(work, "seed-tmp");
    long bytes = 0;
    long t0 = System.nanoTime();
    long t = t0;
    for (Map.Entry<String, String> e : images.entrySet()) {
      TestbedEnv.run(List.of(bed.dockerCli(), "build", "-q", "-t", e.getValue(), seedDir.resolve(e.getKey()).toString()),
          Map.of("DOCKER_HOST", bed.localDockerHost(), "DOCKER_BUILDKIT", "1"));
    }
    t = phase(ph, "1 docker build both components", t);
    for (Map.Entry<String, String> e : images.entrySet()) {
      Path archive = tmp.resolve(e.getKey() + ".tar");
      String remote = "/tmp/byop-bench-seed-" + RUN + "-" + e.getKey() + ".tar";
      TestbedEnv.run(List.of(bed.dockerCli(), "save", "-o", archive.toString(), e.getValue()), Map.of("DOCKER_HOST", bed.localDockerHost()));
      bytes += Files.size(archive);
      t = phase(ph, "2 docker save -o", t);
      TestbedEnv.run(scp(archive.toString(), remote), Map.of());
      t = phase(ph, "3 scp archive", t);
      // one ssh call: load the archive, then remove it (a constant script; the file is its argument)
      TestbedEnv.run(ssh("sh", "-c", "docker load -q -i \"$0\" && rm -f -- \"$0\"", remote), Map.of());
      t = phase(ph, "4 ssh docker load -i + rm", t);
      Files.delete(archive);
      t = phase(ph, "5 rm local archive", t);
    }
    Path compose = tmp.resolve("docker-compose.yml");
    Files.writeString(compose, "version: \"2.4\"\nservices:\n"
        + "  web:\n    image: " + images.get("web") + "\n    ports:\n      - \"" + vps.host().address() + ":" + SEED_PORT + ":8080\"\n"
        + "  api:\n    image: " + images.get("api") + "\n");
    if (first) {
      TestbedEnv.run(ssh("mkdir", "-p", seedRemoteDir()), Map.of());
    }
    TestbedEnv.run(scp(compose.toString(), seedRemoteDir() + "/docker-compose.yml"), Map.of());
    t = phase(ph, "6 scp compose file (+ mkdir on first)", t);
    seedUp = true;
    TestbedEnv.run(ssh("docker-compose", "--project-name", seedProject(), "--file", seedRemoteDir() + "/docker-compose.yml",
        "up", "-d"), Map.of());
    t = phase(ph, "7 ssh docker-compose up -d", t);
    long t1 = awaitContent(SEED_PORT, vps.host().address() + ":" + SEED_PORT, page(i, "seed", v), null);
    phase(ph, "8 HTTP loop until new content", t);
    TestbedEnv.deleteTree(tmp);
    return new Sample(t1 - t0, bytes, ph);
  }

  private static long phase(Map<String, Long> ph, String name, long since) {
    long now = System.nanoTime();
    ph.merge(name, (now - since) / 1_000_000, Long::sum);
    return now;
  }

  private List<String> ssh(String... words) {
    return vps.host().sshCommand(ShellQuote.command(words));
  }

  private List<String> scp(String local, String remotePath) {
    var h = vps.host();
    return List.of("scp", "-q", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=" + h.knownHosts(), "-o", "IdentitiesOnly=yes", "-i", h.privateKey().toString(),
        "-P", Integer.toString(h.port()), local, h.user() + "@" + h.address() + ":" + remotePath);
  }

  private void seedDown() {
    if (!seedUp) {
      return;
    }
    TestbedEnv.run(ssh("docker-compose", "--project-name", seedProject(), "--file", seedRemoteDir() + "/docker-compose.yml",
        "down", "--volumes", "--remove-orphans", "--timeout", "1"), Map.of());
    seedUp = false;
    List<String> rm = new ArrayList<>(List.of("docker", "image", "rm", "-f"));
    rm.addAll(seedImages);
    TestbedEnv.run(ssh(rm.toArray(String[]::new)), Map.of());
    bed.removeLocal(seedImages.toArray(String[]::new));
    seedImages.clear();
  }

  // ---------------------------------------------------------------- the URL

  /**
   * Asks {@code http://<vps1>:port/} with {@code Host: hostHeader} every 50 ms until the body is {@code expected};
   * returns {@link System#nanoTime()} then. {@code watched}, when set, is a byop preview whose failure ends the wait.
   */
  private long awaitContent(int port, String hostHeader, String expected, Preview watched) {
    long deadline = System.nanoTime() + READY.toNanos();
    String last = "no answer";
    while (true) {
      try {
        String body = get(vps.host().address(), port, hostHeader);
        if (expected.equals(body)) {
          return System.nanoTime();
        }
        last = body == null ? "not 200" : "body " + body.strip();
      } catch (IOException notYet) {
        last = notYet.toString();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("http://" + hostHeader + " never answered '" + expected.strip() + "' (last: " + last + ")");
      }
      if (watched != null) {
        Preview p = byop.previews().preview(watched.id());
        if (p.status() == PreviewStatus.FAILED) {
          throw new IllegalStateException("preview " + p.id() + " failed: " + p.error());
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** One HTTP/1.1 GET with {@code Connection: close}; the body of a 200 answer, else null. */
  static String get(String address, int port, String hostHeader) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, port), 2000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) >= 0 && all.size() < 1 << 20) {
        all.write(buf, 0, n);
      }
      String text = all.toString(StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.1 200") || split < 0) {
        return null;
      }
      String head = text.substring(0, split).toLowerCase(Locale.ROOT);
      String body = text.substring(split + 4);
      return head.contains("transfer-encoding: chunked") ? unchunk(body) : body;
    }
  }

  private static String unchunk(String body) {
    StringBuilder out = new StringBuilder();
    int pos = 0;
    while (pos < body.length()) {
      int eol = body.indexOf("\r\n", pos);
      if (eol < 0) {
        break;
      }
      int size = Integer.parseInt(body.substring(pos, eol).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.append(body, eol + 2, Math.min(body.length(), eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
    return out.toString();
  }

  // ---------------------------------------------------------------- report and clean-up

  private static <T> long median(List<T> l, java.util.function.ToLongFunction<T> f) {
    long[] v = l.stream().mapToLong(f).sorted().toArray();
    return v.length == 0 ? 0 : v[v.length / 2];
  }

  private static void phases(String title, List<Sample> samples) {
    if (samples.isEmpty()) {
      return;
    }
    System.out.printf(Locale.ROOT, "%n%s: where the time goes (ms, median of %d; rows need not add up: medians)%n", title, samples.size());
    java.util.Set<String> keys = new java.util.LinkedHashSet<>();
    samples.forEach(s -> keys.addAll(s.phases().keySet()));
    for (String k : keys) {
      long m = median(samples, s -> s.phases().getOrDefault(k, 0L));
      System.out.printf(Locale.ROOT, "  %-52s %8d%n", k, m);
    }
    System.out.printf(Locale.ROOT, "  %-52s %8d%n", "total until the URL answers new", median(samples, Sample::nanos) / 1_000_000);
  }

  private static void warnings() throws IOException {
    List<String> w = Files.readAllLines(sshLog, StandardCharsets.UTF_8).stream()
        .filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
    if (!w.isEmpty()) {
      System.out.printf(Locale.ROOT, "%nbyop logged %d warning(s)/error(s); the first ones:%n", w.size());
      w.stream().limit(10).forEach(l -> System.out.println("  " + l));
    }
  }

  private void cleanUp() {
    List<Runnable> steps = new ArrayList<>();
    steps.add(this::seedDown);
    steps.add(() -> {
      if (byop != null) {
        // whatever a failed round left of byop's previews on vps1
        for (Preview p : byop.store().listActivePreviews()) {
          byop.previews().deletePreview(p.id());
        }
        ((dev.byop.core.internal.DefaultPreviewManager) byop.previews()).sweep();
        byop.close();
      }
    });
    steps.add(() -> TestbedEnv.run(ssh("rm", "-rf", "--", seedRemoteDir(), vps.home() + "/byop-bench-push-" + RUN), Map.of()));
    steps.add(() -> {
      String refs = bed.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=*/" + APP + "/*");
      bed.removeLocal(refs.lines().map(String::strip).filter(r -> !r.isEmpty()).toArray(String[]::new));
      String remote = bed.vpsDocker(1, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=*/" + APP + "/*");
      if (!remote.isBlank()) {
        System.out.println("left on vps1 (removed now): " + remote.strip());
        List<String> rm = new ArrayList<>(List.of("docker", "image", "rm", "-f"));
        remote.lines().map(String::strip).filter(r -> !r.isEmpty()).forEach(rm::add);
        TestbedEnv.run(ssh(rm.toArray(String[]::new)), Map.of());
      }
    });
    steps.add(() -> {
      if (caddy != null) {
        caddy.close();
      }
    });
    steps.add(pool::close);
    steps.add(repo::close);
    steps.add(() -> TestbedEnv.deleteTree(work));
    steps.add(() -> {
      try {
        Files.deleteIfExists(sshLog);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
    for (Runnable r : steps) {
      try {
        r.run();
      } catch (RuntimeException e) {
        System.err.println("clean-up step failed: " + e);
      }
    }
  }
}
