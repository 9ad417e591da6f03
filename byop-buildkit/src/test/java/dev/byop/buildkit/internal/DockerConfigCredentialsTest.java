package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerConfigCredentialsTest {
  @Test
  void inlineAuthsIdentityTokensAndDockerHubKey(@TempDir Path dir) throws Exception {
    String auth = Base64.getEncoder().encodeToString("alice:pa:ss".getBytes(StandardCharsets.UTF_8));
    Path cfg = Files.writeString(dir.resolve("config.json"), "{\"auths\":{"
        + "\"https://127.0.0.1:5000/v2/\":{\"auth\":\"" + auth + "\"},"
        + "\"https://index.docker.io/v1/\":{\"auth\":\"" + auth + "\"},"
        + "\"ghcr.example\":{\"identitytoken\":\"tok\"}},"
        + "\"credHelpers\":{\"helper.example\":\"byop-no-such-helper\"}}");
    DockerConfigCredentials c = new DockerConfigCredentials(cfg);
    assertEquals(Optional.of(new AuthService.Creds("alice", "pa:ss")), c.lookup("127.0.0.1:5000"));
    assertEquals("alice", c.lookup("registry-1.docker.io").orElseThrow().username());
    assertEquals(new AuthService.Creds("", "tok"), c.lookup("ghcr.example").orElseThrow());
    assertTrue(c.lookup("helper.example").isEmpty(), "a missing helper means anonymous, not a failure");
    assertTrue(c.lookup("other.example").isEmpty());
    assertTrue(new DockerConfigCredentials(dir.resolve("none.json")).lookup("x").isEmpty());
    assertTrue(!new AuthService.Creds("u", "hunter2").toString().contains("hunter2"));
  }
}
