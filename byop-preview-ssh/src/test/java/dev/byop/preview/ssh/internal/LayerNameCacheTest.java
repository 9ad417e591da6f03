package dev.byop.preview.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerNameCacheTest {

  @Test
  void survivesARestartAndIgnoresGarbage(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sub/layer-names");
    String v1 = "a".repeat(64);
    String diff = "sha256:" + "b".repeat(64);
    new LayerNameCache(f).put(v1, diff);
    Files.writeString(f, "garbage line\n$(rm -rf /)\n", java.nio.file.StandardOpenOption.APPEND);
    LayerNameCache again = new LayerNameCache(f);
    assertEquals(diff, again.get(v1));
    assertEquals(1, again.size());
    assertNull(again.get("garbage"));
  }
}
