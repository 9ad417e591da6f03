package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the readiness check makes of the answers of its commands. */
class SshReadinessTest {

  final List<List<String>> ran = new ArrayList<>();

  SshReadiness.Runner host(Map<String, ExecResult> answers) {
    return argv -> {
      ran.add(argv);
      return answers.getOrDefault(String.join(" ", argv), new ExecResult(0, "ok", ""));
    };
  }

  @Test
  void aBareHostNamesDockerComposeAndRouterWithWhatEachCheckSaid() {
    Map<String, ExecResult> bare = Map.of(
        "docker info --format {{.ServerVersion}}", new ExecResult(127, "", "sh: 1: docker: not found"),
        "docker compose version", new ExecResult(127, "", "sh: 1: docker: not found"),
        "docker-compose version", new ExecResult(127, "", "sh: 1: docker-compose: not found"),
        "caddy version", new ExecResult(127, "", "sh: 1: caddy: not found"));
    Map<String, String> missing = new SshReadiness(List.of("docker", "compose", "router"), SshOptions.defaults()).missing(host(bare));
    assertEquals(List.of("docker", "compose", "router"), List.copyOf(missing.keySet()));
    assertTrue(missing.get("docker").contains("docker info --format {{.ServerVersion}} not found"), missing.toString());
    assertTrue(missing.get("router").contains("caddy version not found"), missing.toString());
    HostNotReadyException e = new HostNotReadyException("i-1 (debian@192.0.2.1:22)", List.copyOf(missing.keySet()), "x");
    assertTrue(e.getMessage().contains("missing docker, compose, router"), e.getMessage());
  }

  @Test
  void anEngineThatRefusesTheUserIsMissingDockerAndComposeV1Counts() {
    Map<String, ExecResult> answers = Map.of(
        "docker info --format {{.ServerVersion}}", new ExecResult(1, "",
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"),
        "docker compose version", new ExecResult(125, "", "docker: 'compose' is not a docker command."));
    Map<String, String> missing = new SshReadiness(List.of("docker", "compose", "router"), SshOptions.defaults()).missing(host(answers));
    assertEquals(List.of("docker"), List.copyOf(missing.keySet()), "docker-compose (v1) answers for compose: " + missing);
    assertTrue(missing.get("docker").contains("exited 1: permission denied"), missing.toString());
    assertTrue(ran.contains(List.of("docker-compose", "version")));
  }

  @Test
  void onlyWhatIsRequiredIsChecked() {
    Map<String, String> missing = new SshReadiness(List.of("docker"), SshOptions.defaults())
        .missing(host(Map.of("caddy version", new ExecResult(127, "", "not found"))));
    assertTrue(missing.isEmpty(), missing.toString());
    assertEquals(List.of(List.of("docker", "info", "--format", "{{.ServerVersion}}")), ran);
  }

  @Test
  void theChecksRunTheDeployersDockerCommandAndLookForItsRouter() {
    SshReadiness.Target sudoTraefik = new SshReadiness.Target(List.of("sudo", "docker"), "traefik", "traefik:v2.11");
    Map<String, String> missing = new SshReadiness(List.of("docker", "compose", "router"), SshOptions.defaults(), sudoTraefik)
        .missing(host(Map.of("sudo docker image inspect --format {{.Id}} traefik:v2.11",
            new ExecResult(1, "", "Error: No such image: traefik:v2.11"))));
    assertEquals(List.of("router"), List.copyOf(missing.keySet()), missing.toString());
    assertTrue(missing.get("router").contains("No such image: traefik:v2.11"), missing.toString());
    assertEquals(List.of(List.of("sudo", "docker", "info", "--format", "{{.ServerVersion}}"),
        List.of("sudo", "docker", "compose", "version"),
        List.of("sudo", "docker", "image", "inspect", "--format", "{{.Id}}", "traefik:v2.11")), ran);
    ran.clear();
    // the plain router needs nothing on the host
    assertTrue(new SshReadiness(List.of("router"), SshOptions.defaults(), new SshReadiness.Target(List.of("docker"), "plain", "x"))
        .missing(host(Map.of())).isEmpty());
    assertEquals(List.of(), ran);
  }

  @Test
  void theTargetIsReadFromThePreviewSectionTheDeployerReads() {
    SshReadiness.Target t = SshReadiness.Target.of(dev.byop.core.ByopConfig.of(Map.of("preview", Map.of(
        "docker", Map.of("remote", List.of("sudo", "-n", "docker")), "router", "traefik",
        "traefik", Map.of("image", "traefik:v3.1")))));
    assertEquals(new SshReadiness.Target(List.of("sudo", "-n", "docker"), "traefik", "traefik:v3.1"), t);
    SshReadiness.Target caddy = SshReadiness.Target.of(dev.byop.core.ByopConfig.of(Map.of("preview",
        Map.of("router", Map.of("adminPort", 2019)))));
    assertEquals(new SshReadiness.Target(List.of("docker"), "caddy", "traefik:v2.11"), caddy);
    assertEquals(SshReadiness.Target.defaults(), SshReadiness.Target.of(dev.byop.core.ByopConfig.of(Map.of())));
  }
}
