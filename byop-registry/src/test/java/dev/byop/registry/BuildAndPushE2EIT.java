package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.LogLine;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.AppStore.AppState;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.docker.DockerResponse;
import dev.byop.docker.RegistryAuth;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The seed's Build &amp; Push workflow end to end with real parts: the jdbc store (embedded H2), the BuildKit builder
 * on the bed's engine, and this module's registry client against the bed's registry. App {@code registry}, so the
 * pushed repositories are {@code registry/<component>}. On every engine of the bed's matrix, each pushing to the bed's
 * registry as that engine reaches it (a 26.1 engine on a non-loopback address: {@code registry.insecureRegistries}).
 */
@RequiresTestbed
@ParameterizedClass(name = "{0}")
@MethodSource("engines")
class BuildAndPushE2EIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static final Testbed BED = Testbed.get();
  /** Images made, with the engine that holds them. */
  private static final Map<String, Testbed.Engine> images = new java.util.concurrent.ConcurrentHashMap<>();

  @TempDir static Path tmp;
  private static Path repo;

  @Parameter Testbed.Engine engine;

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @BeforeAll
  static void sourceRepository() throws Exception {
    repo = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(repo.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\n"
        + "RUN echo e2e-" + RUN + " > /hello\n"
        + "CMD [\"cat\", \"/hello\"]\n");
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
  }

  @AfterAll
  static void removeImages() {
    images.forEach((image, e) -> {
      try (DockerClient docker = DockerClient.connect(DockerEndpoint.parse(e.dockerHost()))) {
        docker.removeImage(image, true);
      } catch (RuntimeException ignored) {
        // not there
      }
    });
  }

  private void made(String image) {
    images.put(image, engine);
  }

  /** A name of this run on this engine (the registry is shared by every engine). */
  private String named(String prefix) {
    return prefix + "-" + engine.name() + "-" + RUN;
  }

  private static String git(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + List.of(args) + ": " + out);
    return out.trim();
  }

  private Byop byop(Path dataDir, String address, String password) {
    Map<String, Object> registry = new HashMap<>();
    registry.put("address", address);
    registry.put("username", BED.registry().user());
    registry.put("password", SecretRef.value(password));
    registry.put("dockerHost", engine.dockerHost());
    registry.put("insecureRegistries", List.of(address));
    registry.put("maxAttempts", 3);
    registry.put("retryFor", "10s");
    ByopConfig config = ByopConfig.of(Map.of(
        "dataDir", dataDir.toString(),
        "git", Map.of("allowFile", true),
        "builder", Map.of("provider", "buildkit", "endpoint", "docker+" + engine.dockerHost()),
        "registry", registry,
        "orchestrator", Map.of("workers", 1, "pollInterval", "50ms")));
    return Byop.builder().config(config).discover(BuildAndPushE2EIT.class.getClassLoader()).build();
  }

  private static BuildJob build(Byop byop, String component) {
    byop.store().saveApp(new App("registry", "registry", List.of(Component.of(component, GitSource.of("file://" + repo),
        8080))));
    var o = byop.orchestrator();
    return o.await(o.requestBuild("registry", BuildConfig.defaults()).id(), Duration.ofMinutes(3));
  }

  private static String logText(Byop byop, String jobId) {
    StringBuilder b = new StringBuilder();
    for (LogLine l : byop.orchestrator().logs(jobId, 0, 100_000)) b.append(l.text()).append('\n');
    return b.toString();
  }

  @Test
  void requestBuildEndsWithTheImageInTheRegistryAndTheAppsCurrentImage() throws Exception {
    String component = named("web");
    String address = engine.registry();
    BuildJob done;
    String logs;
    AppState state;
    try (Byop byop = byop(tmp.resolve(named("data-ok")), address, BED.registry().password())) {
      done = build(byop, component);
      logs = logText(byop, done.id());
      state = byop.store().appState("registry").orElseThrow();
    }
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> done.error() + "\n" + logs);
    assertTrue(done.statusTimes().keySet().containsAll(List.of(BuildStatus.PENDING, BuildStatus.FETCHING,
        BuildStatus.BUILDING, BuildStatus.PUSHING, BuildStatus.SUCCESS)), done.statusTimes().toString());
    ImageReference image = ImageReference.parse(done.image());
    assertEquals(address, image.registry());
    assertEquals("byop/registry/" + component, image.repository(), "under the default namespace");
    String digest = done.digest();
    assertNotNull(digest);
    made(image.toString());
    made("byop/registry-" + component + ":" + image.tag());

    // the same registry storage behind every address: read it where this JVM reaches it plainly
    DistributionClient registry = DistributionClient.builder(BED.registry().address())
        .credentials(dev.byop.core.Credentials.basic(BED.registry().user(), BED.registry().password())).build();
    assertEquals(digest, registry.headManifest(image.repository(), image.tag()).orElseThrow().digest());
    assertEquals(done.image(), state.currentImage());
    assertEquals(digest, state.currentDigest());
    assertTrue(logs.contains("push: "), logs);

    // the local copies go; pulled back by digest, the image runs
    DockerClient docker = DockerClient.connect(DockerEndpoint.parse(engine.dockerHost()));
    try (docker) {
    for (String local : List.of(image.toString(), "byop/registry-" + component + ":" + image.tag())) {
      docker.removeImage(local, false);
    }
    String byDigest = image.name() + "@" + digest;
    assertTrue(docker.inspectImage(byDigest).isEmpty());
    RegistryAuth auth = RegistryAuth.basic(BED.registry().user(), BED.registry().password(), image.registry());
    try (DockerResponse r = docker.execute("POST", "/images/create?fromImage="
        + URLEncoder.encode(byDigest, StandardCharsets.UTF_8), Map.of("X-Registry-Auth", auth.toHeaderValue()), null)) {
      String body = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(200, r.status(), body);
      assertFalse(body.contains("\"error\""), body);
    }
    made(byDigest);
    Process run = new ProcessBuilder(List.of(engine.cli().toString(), "-H", engine.dockerHost(), "run", "--rm",
        "--network", "none", byDigest)).redirectErrorStream(true).start();
    String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(run.waitFor(60, TimeUnit.SECONDS));
    assertEquals("e2e-" + RUN, out);
    }
  }

  @Test
  void wrongPasswordFailsNamingTheRegistryAndThe401AndThePasswordIsNowhere() throws Exception {
    String canary = "canary-" + RUN + "-e2e-Pw";
    String component = named("denied");
    String address = engine.registry();
    Path data = tmp.resolve(named("data-denied"));
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    BuildJob done;
    String logs;
    System.setErr(new PrintStream(new Tee(originalErr, captured), true, StandardCharsets.UTF_8));
    try (Byop byop = byop(data, address, canary)) {
      done = build(byop, component);
      logs = logText(byop, done.id());
    } finally {
      System.setErr(originalErr);
    }
    BuildJob failed = done;
    made(address + "/byop/registry/" + component + ":" + String.valueOf(failed.commit()).substring(0, 12));
    made("byop/registry-" + component + ":" + String.valueOf(failed.commit()).substring(0, 12));
    assertEquals(BuildStatus.FAILED, failed.status(), logs);
    assertTrue(failed.error().contains(address) && failed.error().contains("401"), failed.error());
    assertFalse(failed.error().contains(canary));
    assertFalse(logs.contains(canary), logs);
    assertFalse(captured.toString(StandardCharsets.UTF_8).contains(canary), "the password reached a log line");
    // every stored row: the embedded database's files hold no copy of the password
    try (Stream<Path> files = Files.walk(data)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(canary),
            "the password is stored in " + f);
      }
    }
  }

  @Test
  void registryDownIsRetriedThenFailsWithTheCauseAndDoesNotHang() throws Exception {
    int port;
    // an address this engine reaches this machine on (a 26.1 engine lives in a network namespace of its own)
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(engine.hostAddress()))) {
      port = s.getLocalPort();
    }
    String down = engine.hostAddress() + ":" + port;
    String component = named("down");
    long t0 = System.nanoTime();
    BuildJob done;
    String logs;
    try (Byop byop = byop(tmp.resolve(named("data-down")), down, BED.registry().password())) {
      done = build(byop, component);
      logs = logText(byop, done.id());
    }
    long seconds = (System.nanoTime() - t0) / 1_000_000_000;
    made(down + "/registry/" + component + ":" + String.valueOf(done.commit()).substring(0, 12));
    made("byop/registry-" + component + ":" + String.valueOf(done.commit()).substring(0, 12));
    assertEquals(BuildStatus.FAILED, done.status(), logs);
    assertTrue(done.statusTimes().containsKey(BuildStatus.PUSHING), done.statusTimes().toString());
    assertTrue(done.error().contains("connection refused"), done.error());
    assertTrue(logs.contains("retrying"), logs);
    assertTrue(seconds < 120, "took " + seconds + " s");
  }

  /** Writes to two streams. */
  private static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
