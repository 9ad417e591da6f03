package dev.byop.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ConfigException;
import dev.byop.core.Credentials;
import dev.byop.core.Settings;
import dev.byop.core.SecretRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialResolverTest {
  @TempDir Path dir;
  Path config;
  Path bin;

  @BeforeEach
  void setUp() throws IOException {
    config = dir.resolve("docker/config.json");
    Files.createDirectories(config.getParent());
    bin = Files.createDirectories(dir.resolve("bin"));
  }

  private CredentialResolver resolver() {
    return CredentialResolver.builder(Map.of()).dockerConfig(config).helperPath(List.of(bin)).build();
  }

  private void writeConfig(String json) throws IOException {
    Files.writeString(config, json);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A fake docker-credential-NAME: records its arguments and stdin, prints the given text, exits with code. */
  private Path helper(String name, String stdout, int exitCode) throws IOException {
    Path out = dir.resolve(name + ".out");
    Files.writeString(out, stdout);
    Path script = bin.resolve("docker-credential-" + name);
    Files.writeString(script, "#!/bin/sh\n"
        + "echo \"$@\" > '" + dir.resolve(name + ".args") + "'\n"
        + "cat > '" + dir.resolve(name + ".stdin") + "'\n"
        + "cat '" + out + "'\n"
        + "exit " + exitCode + "\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  private String recorded(String name, String what) throws IOException {
    return Files.readString(dir.resolve(name + "." + what)).trim();
  }

  @Test
  void explicitCredentialsWinOverTheDockerConfig() throws IOException {
    writeConfig("{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" + b64("fromfile:pw1") + "\"}}}");
    CredentialResolver r = CredentialResolver.builder(Map.of()).dockerConfig(config)
        .credentials("127.0.0.1:5000", Credentials.basic("explicit", "pw2")).build();
    assertEquals("explicit", r.resolve("127.0.0.1:5000").orElseThrow().username());
  }

  @Test
  void explicitCredentialsFromTheRegistrySection() {
    Settings section = Settings.of(Map.of("address", "127.0.0.1:5000", "username", "ci",
        "password", SecretRef.Env.in("REG_PW", Map.of("REG_PW", "s3cret"))));
    CredentialResolver r = CredentialResolver.builder(Map.of()).noDockerConfig().settings(section).build();
    Credentials c = r.resolve("127.0.0.1:5000").orElseThrow();
    assertEquals("ci", c.username());
    assertEquals("s3cret", c.secret().reveal());
  }

  @Test
  void authsEntryIsDecodedAndKeysAreMatchedByHost() throws IOException {
    writeConfig("{\"auths\":{\"http://127.0.0.1:5000/v2/\":{\"auth\":\"" + b64("user:pa:ss") + "\"}}}");
    Credentials c = resolver().resolve("127.0.0.1:5000").orElseThrow();
    assertEquals("user", c.username());
    assertEquals("pa:ss", c.secret().reveal());
    assertFalse(c.toString().contains("pa:ss"));
    assertTrue(resolver().resolve("127.0.0.1:5001").isEmpty());
  }

  @Test
  void identityTokenInAuths() throws IOException {
    writeConfig("{\"auths\":{\"reg.example\":{\"auth\":\"" + b64("u:p") + "\",\"identitytoken\":\"idt\"}}}");
    Credentials c = resolver().resolve("reg.example").orElseThrow();
    assertTrue(c.isIdentityToken());
    assertEquals("idt", c.secret().reveal());
  }

  @Test
  void dockerHubUsesTheV1Key() throws IOException {
    writeConfig("{\"auths\":{\"" + CredentialResolver.DOCKER_HUB_KEY + "\":{\"auth\":\"" + b64("hub:pw") + "\"}}}");
    assertEquals("hub", resolver().resolve("docker.io").orElseThrow().username());
    assertEquals("hub", resolver().resolve("index.docker.io").orElseThrow().username());
  }

  @Test
  void perHostHelperGetsTheServerOnStdin() throws IOException {
    helper("fake", "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"helped\",\"Secret\":\"hpw\"}", 0);
    writeConfig("{\"credHelpers\":{\"127.0.0.1:5000\":\"fake\"},"
        + "\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" + b64("fromfile:pw1") + "\"}}}");
    Credentials c = resolver().resolve("127.0.0.1:5000").orElseThrow();
    assertEquals("helped", c.username());
    assertEquals("hpw", c.secret().reveal());
    assertEquals("get", recorded("fake", "args"));
    assertEquals("127.0.0.1:5000", recorded("fake", "stdin"));
  }

  @Test
  void credsStoreForDockerHubWithAnIdentityToken() throws IOException {
    helper("store", "{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}", 0);
    writeConfig("{\"credsStore\":\"store\"}");
    Credentials c = resolver().resolve("docker.io").orElseThrow();
    assertTrue(c.isIdentityToken());
    assertEquals("refresh", c.secret().reveal());
    assertEquals(CredentialResolver.DOCKER_HUB_KEY, recorded("store", "stdin"));
  }

  @Test
  void helperWithoutCredentialsFallsBackToAuths() throws IOException {
    helper("empty", "credentials not found in native keychain", 1);
    writeConfig("{\"credsStore\":\"empty\",\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" + b64("f:p") + "\"}}}");
    assertEquals("f", resolver().resolve("127.0.0.1:5000").orElseThrow().username());
    writeConfig("{\"credsStore\":\"empty\"}");
    assertEquals(Optional.empty(), resolver().resolve("127.0.0.1:5000"));
  }

  @Test
  void failingHelperIsAConfigErrorNamingIt() throws IOException {
    helper("broken", "keychain locked", 3);
    writeConfig("{\"credHelpers\":{\"127.0.0.1:5000\":\"broken\"}}");
    ConfigException e = assertThrows(ConfigException.class, () -> resolver().resolve("127.0.0.1:5000"));
    assertTrue(e.getMessage().contains("docker-credential-broken"), e.getMessage());
    assertTrue(e.getMessage().contains("exit code 3"), e.getMessage());
    assertEquals("credHelpers.127.0.0.1:5000", e.key());
  }

  @Test
  void missingOrBadlyNamedHelperIsRefused() throws IOException {
    writeConfig("{\"credHelpers\":{\"127.0.0.1:5000\":\"absent\"}}");
    ConfigException e = assertThrows(ConfigException.class, () -> resolver().resolve("127.0.0.1:5000"));
    assertTrue(e.getMessage().contains("docker-credential-absent"), e.getMessage());
    writeConfig("{\"credsStore\":\"../../bin/sh\"}");
    e = assertThrows(ConfigException.class, () -> resolver().resolve("127.0.0.1:5000"));
    assertTrue(e.getMessage().contains("must be letters"), e.getMessage());
  }

  @Test
  void noConfigFileMeansNoCredentials() {
    assertEquals(Optional.empty(), resolver().resolve("127.0.0.1:5000"));
  }

  @Test
  void dockerConfigEnvironmentVariableIsHonoured() throws IOException {
    writeConfig("{\"auths\":{\"r.example\":{\"auth\":\"" + b64("envuser:p") + "\"}}}");
    CredentialResolver r = CredentialResolver.builder(Map.of("DOCKER_CONFIG", config.getParent().toString())).build();
    assertEquals("envuser", r.resolve("r.example").orElseThrow().username());
  }

  @Test
  void normalizeFoldsSchemesPathsAndHubNames() {
    assertEquals("127.0.0.1:5000", CredentialResolver.normalize("https://127.0.0.1:5000/v1/"));
    assertEquals("docker.io", CredentialResolver.normalize(CredentialResolver.DOCKER_HUB_KEY));
    assertEquals("docker.io", CredentialResolver.normalize("registry-1.docker.io"));
    assertEquals("ghcr.io", CredentialResolver.normalize("GHCR.io"));
  }
}
