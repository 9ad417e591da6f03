package dev.byop.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the env file and the errors when the bed is missing; no peer needed. */
class TestbedTest {

  @TempDir Path dir;

  @Test
  void missingFileNamesTheFileAndTheStartCommand() {
    Path missing = dir.resolve("nope/env");
    TestbedUnavailableException e = assertThrows(TestbedUnavailableException.class, () -> Testbed.load(missing));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("scripts/testbed start"), e.getMessage());
  }

  @Test
  void missingKeyNamesTheKey() throws Exception {
    Path env = Files.writeString(dir.resolve("env"), "DOCKER_HOST=unix:///x.sock\n");
    Testbed bed = Testbed.load(env);
    TestbedUnavailableException e = assertThrows(TestbedUnavailableException.class, () -> bed.vps(1));
    assertTrue(e.getMessage().contains("VPS1_ADDRESS"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> bed.vps(3));
  }

  @Test
  void parsesValuesWithEqualsSignsAndBuildsSshCommands() throws Exception {
    Path env = Files.writeString(dir.resolve("env"), String.join("\n",
        "# comment", "", "REGISTRY=127.0.0.1:5000", "REGISTRY_USER=byop", "REGISTRY_PASSWORD=a=b",
        "TESTBED_KEY=/k", "TESTBED_KNOWN_HOSTS=/kh", "VPS2_ADDRESS=10.203.2.2", "VPS2_SSH_PORT=22",
        "VPS2_USER=byopvps2", "VPS2_DOCKER_HOST=unix:///s/vps2/docker.sock", "VPS2_REGISTRY=10.203.2.1:5000", ""));
    Testbed bed = Testbed.load(env);
    assertEquals("a=b", bed.registry().password());
    assertFalse(bed.registry().toString().contains("a=b"));
    Testbed.SshHost vps = bed.vps(2);
    assertEquals(Path.of("/s/vps2/docker.sock"), vps.dockerSocket());
    List<String> cmd = vps.sshCommand("docker", "ps");
    assertTrue(cmd.contains("StrictHostKeyChecking=yes"), cmd.toString());
    assertTrue(cmd.contains("UserKnownHostsFile=/kh"), cmd.toString());
    assertEquals(List.of("10.203.2.2", "--", "docker", "ps"), cmd.subList(cmd.size() - 4, cmd.size()));
  }

  @Test
  void enginesOfTheMatrixComeFromTheEnvFileAndCanBeLimited() throws Exception {
    Path env = Files.writeString(dir.resolve("env"), String.join("\n",
        "DOCKER_HOST=unix:///var/run/docker.sock", "DOCKER_CLI=/usr/bin/docker", "REGISTRY=127.0.0.1:5000",
        "DOCKER26_HOST=unix:///s/e26/docker.sock", "DOCKER26_REGISTRY=10.203.26.1:5000", "DOCKER26_ADDRESS=10.203.26.2",
        "DOCKER26_CLI=/r/usr/bin/docker", "DOCKER26_CONFIG=/s/modern-cli", "COMPOSE_V2=/r/usr/bin/docker compose", ""));
    Testbed bed = Testbed.load(env);
    List<Testbed.Engine> engines = bed.engines();
    assertEquals(List.of("docker20", "docker26"), engines.stream().map(Testbed.Engine::name).toList());
    Testbed.Engine old = engines.get(0);
    assertEquals(List.of("docker-compose"), old.compose());
    assertFalse(old.composeV2());
    assertEquals("127.0.0.1", old.address());
    Testbed.Engine e26 = engines.get(1);
    assertEquals(List.of("/r/usr/bin/docker", "compose"), e26.compose());
    assertTrue(e26.composeV2());
    assertFalse(e26.containerdStore());
    assertEquals("10.203.26.1:5000", e26.registry());
    assertEquals(Path.of("/s/e26/docker.sock"), e26.dockerSocket());
    assertEquals("/s/modern-cli", e26.environment().get("DOCKER_CONFIG"));
    // a containerd-store engine the bed did not start: asking for it fails, naming the key
    TestbedUnavailableException e = assertThrows(TestbedUnavailableException.class, bed::docker26Containerd);
    assertTrue(e.getMessage().contains("DOCKER26_CONTAINERD_HOST"), e.getMessage());
    String before = System.getProperty(Testbed.ENGINES_PROPERTY);
    try {
      System.setProperty(Testbed.ENGINES_PROPERTY, "docker26");
      assertEquals(List.of("docker26"), bed.engines().stream().map(Testbed.Engine::name).toList());
      System.setProperty(Testbed.ENGINES_PROPERTY, "docker26-containerd");
      TestbedUnavailableException missing = assertThrows(TestbedUnavailableException.class, bed::engines);
      assertTrue(missing.getMessage().contains("docker26-containerd") && missing.getMessage().contains("--modern"),
          missing.getMessage());
    } finally {
      if (before == null) System.clearProperty(Testbed.ENGINES_PROPERTY);
      else System.setProperty(Testbed.ENGINES_PROPERTY, before);
    }
  }

  @Test
  void databaseNamesAreSafeIdentifiers() {
    String name = Testbed.Postgres.databaseName("My-Test$Class; drop table x");
    assertTrue(name.matches("t_[a-z0-9_]+"), name);
    assertTrue(name.length() <= 63, name);
  }
}
