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
import org.junit.jupiter.api.Test;

/** Against the test bed's real Docker Engine and registry. */
class DockerClientIT {
  static DockerClient docker;
  static String base;
  static final String MINE = "byop-it-buildkit/docker-client";

  @BeforeAll
  static void connect() {
    docker = DockerClient.connect(DockerEndpoint.parse(Testbed.get().dockerHost()));
    base = Testbed.get().baseImage();
  }

  @AfterAll
  static void cleanUp() {
    docker.removeImage(MINE + ":t1", true);
    docker.removeImage(MINE + ":loaded", true);
    docker.removeImage(Testbed.get().registry().address() + "/buildkit/docker-client:v1", true);
    docker.close();
  }

  @Test
  void pingVersionAndNegotiation() {
    docker.ping();
    DockerVersion v = docker.version();
    assertFalse(v.version().isEmpty());
    assertTrue(DockerClient.compareVersions(docker.apiVersion(), DockerClient.MAX_API_VERSION) <= 0);
    assertEquals(v.apiVersion().compareTo(DockerClient.MAX_API_VERSION) < 0 ? v.apiVersion()
        : DockerClient.MAX_API_VERSION, docker.apiVersion());
  }

  @Test
  void inspectTagRemove() {
    ImageInfo info = docker.inspectImage(base).orElseThrow();
    assertTrue(info.id().startsWith("sha256:"), info.id());
    assertFalse(info.layers().isEmpty());
    docker.tagImage(base, MINE, "t1");
    assertEquals(info.id(), docker.inspectImage(MINE + ":t1").orElseThrow().id());
    assertTrue(docker.removeImage(MINE + ":t1", false));
    assertEquals(Optional.empty(), docker.inspectImage(MINE + ":t1"));
    assertFalse(docker.removeImage(MINE + ":t1", false));
  }

  @Test
  void saveThenLoadRoundTrip() throws Exception {
    docker.tagImage(base, MINE, "loaded");
    byte[] tar;
    try (InputStream in = docker.saveImage(MINE + ":loaded")) {
      tar = in.readAllBytes();
    }
    assertTrue(tar.length > 100_000, "tar size " + tar.length);
    docker.removeImage(MINE + ":loaded", false);
    List<ProgressMessage> progress = new ArrayList<>();
    List<String> loaded = docker.loadImage(new ByteArrayInputStream(tar), progress::add);
    assertEquals(List.of(MINE + ":loaded"), loaded);
    assertTrue(docker.inspectImage(MINE + ":loaded").isPresent());
  }

  @Test
  void loadOfGarbageIsATypedError() {
    DockerException e = assertThrows(DockerException.class,
        () -> docker.loadImage(new ByteArrayInputStream("not a tar".getBytes(StandardCharsets.UTF_8)), p -> {}));
    assertFalse(e.engineMessage().isEmpty(), e.getMessage());
  }

  @Test
  void pushWithAuthAndProgress() {
    String registry = Testbed.get().registry().address();
    String repo = registry + "/buildkit/docker-client";
    docker.tagImage(base, repo, "v1");
    List<ProgressMessage> progress = new ArrayList<>();
    PushResult r = docker.pushImage(repo, "v1",
        RegistryAuth.basic(Testbed.get().registry().user(), Testbed.get().registry().password(), registry),
        progress::add);
    assertTrue(r.digest().startsWith("sha256:"), r.toString());
    assertEquals("v1", r.tag());
    assertFalse(progress.isEmpty());

    DockerException bad = assertThrows(DockerException.class,
        () -> docker.pushImage(repo, "v1", RegistryAuth.basic("byop", "wrong-password", registry), p -> {}));
    assertFalse(bad.getMessage().contains("wrong-password"), bad.getMessage());
    assertTrue(bad.engineMessage().toLowerCase().contains("auth"), bad.engineMessage());
  }

  @Test
  void missingImageErrorsCarryStatusAndMessage() {
    DockerException e = assertThrows(DockerException.class,
        () -> docker.saveImages(List.of("byop-it-buildkit/does-not-exist:nope")).readAllBytes());
    assertEquals(404, e.status(), e.getMessage());
    DockerException tag = assertThrows(DockerException.class,
        () -> docker.tagImage("byop-it-buildkit/does-not-exist:nope", MINE, "x"));
    assertEquals(404, tag.status());
    assertTrue(tag.getMessage().contains("does-not-exist"), tag.getMessage());
  }

  @Test
  void grpcUpgradeAnswersWithHttp2Settings() throws Exception {
    try (UpgradedConnection c = docker.upgrade("/grpc", "h2c", Map.of())) {
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
