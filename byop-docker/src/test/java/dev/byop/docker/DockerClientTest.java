package dev.byop.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import dev.byop.docker.internal.BufferedIn;
import dev.byop.docker.internal.ChunkedInputStream;
import dev.byop.docker.internal.ChunkedOutputStream;
import dev.byop.docker.internal.Http1;
import org.junit.jupiter.api.Test;

class DockerClientTest {

  @Test
  void parsesEndpoints() {
    assertEquals("/var/run/docker.sock", DockerEndpoint.fromEnvironment(Map.of()).socketPath().toString());
    assertEquals("/tmp/x.sock",
        DockerEndpoint.fromEnvironment(Map.of("DOCKER_HOST", "unix:///tmp/x.sock")).socketPath().toString());
    assertTrue(DockerEndpoint.parse("tcp://127.0.0.1:2375").isTcp());
    assertTrue(DockerEndpoint.parse("ssh://h").isSsh());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DockerEndpoint.parse("npipe://h"));
    assertTrue(e.getMessage().contains("npipe://h"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DockerEndpoint.parse("tcp://host"));
    // TLS as the CLI reads it: DOCKER_TLS_VERIFY with DOCKER_CERT_PATH, else ~/.docker
    assertEquals(java.nio.file.Path.of("/certs"), DockerEndpoint.fromEnvironment(Map.of("DOCKER_HOST", "tcp://h:2376",
        "DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", "/certs")).tls());
    assertEquals(java.nio.file.Path.of("/home/u/.docker"), DockerEndpoint.fromEnvironment(Map.of("DOCKER_HOST",
        "tcp://h:2376", "DOCKER_TLS_VERIFY", "1", "HOME", "/home/u")).tls());
    assertThrows(IllegalArgumentException.class, () -> DockerEndpoint.parse("unix:///x.sock").withTls(
        java.nio.file.Path.of("/certs")));
  }

  @Test
  void registryAuthHeaderIsBase64UrlJsonAndToStringHidesSecrets() {
    RegistryAuth a = RegistryAuth.basic("u", "s3cr?t>>", "127.0.0.1:5000");
    String json = new String(Base64.getUrlDecoder().decode(a.toHeaderValue()), StandardCharsets.UTF_8);
    assertEquals("{\"username\":\"u\",\"password\":\"s3cr?t>>\",\"serveraddress\":\"127.0.0.1:5000\"}", json);
    assertFalse(a.toString().contains("s3cr"), a.toString());
    String tok = new String(Base64.getUrlDecoder().decode(RegistryAuth.identityToken("T", "r").toHeaderValue()),
        StandardCharsets.UTF_8);
    assertEquals("{\"identitytoken\":\"T\",\"serveraddress\":\"r\"}", tok);
  }

  @Test
  void validatesNamesAndEncodesPaths() {
    DockerClient.checkImageName("127.0.0.1:5000/a/b-c_d.e:1");
    DockerClient.checkImageName("sha256:0123abcd");
    for (String bad : List.of("", "-x", "a b", "a?b", "a#b", "../x", "a\nb")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DockerClient.checkImageName(bad));
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> DockerClient.checkTag("-t"));
    assertEquals("a/b:1", DockerClient.encodePath("a/b:1"));
    assertEquals("a%20b", DockerClient.encodePath("a b"));
    assertTrue(DockerClient.compareVersions("1.41", "1.47") < 0);
    assertTrue(DockerClient.compareVersions("1.100", "1.47") > 0);
  }

  @Test
  void chunkedRoundTripAndHeadParsing() throws Exception {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    wire.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
        .getBytes(StandardCharsets.US_ASCII));
    ChunkedOutputStream c = new ChunkedOutputStream(wire);
    byte[] payload = new byte[100_000];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = (byte) i;
    }
    c.write(payload, 0, 70_000);
    c.write(payload, 70_000, 30_000);
    c.finish();
    wire.write("trailing".getBytes(StandardCharsets.US_ASCII));
    BufferedIn in = new BufferedIn(new ByteArrayInputStream(wire.toByteArray()));
    Http1.Head head = Http1.readHead(in);
    assertEquals(200, head.status());
    assertEquals("1", head.first("x-a"));
    assertTrue(Http1.body("GET", head, in) instanceof ChunkedInputStream);
    byte[] got = Http1.body("GET", head, in).readAllBytes();
    assertEquals(payload.length, got.length);
    assertTrue(java.util.Arrays.equals(payload, got));
    // bytes after the body stay in the buffer (what an upgraded connection relies on)
    assertEquals("trailing", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
  }
}
