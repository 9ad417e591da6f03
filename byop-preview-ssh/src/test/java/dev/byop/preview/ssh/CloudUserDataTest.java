package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.preview.ssh.internal.Ed25519HostKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** byop's host key merged into #cloud-config user data with Jackson YAML; the key checked by OpenSSH's own ssh-keygen. */
class CloudUserDataTest {

  static final YAMLMapper YAML = new YAMLMapper();

  @TempDir
  Path dir;

  @Test
  void userDataTryingToSetItsOwnHostKeysOrNotAMappingIsRefusedWithoutQuotingIt() {
    String own = "#cloud-config\nssh_keys:\n  ed25519_private: 'attacker-chosen secret-4711'\n";
    ValidationException e = assertThrows(ValidationException.class, () -> CloudUserData.check(own, false));
    assertTrue(e.getMessage().contains("ssh_keys"), e.getMessage());
    assertFalse(e.getMessage().contains("secret-4711"), e.getMessage());
    ValidationException list = assertThrows(ValidationException.class, () -> CloudUserData.check("#cloud-config\n- a\n- b\n", false));
    assertTrue(list.getMessage().contains("mapping"), list.getMessage());
    ValidationException bad = assertThrows(ValidationException.class,
        () -> CloudUserData.check("#cloud-config\npassword: 'hunter2-secret\n  : [\n", false));
    assertFalse(bad.getMessage().contains("hunter2"), bad.getMessage());
    // a shell script cannot carry a host key: only with accept-new, said so by name
    ValidationException script = assertThrows(ValidationException.class, () -> CloudUserData.check("#!/bin/sh\necho hi\n", false));
    assertEquals("cloud.acceptNewHostKey", script.field());
    CloudUserData.check("#!/bin/sh\necho hi\n", true);
    assertThrows(ValidationException.class, () -> Provisioning.of("ci", "root", SecretRef.value("k"), "/tmp/kh")
        .withUserData("#!/bin/sh\necho hi\n", List.of("docker")));
    assertFalse(CloudUserData.canPin("#!/bin/sh\n"));
  }

  @Test
  void aStringThatLooksLikeYamlStaysAStringAndTheKeyIsTheOnlyOne() throws Exception {
    Ed25519HostKey key = Ed25519HostKey.generate();
    assertFalse(key.toString().contains("PRIVATE"), key.toString());
    String ud = CloudUserData.withHostKey("#cloud-config\nruncmd:\n  - \"echo 'x'\\nssh_deletekeys: false\"\nssh_deletekeys: false\n", key);
    assertTrue(ud.startsWith("#cloud-config\n"), ud);
    JsonNode n = YAML.readTree(ud);
    assertTrue(n.path("ssh_deletekeys").asBoolean(), ud);
    assertEquals("echo 'x'\nssh_deletekeys: false", n.path("runcmd").path(0).asText());
    assertEquals(2, n.path("ssh_keys").size());
    assertEquals(key.publicLine(), n.path("ssh_keys").path("ed25519_public").asText());
    assertEquals(key.privatePem().reveal(), n.path("ssh_keys").path("ed25519_private").asText());
    // none: a #cloud-config with the key alone
    assertEquals(key.publicLine(), YAML.readTree(CloudUserData.withHostKey(null, key)).path("ssh_keys").path("ed25519_public").asText());
  }

  @Test
  void theGeneratedPrivateKeyIsOneOpenSshReadsAndDerivesThePublicHalfAndFingerprintFrom() throws Exception {
    Ed25519HostKey key = Ed25519HostKey.generate();
    Path f = dir.resolve("k");
    Files.writeString(f, key.privatePem().reveal());
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertEquals(key.publicLine(), run(List.of("ssh-keygen", "-y", "-f", f.toString())).strip());
    assertTrue(run(List.of("ssh-keygen", "-l", "-f", f.toString())).contains(key.fingerprint()));
  }

  static String run(List<String> argv) throws Exception {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  /** The create's user data: the built-in one, with a host key that known_hosts pins for {@code host}. */
  static void assertPinned(String userData, String user, Path knownHosts, String host) {
    try {
      pinned(userData, user, knownHosts, host);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void pinned(String userData, String user, Path knownHosts, String host) throws java.io.IOException {
    assertTrue(userData.startsWith("#cloud-config\n"), userData);
    JsonNode n = YAML.readTree(userData);
    assertTrue(n.path("packages").toString().contains("docker.io"), userData);
    assertTrue(n.path("runcmd").toString().contains("[\"usermod\",\"-aG\",\"docker\",\"" + user + "\"]"), userData);
    assertTrue(n.path("ssh_deletekeys").asBoolean());
    String pub = n.path("ssh_keys").path("ed25519_public").asText();
    assertTrue(pub.startsWith("ssh-ed25519 "), userData);
    assertTrue(n.path("ssh_keys").path("ed25519_private").asText().startsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
    assertTrue(Files.readAllLines(knownHosts).contains(host + " " + pub), Files.readString(knownHosts));
  }
}
