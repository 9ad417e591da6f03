package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.RegistryException;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.RegistryClient.PushRequest;
import dev.byop.core.spi.RegistryClient.PushResult;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.docker.DockerResponse;
import dev.byop.docker.RegistryAuth;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The seed's push: an image built by the test bed's engine is pushed through the Engine API, its digest is resolved
 * through the registry API, the local copy is removed, and the image is pulled back by digest and run. On every engine
 * of the bed's matrix: the containerd image store pushes what it holds (its manifest and layer blobs), the classic
 * store a manifest it makes.
 */
@RequiresTestbed
@ParameterizedClass(name = "{0}")
@MethodSource("engines")
class EnginePushIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static final String LOCAL = "byop-it-registry/app:" + RUN;
  private static Testbed.Engine engine;
  private static DockerClient docker;
  private static String registry;
  private static Credentials credentials;
  private static final List<String> created = Collections.synchronizedList(new ArrayList<>());

  @TempDir static Path dir;

  /** The engine of this invocation (also in {@link #engine} for the static set-up). */
  @Parameter Testbed.Engine current;

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @BeforeParameterizedClassInvocation
  static void build(Testbed.Engine e) throws Exception {
    engine = e;
    created.clear();
    docker = DockerClient.connect(DockerEndpoint.parse(e.dockerHost()));
    // the bed's registry as this engine reaches it (the same storage behind every address)
    registry = e.registry();
    credentials = Credentials.basic(Testbed.get().registry().user(), Testbed.get().registry().password());
    buildImage(LOCAL, "hello-" + RUN);
  }

  /** A small image from the bed's base whose command prints {@code text}. */
  private static void buildImage(String name, String text) throws Exception {
    Path context = Files.createDirectories(dir.resolve("ctx-" + Math.abs(name.hashCode())));
    Files.writeString(context.resolve("Dockerfile"), "FROM " + Testbed.get().baseImage() + "\n"
        + "RUN echo " + text + " > /hello\n"
        + "CMD [\"cat\", \"/hello\"]\n");
    cli(List.of("build", "-q", "-t", name, context.toString()));
    created.add(name);
  }

  @AfterParameterizedClassInvocation
  static void cleanUp() {
    for (String image : created) {
      try {
        docker.removeImage(image, true);
      } catch (RuntimeException ignored) {
        // already gone
      }
    }
    docker.close();
  }

  /** The Docker CLI of the bed, as a test fixture (argument list; output returned). */
  private static String cli(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(engine.cli().toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DOCKER_HOST", engine.dockerHost());
    pb.environment().put("DOCKER_CONFIG", dir.resolve("cli-config").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "docker " + args + " timed out");
    assertEquals(0, p.exitValue(), "docker " + args + ": " + out);
    return out.trim();
  }

  private static DistributionRegistryClient client(RetryPolicy retry) {
    // the bed's registry speaks plain HTTP; a 26.1 engine reaches it on a non-loopback address
    return DistributionRegistryClient.builder().dockerHost(engine.dockerHost()).insecureRegistries(List.of(registry))
        .credentials(CredentialResolver.builder(Map.of()).noDockerConfig().credentials(registry, credentials).build())
        .retry(retry).build();
  }

  @Test
  void pushResolvePullByDigestAndRun() throws Exception {
    // an image of its own, so that removing it really removes its layers from the engine
    String local = "byop-it-registry/roundtrip:" + RUN;
    buildImage(local, "roundtrip-" + RUN);
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    ImageReference target = ImageReference.parse(registry + "/registry/app:" + RUN);
    PushResult result;
    try (DistributionRegistryClient c = client(RetryPolicy.defaults())) {
      result = c.push(new PushRequest(local, target, null), JobContext.of("job-" + RUN, log::add));
      created.add(target.toString());
      assertEquals(result.digest(), c.resolveDigest(target, null).orElseThrow());
      assertEquals(result.digest(), result.image().digest());
      assertEquals(RUN, result.image().tag());
    }
    assertTrue(log.stream().anyMatch(l -> l.contains("Pushed") || l.contains("Layer already exists")), log.toString());
    assertTrue(log.stream().anyMatch(l -> l.contains(result.digest())), log.toString());
    String manifestType = DistributionClient.builder(registry).endpoint(java.net.URI.create("http://" + registry))
        .credentials(credentials).build()
        .headManifest("registry/app", result.digest()).orElseThrow().mediaType();
    // the classic store pushes a Docker manifest it makes; the containerd store pushes what it holds, which for an
    // image built by BuildKit is an OCI manifest or index
    assertTrue(engine.containerdStore() ? List.of(MediaTypes.DOCKER_MANIFEST, MediaTypes.OCI_MANIFEST,
        MediaTypes.OCI_INDEX, MediaTypes.DOCKER_MANIFEST_LIST).contains(manifestType)
        : manifestType.equals(MediaTypes.DOCKER_MANIFEST), manifestType);

    // the local copy goes, then comes back by digest from the registry
    assertTrue(docker.removeImage(local, false));
    assertTrue(docker.removeImage(target.toString(), false));
    String byDigest = target.name() + "@" + result.digest();
    assertTrue(docker.inspectImage(byDigest).isEmpty());
    pull(byDigest);
    created.add(byDigest);
    assertTrue(docker.inspectImage(byDigest).isPresent());
    assertEquals("roundtrip-" + RUN, cli(List.of("run", "--rm", "--network", "none", byDigest)));
  }

  private static void pull(String reference) throws IOException {
    String path = "/images/create?fromImage=" + URLEncoder.encode(reference, StandardCharsets.UTF_8);
    RegistryAuth auth = RegistryAuth.basic(credentials.username(), credentials.secret().reveal(), registry);
    try (DockerResponse r = docker.execute("POST", path, Map.of("X-Registry-Auth", auth.toHeaderValue()), null)) {
      String body = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(200, r.status(), body);
      assertFalse(body.contains("\"error\""), body);
    }
  }

  @Test
  void wrongPasswordFailsNamingTheRegistryAndThe401WithoutThePassword() {
    String canary = "canary-" + RUN + "-engine";
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    ImageReference target = ImageReference.parse(registry + "/registry/denied:" + RUN);
    created.add(target.toString());
    try (DistributionRegistryClient c = client(RetryPolicy.defaults())) {
      RegistryException e = assertThrows(RegistryException.class, () -> c.push(new PushRequest(LOCAL, target,
          Credentials.basic(credentials.username(), canary)), JobContext.of("job-denied", log::add)));
      assertEquals(401, e.status(), e.getMessage());
      assertEquals(registry, e.registry());
      assertTrue(e.getMessage().contains(registry) && e.getMessage().contains("401"), e.getMessage());
      StringWriter all = new StringWriter();
      e.printStackTrace(new PrintWriter(all));
      assertFalse(all.toString().contains(canary), all.toString());
      assertFalse(String.join("\n", log).contains(canary), log.toString());
    }
  }

  @Test
  void registryDownIsRetriedThenFailsWithTheCause() throws IOException {
    int port;
    // where this engine reaches this machine: a 26.1 engine lives in a network namespace of its own
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(engine.hostAddress()))) {
      port = s.getLocalPort();
    }
    ImageReference target = ImageReference.parse(engine.hostAddress() + ":" + port + "/registry/down:" + RUN);
    created.add(target.toString());
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    RetryPolicy quick = new RetryPolicy(3, Duration.ofMillis(100), Duration.ofMillis(400), Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    try (DistributionRegistryClient c = client(quick)) {
      RegistryException e = assertThrows(RegistryException.class,
          () -> c.push(new PushRequest(LOCAL, target, credentials), JobContext.of("job-down", log::add)));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(0, e.status(), e.getMessage());
      assertTrue(e.getMessage().contains("connection refused") && e.getMessage().contains("after 3 attempts"),
          e.getMessage());
      assertEquals(2, log.stream().filter(l -> l.contains("retrying")).count(), log.toString());
      assertTrue(ms < 30_000, "took " + ms + " ms");
    }
  }

  /** A registry that accepts connections and never answers. */
  @Test
  void cancellingTheJobStopsAPushToAHangingRegistry() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName(engine.hostAddress()))) {
      List<java.net.Socket> held = Collections.synchronizedList(new ArrayList<>());
      Thread acceptor = new Thread(() -> {
        try {
          while (true) held.add(silent.accept());
        } catch (IOException closed) {
          // test over
        }
      }, "silent-registry");
      acceptor.setDaemon(true);
      acceptor.start();
      ImageReference target = ImageReference.parse(engine.hostAddress() + ":" + silent.getLocalPort()
          + "/registry/hang:" + RUN);
      created.add(target.toString());
      TestCancellation cancellation = new TestCancellation();
      JobContext job = new JobContext("job-hang", l -> { }, cancellation);
      var timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      long t0 = System.nanoTime();
      try (DistributionRegistryClient c = client(RetryPolicy.defaults())) {
        timer.schedule(() -> cancellation.cancel("cancelled by the test"), 700, TimeUnit.MILLISECONDS);
        dev.byop.core.CancelledException e = assertThrows(dev.byop.core.CancelledException.class,
            () -> c.push(new PushRequest(LOCAL, target, credentials), job));
        assertTrue(e.getMessage().contains("cancelled by the test"), e.getMessage());
      } finally {
        timer.shutdownNow();
        for (java.net.Socket s : held) s.close();
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 10_000, "took " + ms + " ms");
      assertFalse(held.isEmpty(), "the engine never reached the hanging registry");
    }
  }

  /** A cancellation the test fires by hand. */
  private static final class TestCancellation implements dev.byop.core.spi.Cancellation {
    private final List<Runnable> actions = new ArrayList<>();
    private volatile String reason = "";
    private volatile boolean cancelled;

    synchronized void cancel(String why) {
      reason = why;
      cancelled = true;
      actions.forEach(Runnable::run);
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public synchronized AutoCloseable onCancel(Runnable action) {
      if (cancelled) {
        action.run();
      } else {
        actions.add(action);
      }
      return () -> {
        synchronized (this) {
          actions.remove(action);
        }
      };
    }

    @Override
    public String reason() {
      return reason;
    }
  }

  @Test
  void aDigestOtherThanTheEnginesFailsThePush() {
    ImageReference target = ImageReference.parse(registry + "/registry/mismatch:" + RUN);
    String bogus = "sha256:" + "0".repeat(64);
    created.add(target.toString());
    DistributionRegistryClient c = DistributionRegistryClient.builder().insecureRegistries(List.of(registry))
        .credentials(CredentialResolver.builder(Map.of()).noDockerConfig().credentials(registry, credentials).build())
        .pusher((local, t, creds, ctx) -> {
          new dev.byop.registry.internal.EnginePusher(docker, false, RetryPolicy.none()).push(local, t, creds, ctx);
          return bogus;
        }).build();
    try (c) {
      RegistryException e = assertThrows(RegistryException.class,
          () -> c.push(new PushRequest(LOCAL, target, null), JobContext.of("job-mismatch", l -> { })));
      assertEquals(List.of("DIGEST_MISMATCH"), e.errorCodes());
      assertTrue(e.getMessage().contains(bogus), e.getMessage());
    }
  }
}
