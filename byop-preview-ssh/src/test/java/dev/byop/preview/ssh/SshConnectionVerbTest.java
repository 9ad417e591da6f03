package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the exec debug line (the round-trip profile) shows of a command: its verb, never its arguments. */
class SshConnectionVerbTest {

  @Test
  void optionValuesScriptsPathsAndWordsAfterAShortOptionAreNeverShown() {
    String login = SshConnection.verb(List.of("docker", "login", "--password", "hunter", "--username", "bob", "x.example"));
    assertFalse(login.contains("hunter") || login.contains("bob"), login);
    String run = SshConnection.verb(List.of("docker", "run", "-e", "secretword", "image"));
    assertEquals("docker run", run);
    assertEquals("sh", SshConnection.verb(List.of("sh", "-c", "echo $$ >\"$0\" && exec \"$@\"", "/home/u/.pid", "docker", "load")));
    assertEquals("rm", SshConnection.verb(List.of("rm", "-rf", "--", "/home/u/byop/x")));
    assertEquals("?", SshConnection.verb(List.of("a b; rm -rf /")));
    assertEquals("", SshConnection.verb(List.of()));
  }

  @Test
  void showsTheCommandAndItsSubcommands() {
    assertEquals("docker image inspect", SshConnection.verb(List.of("docker", "image", "inspect", "--format", "{{.Id}}", "x:1")));
    assertEquals("docker-compose up", SshConnection.verb(List.of("docker-compose", "--project-name", "byop-p1", "--file",
        "/home/u/byop/byop-p1/docker-compose.yml", "up", "-d", "--remove-orphans")));
    assertEquals("docker compose up", SshConnection.verb(List.of("/usr/bin/docker", "compose", "--project-name", "byop-p1",
        "--file", "f.yml", "up", "-d")));
    assertEquals("sudo docker ps", SshConnection.verb(List.of("sudo", "docker", "ps", "-aq")));
  }
}
