package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  @TempDir Path dir;

  @Test
  void onlyTheMainJobAllowsFileGitUrlsNeverTheApiServer() {
    Main main = new Main(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    assertFalse(main.configuration("serve", null).gitPolicy().allowFile(), "serve");
    assertFalse(main.configuration("stop", null).gitPolicy().allowFile(), "stop");
    assertTrue(main.configuration("run", null).gitPolicy().allowFile(), "the main job's own sample repository");
  }
}
