package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ValidationException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HostKeyPolicyTest {

  static final String FP = "SHA256:" + "A".repeat(43);

  @Test
  void normalizesFingerprints() {
    assertEquals(FP, HostKeyPolicy.fingerprint("A".repeat(43)).fingerprint());
    assertEquals(FP, HostKeyPolicy.fingerprint(" sha256:" + "A".repeat(43) + "= ").fingerprint());
  }

  @Test
  void rejectsBadInputNamingIt() {
    ValidationException e = assertThrows(ValidationException.class, () -> HostKeyPolicy.fingerprint("MD5:ab:cd"));
    assertTrue(e.getMessage().contains("MD5:ab:cd"), e.getMessage());
    assertThrows(ValidationException.class, () -> new HostKeyPolicy(null, null, false));
    assertThrows(ValidationException.class, () -> new HostKeyPolicy(Path.of("k"), FP, false));
    ValidationException p = assertThrows(ValidationException.class,
        () -> new SshHost("h", 0, "u", SshKey.file(Path.of("k")), HostKeyPolicy.fingerprint(FP)));
    assertTrue(p.getMessage().contains("0"));
    assertThrows(ValidationException.class, () -> new SshHost("h x", 22, "u", SshKey.file(Path.of("k")), HostKeyPolicy.fingerprint(FP)));
  }

  @Test
  void secretKeyNeverPrinted() {
    assertEquals("SshKey[secret]", SshKey.secret(() -> "-----BEGIN OPENSSH PRIVATE KEY-----").toString());
  }
}
