package dev.byop.docker;

import dev.byop.testing.Testbed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Against each Docker Engine of the bed's matrix and the bed's registry (as that engine reaches it). */
class DockerClientIT {
  static final Map<String, DockerClient> clients = new java.util.concurrent.ConcurrentHashMap<>();
  static String base;
  static final String MINE = "byop-it-buildkit/docker-client";

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  static DockerClient docker(Testbed.Engine engine) {
    return clients.computeIfAbsent(engine.name(), n -> DockerClient.connect(DockerEndpoint.parse(engine.dockerHost())));
  }

  @BeforeAll
  static void connect() {
    base = Testbed.get().baseImage();
  }

  @AfterAll
  static void cleanUp() {
    for (Testbed.Engine engine : Testbed.get().engines()) {
      DockerClient docker = clients.remove(engine.name());
      if (docker == null) continue;
      docker.removeImage(MINE + ":t1", true);
      docker.removeImage(MINE + ":loaded", true);
      docker.removeImage(engine.registry() + "/buildkit/docker-client:v1", true);
      docker.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void pingVersionAndNegotiation(Testbed.Engine engine) {
    docker(engine).ping();
    DockerVersion v = docker(engine).version();
    assertFalse(v.version().isEmpty());
    assertTrue(DockerClient.compareVersions(docker(engine).apiVersion(), DockerClient.MAX_API_VERSION) <= 0);
    assertEquals(v.apiVersion().compareTo(DockerClient.MAX_API_VERSION) < 0 ? v.apiVersion()
        : DockerClient.MAX_API_VERSION, docker(engine).apiVersion());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void inspectTagRemove(Testbed.Engine engine) {
    ImageInfo info = docker(engine).inspectImage(base).orElseThrow();
    assertTrue(info.id().startsWith("sha256:"), info.id());
    assertFalse(info.layers().isEmpty());
    docker(engine).tagImage(base, MINE, "t1");
    assertEquals(info.id(), docker(engine).inspectImage(MINE + ":t1").orElseThrow().id());
    assertTrue(docker(engine).removeImage(MINE + ":t1", false));
    assertEquals(Optional.empty(), docker(engine).inspectImage(MINE + ":t1"));
    assertFalse(docker(engine).removeImage(MINE + ":t1", false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void saveThenLoadRoundTrip(Testbed.Engine engine) throws Exception {
    docker(engine).tagImage(base, MINE, "loaded");
    byte[] tar;
    try (InputStream in = docker(engine).saveImage(MINE + ":loaded")) {
      tar = in.readAllBytes();
    }
    assertTrue(tar.length > 100_000, "tar size " + tar.length);
    docker(engine).removeImage(MINE + ":loaded", false);
    List<ProgressMessage> progress = new ArrayList<>();
    List<String> loaded = docker(engine).loadImage(new ByteArrayInputStream(tar), progress::add);
    assertEquals(List.of(MINE + ":loaded"), loaded);
    assertTrue(docker(engine).inspectImage(MINE + ":loaded").isPresent());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void loadOfGarbageIsATypedError(Testbed.Engine engine) {
    DockerException e = assertThrows(DockerException.class,
        () -> docker(engine).loadImage(new ByteArrayInputStream("not a tar".getBytes(StandardCharsets.UTF_8)), p -> {}));
    assertFalse(e.engineMessage().isEmpty(), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void pushWithAuthAndProgress(Testbed.Engine engine) {
    String registry = engine.registry();
    String repo = registry + "/buildkit/docker-client";
    docker(engine).tagImage(base, repo, "v1");
    List<ProgressMessage> progress = new ArrayList<>();
    PushResult r = docker(engine).pushImage(repo, "v1",
        RegistryAuth.basic(Testbed.get().registry().user(), Testbed.get().registry().password(), registry),
        progress::add);
    assertTrue(r.digest().startsWith("sha256:"), r.toString());
    assertEquals("v1", r.tag());
    assertFalse(progress.isEmpty());

    DockerException bad = assertThrows(DockerException.class,
        () -> docker(engine).pushImage(repo, "v1", RegistryAuth.basic("byop", "wrong-password", registry), p -> {}));
    assertFalse(bad.getMessage().contains("wrong-password"), bad.getMessage());
    assertTrue(bad.engineMessage().toLowerCase().contains("auth"), bad.engineMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void missingImageErrorsCarryStatusAndMessage(Testbed.Engine engine) {
    DockerException e = assertThrows(DockerException.class,
        () -> docker(engine).saveImages(List.of("byop-it-buildkit/does-not-exist:nope")).readAllBytes());
    assertEquals(404, e.status(), e.getMessage());
    DockerException tag = assertThrows(DockerException.class,
        () -> docker(engine).tagImage("byop-it-buildkit/does-not-exist:nope", MINE, "x"));
    assertEquals(404, tag.status());
    assertTrue(tag.getMessage().contains("does-not-exist"), tag.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  void grpcUpgradeAnswersWithHttp2Settings(Testbed.Engine engine) throws Exception {
    try (UpgradedConnection c = docker(engine).upgrade("/grpc", "h2c", Map.of())) {
      c.output().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      c.output().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // empty SETTINGS
      byte[] frame = c.input().readNBytes(9);
      assertEquals(9, frame.length);
      assertEquals(4, frame[3], "first frame type must be SETTINGS");
    }
  }

  @Test
  void unreachableEngineIsATypedError() {
    DockerClient none = DockerClient.connect(DockerEndpoint.unixSocket(Path.of("/tmp/byop-no-such-docker.sock")));
    DockerException e = assertThrows(DockerException.class, none::ping);
    assertEquals(0, e.status());
    assertTrue(e.getMessage().contains("/tmp/byop-no-such-docker.sock"), e.getMessage());
  }
}
