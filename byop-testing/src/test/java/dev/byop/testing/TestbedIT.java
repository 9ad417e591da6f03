package dev.byop.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Proves each peer of the real test bed answers: Docker gRPC upgrade, registry auth, ssh to each host, PostgreSQL, Caddy. */
@RequiresTestbed
class TestbedIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void dockerEngineUpgradesGrpcToHttp2(Testbed bed) {
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(bed.dockerSocket()));
        String request = "POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
            + "Content-Length: 0\r\n\r\n";
        write(ch, request.getBytes(StandardCharsets.US_ASCII));
        String head = readHead(ch);
        assertTrue(head.startsWith("HTTP/1.1 101"), "expected 101 Switching Protocols, got: " + head);
        // client connection preface + empty SETTINGS, then the server's first frame must be SETTINGS (type 4) on stream 0
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        write(ch, preface);
        write(ch, new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
        ByteBuffer frame = ByteBuffer.allocate(9);
        while (frame.hasRemaining()) {
          if (ch.read(frame) < 0) {
            throw new IOException("connection closed before the server's first HTTP/2 frame");
          }
        }
        assertEquals(4, frame.get(3), "first HTTP/2 frame type (4 = SETTINGS)");
        assertEquals(0, frame.getInt(5) & 0x7fffffff, "SETTINGS stream id");
      }
    });
  }

  @Test
  void registryAnswers401WithoutAnd200WithBasicAuth(Testbed bed) throws Exception {
    Testbed.Registry registry = bed.registry();
    HttpRequest anonymous = HttpRequest.newBuilder(registry.baseUri().resolve("/v2/")).timeout(TIMEOUT).build();
    HttpResponse<String> denied = http.send(anonymous, HttpResponse.BodyHandlers.ofString());
    assertEquals(401, denied.statusCode());
    assertTrue(denied.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"), denied.headers().toString());

    HttpRequest authed = HttpRequest.newBuilder(registry.baseUri().resolve("/v2/")).timeout(TIMEOUT)
        .header("Authorization", registry.basicAuthorization()).build();
    assertEquals(200, http.send(authed, HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void localSshdRunsCommandsAgainstTheLocalEngine(Testbed bed) throws Exception {
    Testbed.SshHost local = bed.ssh();
    Result r = run(local.sshCommand("docker", "info", "--format", "{{.DockerRootDir}}"), Map.of());
    assertEquals(0, r.exit(), r.output());
    assertEquals(engineRootDir(bed.dockerHost(), bed), r.output().strip());
  }

  @ParameterizedTest(name = "vps{0}")
  @ValueSource(ints = {1, 2})
  void vpsHostAnswersOverSshFromItsOwnEngine(int n, Testbed bed) throws Exception {
    Testbed.SshHost vps = bed.vps(n);

    Result version = run(vps.sshCommand("docker", "version", "--format", "{{.Server.Version}}"), Map.of());
    assertEquals(0, version.exit(), version.output());
    assertTrue(version.output().strip().matches("\\d+\\.\\d+\\.\\d+.*"), version.output());

    // the engine that answers over ssh is the host's own one (its own data root), not the local engine
    // (engine IDs are equal: every dockerd here shares /etc/docker/key.json)
    Result id = run(vps.sshCommand("docker", "info", "--format", "{{.DockerRootDir}}"), Map.of());
    assertEquals(0, id.exit(), id.output());
    assertEquals(engineRootDir(vps.dockerHost(), bed), id.output().strip());
    assertNotEquals(engineRootDir(bed.dockerHost(), bed), id.output().strip());

    // an image tagged locally is absent on the VPS host until shipped; the base image is present on both
    String onlyLocal = "byop-it-testbed/only-local:" + UUID.randomUUID().toString().substring(0, 8);
    Result tag = run(List.of(bed.dockerCli().toString(), "tag", bed.baseImage(), onlyLocal), Map.of("DOCKER_HOST", bed.dockerHost()));
    assertEquals(0, tag.exit(), tag.output());
    try {
      Result remote = run(vps.sshCommand("docker", "image", "inspect", "--format", "{{.Id}}", onlyLocal), Map.of());
      assertNotEquals(0, remote.exit(), "VPS engine must not have " + onlyLocal + ": " + remote.output());
      Result base = run(vps.sshCommand("docker", "image", "inspect", "--format", "{{.Id}}", bed.baseImage()), Map.of());
      assertEquals(0, base.exit(), base.output());
    } finally {
      run(List.of(bed.dockerCli().toString(), "rmi", onlyLocal), Map.of("DOCKER_HOST", bed.dockerHost()));
    }

    // a host name of its own, like a separate machine
    Result hostname = run(vps.sshCommand("hostname"), Map.of());
    assertEquals(0, hostname.exit(), hostname.output());
    assertNotEquals(java.net.InetAddress.getLocalHost().getHostName(), hostname.output().strip());

    // the per-host user keeps per-host paths such as ~/byop apart
    Result home = run(vps.sshCommand("printenv", "HOME"), Map.of());
    assertEquals(0, home.exit(), home.output());
    assertTrue(home.output().strip().endsWith("/" + vps.user()), home.output());
  }

  @Test
  void postgresAnswersAQueryAndMakesAFreshDatabasePerClass(Testbed bed, TestDatabase db) throws Exception {
    try (Connection c = bed.postgres().connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
      assertTrue(rs.next());
      assertEquals(1, rs.getInt(1));
    }
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("create table t (id int)");
      st.execute("insert into t values (42)");
      try (ResultSet rs = st.executeQuery("select current_database(), id from t")) {
        assertTrue(rs.next());
        assertEquals(db.name(), rs.getString(1));
        assertEquals(42, rs.getInt(2));
      }
    }
  }

  @Test
  void caddyAdminApiServesItsConfig(Testbed bed) throws Exception {
    Testbed.Caddy caddy = bed.caddy();
    HttpResponse<String> config = http.send(HttpRequest.newBuilder(caddy.adminUri().resolve("/config/")).timeout(TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, config.statusCode());
    assertTrue(config.body().contains("\"" + caddy.serverName() + "\""), config.body());
  }

  private static String engineRootDir(String dockerHost, Testbed bed) throws Exception {
    Result r = run(List.of(bed.dockerCli().toString(), "info", "--format", "{{.DockerRootDir}}"), Map.of("DOCKER_HOST", dockerHost));
    assertEquals(0, r.exit(), r.output());
    return r.output().strip();
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    Process p = pb.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        in.transferTo(out);
      } catch (IOException ignored) {
        // the process ended; what was read is kept
      }
    });
    reader.start();
    if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out after " + TIMEOUT + ": " + command);
    }
    reader.join(TIMEOUT.toMillis());
    return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
  }

  private static void write(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** Reads the HTTP/1.1 response head byte by byte so no HTTP/2 bytes after it are consumed. */
  private static String readHead(SocketChannel ch) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (ch.read(one) < 0) {
        throw new IOException("connection closed in the response head: " + head.toString(StandardCharsets.US_ASCII));
      }
      head.write(one.get(0));
      byte[] b = head.toByteArray();
      int n = b.length;
      if (n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n') {
        return head.toString(StandardCharsets.US_ASCII);
      }
    }
  }
}
