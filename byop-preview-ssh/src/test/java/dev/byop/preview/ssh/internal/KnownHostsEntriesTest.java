package dev.byop.preview.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownHostsEntriesTest {

  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

  static String hashed(String name) throws Exception {
    byte[] salt = "0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII);
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(salt, "HmacSHA1"));
    return "|1|" + Base64.getEncoder().encodeToString(salt) + "|" + Base64.getEncoder().encodeToString(mac.doFinal(name.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void removesPlainAndHashedLinesOfTheHostOnlyAndKeepsMarkersAndOthers(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("known_hosts");
    String others = "10.203.1.20 " + KEY + "\n"          // a longer address with the same start
        + "[192.0.2.7]:2222 " + KEY + "\n"                 // same address, other port
        + "@revoked 192.0.2.7 " + KEY + "\n"               // a marker stays
        + hashed("192.0.2.8") + " " + KEY + "\n"
        + "# 192.0.2.7 a comment\n";
    Files.writeString(f, "192.0.2.7 " + KEY + "\n" + others + "host.example,192.0.2.7 " + KEY + "\n" + hashed("192.0.2.7") + " " + KEY + "\n");
    Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertEquals(3, KnownHostsEntries.remove(f, "192.0.2.7", 22));
    assertEquals(others, Files.readString(f));
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertEquals(1, KnownHostsEntries.remove(f, "192.0.2.7", 2222));
    assertEquals(0, KnownHostsEntries.remove(f, "192.0.2.7", 2222));
    assertEquals(0, KnownHostsEntries.remove(dir.resolve("absent"), "192.0.2.7", 22));
  }
}
