package dev.byop.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * byop finds the engine as the Docker CLI does: contexts are made with the real CLI, and for each combination of
 * {@code DOCKER_HOST}, {@code DOCKER_CONTEXT} and the config's current context, the endpoint byop picks is the one
 * {@code docker context inspect} reports; a context pointing at the bed's engine is then used for real.
 */
class DockerDiscoveryIT {
  @TempDir static Path home;
  static Path config;
  static Path cli;
  static String engineHost;

  @BeforeAll
  static void contexts() throws Exception {
    Testbed bed = Testbed.get();
    cli = bed.dockerCli();
    engineHost = bed.dockerHost();
    config = home.resolve(".docker");
    cli(Map.of(), "context", "create", "bed", "--docker", "host=" + engineHost);
    cli(Map.of(), "context", "create", "far", "--docker", "host=tcp://127.0.0.1:2999");
    cli(Map.of(), "context", "create", "odd.name+1", "--docker", "host=unix:///tmp/byop-odd-name.sock");
  }

  @Test
  void eachCombinationPicksWhatTheCliPicks() throws Exception {
    List<Map<String, String>> cases = new ArrayList<>();
    cases.add(Map.of());
    cases.add(Map.of("DOCKER_CONTEXT", "far"));
    cases.add(Map.of("DOCKER_CONTEXT", "odd.name+1"));
    cases.add(Map.of("DOCKER_CONTEXT", "default"));
    cases.add(Map.of("DOCKER_HOST", "unix:///tmp/byop-h.sock"));
    cases.add(Map.of("DOCKER_HOST", "unix:///tmp/byop-h.sock", "DOCKER_CONTEXT", "far"));
    cases.add(Map.of("DOCKER_HOST", "tcp://127.0.0.1:2375"));
    for (String current : new String[] {null, "bed", "far"}) {
      if (current != null) cli(Map.of(), "context", "use", current);
      for (Map<String, String> env : cases) {
        String[] theirs = cli(env, "context", "inspect", "--format", "{{.Name}}|{{.Endpoints.docker.Host}}")
            .strip().split("\\|", 2);
        DockerDiscovery.Found ours = DockerDiscovery.discover(env(env), home);
        String what = "current=" + current + " env=" + env + " -> " + ours;
        assertEquals(theirs[1], ours.endpoint().toString(), what);
        assertEquals(theirs[0], ours.context(), what);
        assertFalse(ours.source().isBlank(), what);
      }
    }
    cli(Map.of(), "context", "use", "default");
  }

  @Test
  void aContextsTlsFilesComeFromTheContextStore() throws Exception {
    Path certs = Files.createDirectories(home.resolve("certs"));
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
        "-out", "cert.pem", "-days", "1", "-subj", "/CN=byop-test").directory(certs.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl failed");
    Files.copy(certs.resolve("cert.pem"), certs.resolve("ca.pem"));
    cli(Map.of(), "context", "create", "secure", "--docker", "host=tcp://127.0.0.1:2376,ca=" + certs.resolve("ca.pem")
        + ",cert=" + certs.resolve("cert.pem") + ",key=" + certs.resolve("key.pem"));
    DockerDiscovery.Found found = DockerDiscovery.discover(env(Map.of("DOCKER_CONTEXT", "secure")), home);
    Path tls = found.endpoint().tls();
    assertTrue(tls != null && Files.readString(tls.resolve("ca.pem")).equals(Files.readString(certs.resolve("ca.pem")))
        && Files.exists(tls.resolve("key.pem")), String.valueOf(tls));
    cli(Map.of(), "context", "create", "insecure", "--docker", "host=tcp://127.0.0.1:2376,ca=" + certs.resolve("ca.pem")
        + ",skip-tls-verify=true");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DockerDiscovery.discover(env(Map.of("DOCKER_CONTEXT", "insecure")), home));
    assertTrue(e.getMessage().contains("'insecure'") && e.getMessage().contains("verif"), e.getMessage());
  }

  @Test
  void theCurrentContextIsUsedForRealAndTheReportSaysWhy() throws Exception {
    cli(Map.of(), "context", "use", "bed");
    try {
      DockerDiscovery.Found found = DockerDiscovery.discover(env(Map.of()), home);
      assertEquals("bed", found.context());
      assertTrue(found.source().startsWith("currentContext=bed in " + config.resolve("config.json")), found.source());
      try (DockerClient docker = DockerClient.connect(found.endpoint())) {
        assertFalse(docker.version().version().isBlank());
      }
    } finally {
      cli(Map.of(), "context", "use", "default");
    }
  }

  @Test
  void aMissingContextIsNamedAsTheCliNamesIt() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DockerDiscovery.discover(env(Map.of("DOCKER_CONTEXT", "nope")), home));
    assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains("DOCKER_CONTEXT=nope"), e.getMessage());
    String theirs = cliFailing(Map.of("DOCKER_CONTEXT", "nope"), "context", "inspect");
    assertTrue(theirs.contains("\"nope\" does not exist"), theirs);
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> DockerDiscovery.discover(env(Map.of("DOCKER_CONTEXT", "../../etc")), home));
    assertTrue(bad.getMessage().contains("'../../etc'") && bad.getMessage().contains("names match"), bad.getMessage());
    cliFailing(Map.of("DOCKER_CONTEXT", "../../etc"), "context", "inspect");
  }

  @Test
  void withoutAContextTheRootlessSocketComesBeforeTheDefault(@TempDir Path runtime) throws Exception {
    // a rootless engine listens on $XDG_RUNTIME_DIR/docker.sock: here a link to the bed's engine socket
    Path socket = Path.of(java.net.URI.create(engineHost).getPath());
    Files.createSymbolicLink(runtime.resolve("docker.sock"), socket);
    DockerDiscovery.Found found = DockerDiscovery.discover(env(Map.of("XDG_RUNTIME_DIR", runtime.toString())), home);
    assertEquals("rootless socket", found.source());
    assertEquals("unix://" + runtime.resolve("docker.sock"), found.endpoint().toString());
    try (DockerClient docker = DockerClient.connect(found.endpoint())) {
      assertFalse(docker.version().version().isBlank());
    }
    Path empty = runtime.resolve("empty");
    Files.createDirectory(empty);
    assertEquals("default socket",
        DockerDiscovery.discover(env(Map.of("XDG_RUNTIME_DIR", empty.toString())), home).source());
  }

  /** What both byop and the CLI see: the case's variables and the test's config directory, nothing inherited. */
  private static Map<String, String> env(Map<String, String> vars) {
    Map<String, String> env = new HashMap<>(vars);
    env.put("DOCKER_CONFIG", config.toString());
    return env;
  }

  private static String cli(Map<String, String> vars, String... args) throws Exception {
    Result r = run(vars, args);
    if (r.exit != 0) throw new AssertionError("docker " + String.join(" ", args) + " exited " + r.exit + ": " + r.out);
    return r.out;
  }

  private static String cliFailing(Map<String, String> vars, String... args) throws Exception {
    Result r = run(vars, args);
    assertTrue(r.exit != 0, "docker " + String.join(" ", args) + " succeeded: " + r.out);
    return r.out;
  }

  private record Result(int exit, String out) {}

  private static Result run(Map<String, String> vars, String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>();
    argv.add(cli.toString());
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/bin:/bin");
    pb.environment().put("HOME", home.toString());
    pb.environment().putAll(env(vars));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("docker " + String.join(" ", args) + " did not end");
    }
    return new Result(p.exitValue(), out);
  }
}
