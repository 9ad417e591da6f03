package dev.byop.buildkit;

import dev.byop.testing.Testbed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import dev.byop.core.CancelledException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.ImageBuilder.BuilderCapabilities;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/** The client against each Docker Engine of the bed's matrix (embedded BuildKit v0.8 in 20.10, v0.13 in 26.1). */
class BuildKitClientIT {
  record Clients(BuildKitClient bk, DockerClient docker, List<String> images) {}

  static final Map<String, Clients> clients = new java.util.concurrent.ConcurrentHashMap<>();
  static String base;

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @BeforeAll
  static void connect() {
    base = Testbed.get().baseImage();
  }

  static Clients clients(Testbed.Engine engine) {
    return clients.computeIfAbsent(engine.name(), n -> {
      DockerEndpoint ep = DockerEndpoint.parse(engine.dockerHost());
      return new Clients(BuildKitClient.connect(BuildKitEndpoint.docker(ep)), DockerClient.connect(ep),
          Collections.synchronizedList(new ArrayList<>()));
    });
  }

  static BuildKitClient bk(Testbed.Engine engine) {
    return clients(engine).bk();
  }

  static DockerClient docker(Testbed.Engine engine) {
    return clients(engine).docker();
  }

  @AfterAll
  static void cleanUp() {
    for (Clients c : clients.values()) {
      for (String i : c.images()) {
        c.docker().removeImage(i, true);
      }
      c.bk().close();
      c.bk().close();
    }
  }

  static String image(Testbed.Engine engine, String name) {
    String i = "byop-it-buildkit/" + name + ":1";
    clients(engine).images().add(i);
    return i;
  }

