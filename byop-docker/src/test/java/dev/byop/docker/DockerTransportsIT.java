package dev.byop.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine reached the ways {@code DOCKER_HOST} allows besides a local socket, for real: {@code tcp://} with TLS
 * (socat's OpenSSL in front of the bed's engine, verifying byop's client certificate; byop verifying the engine's
 * against the CA and the host name) and {@code ssh://} to a VPS host of the bed ({@code docker system dial-stdio}
 * there, as the Docker CLI does).
 */
class DockerTransportsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path good;
  static Path otherCa;
  static Path wrongName;
  static Process socat;
  static int port;

  @BeforeAll
  static void tlsInFrontOfTheEngine() throws Exception {
    Testbed bed = Testbed.get();
    good = Files.createDirectory(dir.resolve("good"));
    otherCa = Files.createDirectory(dir.resolve("other-ca"));
    wrongName = Files.createDirectory(dir.resolve("wrong-name"));
    Path server = Files.createDirectory(dir.resolve("server"));
    ca(server, "byop-test-ca");
    cert(server, "server", "127.0.0.1", true, false);
    for (Path client : List.of(good, otherCa, wrongName)) {
      Files.copy(server.resolve("ca.pem"), client.resolve("ca.pem"));
      Files.copy(server.resolve("ca-key.pem"), client.resolve("ca-key.pem"));
    }
    cert(good, "cert", "byop-client", false, true); // PKCS#1 key, as OpenSSL 1.x's genrsa writes it
    cert(wrongName, "cert", "byop-client", false, false);
    ca(otherCa, "another-ca");
    cert(otherCa, "cert", "byop-client", false, false);
    Files.copy(server.resolve("ca.pem"), otherCa.resolve("client-ca.pem"));
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String socket = java.net.URI.create(bed.dockerHost()).getPath();
    socat = new ProcessBuilder("socat", "OPENSSL-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork,cert="
        + server.resolve("server.pem") + ",key=" + server.resolve("server-key.pem") + ",cafile="
        + server.resolve("ca.pem") + ",verify=1", "UNIX-CONNECT:" + socket)
        .redirectErrorStream(true).redirectOutput(dir.resolve("socat.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try (Socket probe = new Socket("127.0.0.1", port)) {
        break;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) throw new AssertionError("socat did not listen: " + log());
        Thread.sleep(20);
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (socat != null) {
      socat.destroy();
      socat.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tlsWithTheClientsCertificateReachesTheEngine() {
    DockerEndpoint ep = DockerEndpoint.fromEnvironment(Map.of("DOCKER_HOST", "tcp://127.0.0.1:" + port,
        "DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", good.toString()));
    assertEquals(good, ep.tls());
    try (DockerClient docker = DockerClient.connect(ep)) {
      assertFalse(docker.version().version().isBlank());
      docker.ping();
    }
  }

  @Test
  void anEngineWhoseCertificateTheCaDidNotSignOrForAnotherNameIsRefused() {
    // the client trusts another CA: the engine's certificate is not accepted
    DockerException untrusted = assertThrows(DockerException.class, () -> DockerClient.connect(
        DockerEndpoint.parse("tcp://127.0.0.1:" + port).withTls(otherCa)).version());
    assertTrue(untrusted.getMessage().contains("127.0.0.1:" + port), untrusted.getMessage());
    // the certificate names 127.0.0.1; reached as localhost it does not match the host name
    DockerException name = assertThrows(DockerException.class, () -> DockerClient.connect(
        DockerEndpoint.parse("tcp://localhost:" + port).withTls(good)).version());
    assertTrue(name.getMessage().contains("localhost:" + port), name.getMessage());
    // TLS without verification is not offered
    IllegalArgumentException plain = assertThrows(IllegalArgumentException.class, () -> DockerEndpoint
        .fromEnvironment(Map.of("DOCKER_HOST", "tcp://127.0.0.1:" + port, "DOCKER_TLS", "1")));
    assertTrue(plain.getMessage().contains("DOCKER_TLS_VERIFY"), plain.getMessage());
    IOException missing = assertThrows(IOException.class, () -> dev.byop.docker.internal.PemFiles.context(
        dir.resolve("nothing-here")));
    assertTrue(missing.getMessage().contains("ca.pem"), missing.getMessage());
  }

  @Test
  void sshReachesTheEngineOfAVpsHostAsTheCliDoes() throws Exception {
    Testbed.SshHost vps = Testbed.get().vps(1);
    DockerEndpoint ep = DockerEndpoint.parse("ssh://" + vps.user() + "@" + vps.address() + ":" + vps.port())
        .withSshCommand(List.of("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=" + vps.knownHosts(), "-o", "IdentitiesOnly=yes", "-i",
            vps.privateKey().toString()));
    assertEquals(List.of("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=" + vps.knownHosts(), "-o", "IdentitiesOnly=yes", "-i", vps.privateKey().toString(),
        "-o", "ConnectTimeout=30", "-T", "-l", vps.user(), "-p", Integer.toString(vps.port()), "--", vps.address(),
        "docker", "system", "dial-stdio"), ep.sshArgv());
    try (DockerClient docker = DockerClient.connect(ep);
         DockerResponse info = docker.execute("GET", "/info", Map.of(), null)) {
      assertEquals(200, info.status());
      // the VPS host's own engine, not this machine's
      assertEquals("byop-vps1", JSON.readTree(info.bodyAsString()).path("Name").asText());
      assertFalse(docker.version().version().isBlank());
    }
    DockerException unreachable = assertThrows(DockerException.class, () -> DockerClient.connect(
        DockerEndpoint.parse("ssh://nobody@" + vps.address() + ":" + vps.port()).withSshCommand(List.of("ssh", "-F",
            "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="
            + vps.knownHosts(), "-i", vps.privateKey().toString()))).version());
    assertTrue(unreachable.getMessage().contains("ssh://nobody@"), unreachable.getMessage());
    for (String bad : new String[] {"ssh://-oProxyCommand=x", "ssh://u:pw@host", "ssh://host/path"}) {
      assertThrows(IllegalArgumentException.class, () -> DockerEndpoint.parse(bad), bad);
    }
  }

  private static void ca(Path d, String name) throws Exception {
    openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=" + name);
  }

  private static void cert(Path d, String file, String name, boolean serverAuth, boolean pkcs1) throws Exception {
    if (pkcs1) {
      openssl(d, "genrsa", "-traditional", "-out", file + "-key.pem", "2048");
      assertTrue(Files.readString(d.resolve(file + "-key.pem")).contains("BEGIN RSA PRIVATE KEY"));
    } else {
      openssl(d, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file + "-key.pem");
    }
    openssl(d, "req", "-new", "-key", file + "-key.pem", "-out", file + ".csr", "-subj", "/CN=" + name);
    Files.writeString(d.resolve(file + ".ext"), serverAuth ? "subjectAltName=IP:" + name + "\nextendedKeyUsage=serverAuth\n"
        : "extendedKeyUsage=clientAuth\n");
    openssl(d, "x509", "-req", "-in", file + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
        "-out", file + ".pem", "-days", "2", "-extfile", file + ".ext");
    if (!serverAuth && !file.equals("cert")) throw new IllegalStateException(file);
    if (file.equals("cert")) Files.move(d.resolve("cert-key.pem"), d.resolve("key.pem"));
  }

  private static void openssl(Path d, String... args) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add("openssl");
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(d.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError(argv + ": " + out);
  }

  private static String log() {
    try {
      return Files.readString(dir.resolve("socat.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }
}
