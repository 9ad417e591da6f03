package dev.byop.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiTokenTest {
  @TempDir Path dir;

  @Test
  void madeOnceOwnerOnlyAndReusedAfterwards() throws Exception {
    ApiToken first = ApiToken.loadOrCreate(dir);
    assertTrue(first.created());
    assertTrue(first.value().matches("[A-Za-z0-9_-]{43}"), "256 bits in base64url: " + first.value().length());
    assertEquals(dir.resolve("api/token"), first.file());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.file())));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("api"))));
    assertFalse(first.toString().contains(first.value()));
    try (var files = Files.list(dir.resolve("api"))) {
      assertEquals(1, files.count(), "no temporary file left");
    }

    ApiToken again = ApiToken.loadOrCreate(dir);
    assertFalse(again.created());
    assertEquals(first.value(), again.value());
    assertNotEquals(first.value(), ApiToken.loadOrCreate(dir.resolve("other")).value());
  }

  @Test
  void aTokenFileOthersMayReadOrATooShortOneIsRefused() throws Exception {
    ApiToken t = ApiToken.loadOrCreate(dir);
    Files.setPosixFilePermissions(t.file(), PosixFilePermissions.fromString("rw-r--r--"));
    ConfigException open = assertThrows(ConfigException.class, () -> ApiToken.loadOrCreate(dir));
    assertTrue(open.getMessage().contains("may be read by others"), open.getMessage());
    assertFalse(open.getMessage().contains(t.value()));

    Files.setPosixFilePermissions(t.file(), PosixFilePermissions.fromString("rw-------"));
    Files.writeString(t.file(), "short\n");
    assertThrows(ConfigException.class, () -> ApiToken.loadOrCreate(dir));
  }
}