  static void waitFor(String what, Duration max, BooleanSupplier cond) throws InterruptedException {
    Instant end = Instant.now().plus(max);
    while (!cond.getAsBoolean()) {
      if (Instant.now().isAfter(end)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void capabilitiesOfTheEmbeddedBuilder(Testbed.Engine engine) {
    BuilderCapabilities c = bk(engine).capabilities();
    // asked of the daemon once per client: the orchestrator asks on every build
    org.junit.jupiter.api.Assertions.assertSame(c, bk(engine).capabilities());
    assertFalse(c.canPush(), "the engine pushes through its API after the build, not the moby exporter");
    assertTrue(c.platforms().stream().anyMatch(p -> p.startsWith("linux/")), c.toString());
    assertFalse(c.details().get("workers").isEmpty(), c.toString());
    assertTrue(c.details().containsKey("dockerVersion"), c.toString());
    if (c.details().get("dockerVersion").startsWith("20.10.")) {
      assertEquals("v0.8.3", c.version(), c.toString());
      assertTrue(c.details().get("info").contains("unimplemented"), c.toString());
    } else {
      // Debian's 26.1 answers Info with an unstamped version ("v0.0.0+unknown-moby", or empty with the containerd
      // store): never reported as BuildKit v0.0.0, the engine release says which BuildKit it embeds
      assertTrue(c.details().get("dockerVersion").startsWith("26.1."), c.toString());
      assertEquals("v0.13.2", c.version(), c.toString());
      assertFalse(c.details().containsKey("info"), "Info answers on 26.1: " + c);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void simpleBuildFromLocalDir(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nCOPY hello.txt /hello.txt\nRUN echo built-$((1+2))\n");
    Files.writeString(dir.resolve("hello.txt"), "hello from byop\n");
    List<String> log = new CopyOnWriteArrayList<>();
    String img = image(engine, "simple");
    SolveResult r = bk(engine).build(DockerfileBuild.local(dir, img).withNoCache(true), log::add, Cancellation.none());
    assertTrue(r.imageDigest().orElseThrow().startsWith("sha256:"), r.toString());
    assertEquals(r.imageDigest().get(), docker(engine).inspectImage(img).orElseThrow().id());
    assertEquals("hello from byop\n", Cli.docker(engine, "run", "--rm", img, "cat", "/hello.txt"));
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ built-3")), String.join("\n", log));
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ DONE \\d+\\.\\ds")), String.join("\n", log));
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ \\[2/3\\] COPY hello.txt /hello.txt")), String.join("\n", log));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void baseImageFromAnAuthenticatedRegistryUsesSessionCredentials(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    String registry = engine.registry();
    String user = Testbed.get().registry().user();
    String password = Testbed.get().registry().password();
    String remoteBase = registry + "/buildkit/base-for-auth";
    docker(engine).tagImage(base, remoteBase, "1");
    docker(engine).pushImage(remoteBase, "1", dev.byop.docker.RegistryAuth.basic(user, password, registry), p -> { });
    docker(engine).removeImage(remoteBase + ":1", false);
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + remoteBase + ":1\nRUN echo pulled-with-auth\n");
    String img = image(engine, "auth");
    List<String> asked = new CopyOnWriteArrayList<>();
    try (BuildKitClient anonymous = BuildKitClient.connect(
        BuildKitEndpoint.docker(DockerEndpoint.parse(engine.dockerHost())),
        host -> { asked.add(host); return java.util.Optional.empty(); })) {
      BuildException e = assertThrows(BuildException.class, () -> anonymous.build(
          DockerfileBuild.local(dir, img), l -> { }, Cancellation.none()));
      assertTrue(e.getMessage().toLowerCase().contains("unauthorized") || e.getMessage().contains("401"),
          e.getMessage());
    }
    assertTrue(asked.contains(registry), asked.toString());
    try (BuildKitClient authed = BuildKitClient.connect(
        BuildKitEndpoint.docker(DockerEndpoint.parse(engine.dockerHost())),
        host -> host.equals(registry) ? java.util.Optional.of(
            dev.byop.core.Credentials.basic(user, password)) : java.util.Optional.empty())) {
      List<String> log = new CopyOnWriteArrayList<>();
      authed.build(DockerfileBuild.local(dir, img), log::add, Cancellation.none());
      assertTrue(log.stream().anyMatch(l -> l.endsWith("pulled-with-auth")), String.join("\n", log));
      assertFalse(String.join("\n", log).contains(password));
    } finally {
      docker(engine).removeImage(remoteBase + ":1", true);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void gitUrlContextIsFetchedByTheDaemon(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    Path repo = Files.createDirectories(dir.resolve("served/app.git"));
    Files.writeString(repo.resolve("from-git.txt"), "fetched by the daemon\n");
    Cli.ok(repo, "git", "init", "-q", "-b", "main");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
    int port;
    // the daemon fetches: it listens where the engine reaches this machine (a 26.1 engine has its own loopback)
    String listen = engine.hostAddress();
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(listen))) {
      port = s.getLocalPort();
    }
    Process daemon = new ProcessBuilder(List.of("git", "daemon", "--reuseaddr", "--export-all",
        "--base-path=" + dir.resolve("served"), "--listen=" + listen, "--port=" + port))
        .redirectErrorStream(true).redirectOutput(dir.resolve("git-daemon.log").toFile()).start();
    try {
      waitFor("git daemon", Duration.ofSeconds(10), () -> {
        try (java.net.Socket s = new java.net.Socket(listen, port)) {
          return true;
        } catch (java.io.IOException e) {
          return false;
        }
      });
      Path dfDir = Files.createDirectories(dir.resolve("df"));
      Files.writeString(dfDir.resolve("Dockerfile"), "FROM " + base + "\nCOPY from-git.txt /from-git.txt\n");
      String img = image(engine, "git-context");
      DockerfileBuild b = new DockerfileBuild(null, "git://" + listen + ":" + port + "/app.git#main",
          dfDir.resolve("Dockerfile"), null, Map.of(), Map.of(), List.of(), false, List.of(), List.of(), List.of(img),
          false, Map.of(), "byop-it:git");
      SolveResult r = bk(engine).build(b, l -> { }, Cancellation.none());
      assertEquals(Files.size(dfDir.resolve("Dockerfile")), r.contextBytesSent(), "only the Dockerfile is uploaded");
      assertEquals("fetched by the daemon\n", Cli.docker(engine, "run", "--rm", img, "cat", "/from-git.txt"));
    } finally {
      daemon.destroy();
      daemon.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void sessionInsideControlSessionWorksToo(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    // the transport a standalone buildkitd gets, exercised through Docker's /grpc
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nCOPY f.txt /f.txt\n");
    Files.writeString(dir.resolve("f.txt"), "via Control/Session\n");
    String img = image(engine, "control-session");
    try (BuildKitClient c = BuildKitClient.connectWithControlSession(
        BuildKitEndpoint.docker(DockerEndpoint.parse(engine.dockerHost())))) {
      SolveResult r = c.build(DockerfileBuild.local(dir, img).withSharedKey("byop-it:" + UUID.randomUUID()),
          l -> { }, Cancellation.none());
      assertEquals(20 + Files.size(dir.resolve("Dockerfile")), r.contextBytesSent(), "context and Dockerfile dirs");
    }
    assertEquals("via Control/Session\n", Cli.docker(engine, "run", "--rm", img, "cat", "/f.txt"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void contextUploadKeepsModesLinksEmptyDirsBigFilesAndNamesAndHonoursDockerignore(Testbed.Engine engine, @TempDir Path dir)
      throws Exception {
    Path ctx = dir.resolve("ctx");
    Files.createDirectories(ctx.resolve("sub/deeper"));
    Files.createDirectories(ctx.resolve("empty-dir"));
    Files.writeString(ctx.resolve("run.sh"), "#!/bin/sh\necho run\n");
    Files.setPosixFilePermissions(ctx.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x--x"));
    Files.writeString(ctx.resolve("sub/deeper/data.txt"), "deep\n");
    Files.createSymbolicLink(ctx.resolve("link-to-data"), Path.of("sub/deeper/data.txt"));
    Files.createSymbolicLink(ctx.resolve("dangling"), Path.of("does/not/exist"));
    Files.writeString(ctx.resolve("ünïcödé 日本.txt"), "non-ascii\n");
    Files.writeString(ctx.resolve("ignored.txt"), "must not be sent\n");
    Files.writeString(ctx.resolve("a.log"), "excluded\n");
    Files.writeString(ctx.resolve("keep.log"), "re-included\n");
    Files.createDirectories(ctx.resolve("node_modules/pkg"));
    Files.writeString(ctx.resolve("node_modules/pkg/index.js"), "excluded dir\n");
    Files.writeString(ctx.resolve(".dockerignore"), "ignored.txt\n*.log\n!keep.log\nnode_modules\n");
    Path big = ctx.resolve("big.bin");
    MessageDigest md5 = MessageDigest.getInstance("MD5");
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(big)) {
      for (int i = 0; i < 100; i++) {
        for (int j = 0; j < block.length; j += 4096) {
          block[j] = (byte) i; // cheap but position-dependent content
        }
        out.write(block);
        md5.update(block);
      }
    }
    String bigMd5 = HexFormat.of().formatHex(md5.digest());
    Files.writeString(ctx.resolve("Dockerfile"), "FROM " + base + "\nCOPY . /ctx/\n");
    String img = image(engine, "context");
    List<String> log = new CopyOnWriteArrayList<>();
    SolveResult r = bk(engine).build(DockerfileBuild.local(ctx, img).withSharedKey("byop-it:" + UUID.randomUUID()),
        log::add, Cancellation.none());
    assertTrue(r.contextBytesSent() >= 100L * (1 << 20), "sent " + r.contextBytesSent());

    String listing = Cli.docker(engine, "run", "--rm", img, "sh", "-c",
        "cd /ctx && for f in run.sh sub/deeper/data.txt link-to-data dangling empty-dir keep.log; do "
            + "stat -c '%n|%A|%s|%F' \"$f\"; done; readlink link-to-data; readlink dangling; "
            + "cat 'ünïcödé 日本.txt'; md5sum big.bin; find . -maxdepth 1 | sort; ls -A empty-dir | wc -l");
    assertTrue(listing.contains("run.sh|-rwxr-x--x|"), listing);
    assertTrue(listing.contains("sub/deeper/data.txt|-rw-r--r--|5|regular file"), listing);
    assertTrue(listing.contains("link-to-data|lrwxrwxrwx|"), listing);
    assertTrue(listing.contains("\nsub/deeper/data.txt\ndoes/not/exist\n"), listing);
    assertTrue(listing.contains("empty-dir|drwxr-xr-x|"), listing);
    assertTrue(listing.contains("non-ascii\n"), listing);
    assertTrue(listing.contains(bigMd5 + "  big.bin"), listing);
    assertTrue(listing.contains("keep.log"), listing);
    assertFalse(listing.contains("ignored.txt"), listing);
    assertFalse(listing.contains("a.log"), listing);
    assertFalse(listing.contains("node_modules"), listing);
    assertTrue(listing.contains("ünïcödé 日本.txt"), listing);
    assertTrue(listing.trim().endsWith("\n0"), listing);

    // the same shared key again with one changed small file: only that file is re-sent, and it arrives
    String key = "byop-it:" + UUID.randomUUID();
    bk(engine).build(DockerfileBuild.local(ctx, img).withSharedKey(key), l -> { }, Cancellation.none());
    Files.writeString(ctx.resolve("sub/deeper/data.txt"), "deeper\n");
    SolveResult r2 = bk(engine).build(DockerfileBuild.local(ctx, img).withSharedKey(key), l -> { }, Cancellation.none());
    // BuildKit 0.13's frontend also reads the Dockerfile and .dockerignore again (small files, each sync of its
    // own); the 100 MB are never re-sent
    long again = "deeper\n".length() + (engine.name().equals(Testbed.Engine.DOCKER20) ? 0
        : Files.size(ctx.resolve("Dockerfile")) + Files.size(ctx.resolve(".dockerignore")));
    assertEquals(again, r2.contextBytesSent());
    assertEquals("deeper\n", Cli.docker(engine, "run", "--rm", img, "cat", "/ctx/sub/deeper/data.txt"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void failingRunReportsStepExitCodeAndLogTail(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nRUN echo first-line && echo "
        + UUID.randomUUID() + " && echo last-words && exit 3\n");
    List<String> log = new CopyOnWriteArrayList<>();
    BuildException e = assertThrows(BuildException.class,
        () -> bk(engine).build(DockerfileBuild.local(dir, image(engine, "failing")), log::add, Cancellation.none()));
    assertNotNull(e.step(), e.getMessage());
    assertTrue(e.step().contains("RUN echo first-line"), e.step());
    assertEquals(3, e.exitCode(), e.getMessage());
    assertTrue(e.logTail().contains("last-words"), e.logTail().toString());
    assertTrue(e.getMessage().contains("exit code 3"), e.getMessage());
    assertTrue(log.stream().anyMatch(l -> l.matches("#\\d+ ERROR: .*")), String.join("\n", log));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void cancelStopsTheBuildOnTheDaemon(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    String marker = Integer.toString(4000 + (int) (Math.random() * 5000));
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nRUN echo sleeping-now && sleep " + marker + "\n");
    List<String> log = new CopyOnWriteArrayList<>();
    TestCancellation cancel = new TestCancellation();
    CompletableFuture<SolveResult> f = CompletableFuture.supplyAsync(
        () -> bk(engine).build(DockerfileBuild.local(dir, image(engine, "cancelled")).withNoCache(true), log::add, cancel));
    waitFor("the step to start", Duration.ofSeconds(60), () -> log.stream().anyMatch(l -> l.endsWith("sleeping-now")));
    waitFor("sleep on the daemon", Duration.ofSeconds(20), () -> sleepRunning(marker));
    cancel.cancel();
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof CancelledException, String.valueOf(e.getCause()));
    waitFor("the daemon to kill the step", Duration.ofSeconds(30), () -> !sleepRunning(marker));
  }

  static boolean sleepRunning(String marker) {
    try (var s = Files.list(Path.of("/proc"))) {
      return s.filter(p -> p.getFileName().toString().matches("\\d+")).anyMatch(p -> {
        try {
          String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          return cmd.equals("sleep\0" + marker + "\0");
        } catch (Exception ex) {
          return false;
        }
      });
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void secretReachesRunMountButNoLogAndNoLayer(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    String secret = "s3cr3t-" + UUID.randomUUID();
    // the secret is asked for after a 12 s step: v0.8 drops a session after one failed 1 s health poll
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + "\nRUN sleep 12\n"
        + "RUN --mount=type=secret,id=api_token test \"$(cat /run/secrets/api_token)\" = \"" + "$EXPECTED" + "\" "
        + "|| true; cp /run/secrets/api_token /tmp/x 2>/dev/null; rm -f /tmp/x; "
        + "echo secret-length-$(cat /run/secrets/api_token | wc -c); cat /run/secrets/api_token\n");
    List<String> log = new CopyOnWriteArrayList<>();
    String img = image(engine, "secret");
    bk(engine).build(DockerfileBuild.local(dir, img).withNoCache(true)
            .withSecrets(Map.of("api_token", secret.getBytes(StandardCharsets.UTF_8))),
        log::add, Cancellation.none());
    String all = String.join("\n", log);
    assertTrue(all.contains("secret-length-" + secret.length()), all);
    assertFalse(all.contains(secret), "secret in the log");
    assertTrue(all.contains("****"), "the echoed secret is redacted: " + all);
    byte[] needle = secret.getBytes(StandardCharsets.UTF_8);
    try (InputStream in = docker(engine).saveImage(img)) {
      byte[] tar = in.readAllBytes();
      assertTrue(tar.length > 0);
      assertFalse(indexOf(tar, needle) >= 0, "secret found in an image layer");
      // a containerd-store engine saves gzip layer blobs: look inside them too
      int gz = 0;
      for (byte[] entry : tarEntries(tar)) {
        if (entry.length > 2 && (entry[0] & 0xff) == 0x1f && (entry[1] & 0xff) == 0x8b) {
          gz++;
          byte[] layer = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(entry)).readAllBytes();
          assertFalse(indexOf(layer, needle) >= 0, "secret found in a compressed image layer");
        }
      }
      assertTrue(!engine.containerdStore() || gz > 0, "a containerd-store save has gzip layers: " + gz);
    }
    assertFalse(docker(engine).inspectImage(img).orElseThrow().rawJson().contains(secret));
  }

  /** The contents of a tar archive's regular files (ustar headers: name, octal size at 124, type at 156). */
  static List<byte[]> tarEntries(byte[] tar) {
    List<byte[]> out = new ArrayList<>();
    int pos = 0;
    while (pos + 512 <= tar.length && tar[pos] != 0) {
      String size = new String(tar, pos + 124, 12, StandardCharsets.US_ASCII).replace("\0", "").trim();
      int len = size.isEmpty() ? 0 : Integer.parseInt(size, 8);
      char type = (char) tar[pos + 156];
      if (type == '0' || type == 0) {
        out.add(java.util.Arrays.copyOfRange(tar, pos + 512, pos + 512 + len));
      }
      pos += 512 + (len + 511) / 512 * 512;
    }
    return out;
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void badInputGivesClearErrors(Testbed.Engine engine, @TempDir Path dir) throws Exception {
    BuildException missing = assertThrows(BuildException.class,
        () -> bk(engine).build(DockerfileBuild.local(dir, image(engine, "bad")), l -> { }, Cancellation.none()));
    assertTrue(missing.getMessage().contains("Dockerfile") && missing.getMessage().contains(dir.toString()),
        missing.getMessage());

    Files.writeString(dir.resolve("Dockerfile"), "FROM " + base + " AS one\nRUN true\n");
    BuildException target = assertThrows(BuildException.class,
        () -> bk(engine).build(DockerfileBuild.local(dir, image(engine, "bad")).withTarget("nope"), l -> { }, Cancellation.none()));
    assertTrue(target.getMessage().contains("nope"), target.getMessage());

    try (BuildKitClient dead = BuildKitClient.connect(
        BuildKitEndpoint.parse("docker+unix:///tmp/byop-it-no-docker.sock", null))) {
      BuildException e = assertThrows(BuildException.class,
          () -> dead.build(DockerfileBuild.local(dir, image(engine, "bad")), l -> { }, Cancellation.none()));
      assertTrue(e.getMessage().contains("unreachable") && e.getMessage().contains("/tmp/byop-it-no-docker.sock"),
          e.getMessage());
    }
    try (BuildKitClient dead = BuildKitClient.connect(
        BuildKitEndpoint.parse("unix:///tmp/byop-it-no-buildkitd.sock", null))) {
      BuildException e = assertThrows(BuildException.class, dead::capabilities);
      assertTrue(e.getMessage().contains("/tmp/byop-it-no-buildkitd.sock"), e.getMessage());
    }
    ValidationException v = assertThrows(ValidationException.class, () -> BuildKitEndpoint.parse("ftp://x", null));
    assertTrue(v.getMessage().contains("ftp://x"), v.getMessage());
  }

  /** A cancellation the test fires. */
  static final class TestCancellation implements Cancellation {
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<Runnable> actions = new CopyOnWriteArrayList<>();

    void cancel() {
      if (cancelled.compareAndSet(false, true)) {
        actions.forEach(Runnable::run);
      }
    }

    @Override
    public boolean isCancelled() {
      return cancelled.get();
    }

    @Override
    public AutoCloseable onCancel(Runnable action) {
      if (cancelled.get()) {
        action.run();
        return () -> { };
      }
      actions.add(action);
      return () -> actions.remove(action);
    }

    @Override
    public String reason() {
      return "cancelled by test";
    }
  }
}
