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
  void databaseNamesAreSafeIdentifiers() {
    String name = Testbed.Postgres.databaseName("My-Test$Class; drop table x");
    assertTrue(name.matches("t_[a-z0-9_]+"), name);
    assertTrue(name.length() <= 63, name);
  }
}
