package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void aLongStepIsRedrawnInPlaceOnATerminalAndClearedBeforeTheNextLine() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (Progress p = new Progress(new PrintStream(buf, true, StandardCharsets.UTF_8), true)) {
      p.activity("api: building the image");
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!buf.toString(StandardCharsets.UTF_8).contains("api: building the image (")) {
        assertTrue(System.nanoTime() < deadline, "the progress display appears");
        Thread.sleep(50);
      }
      p.log("api", "#7 [3/4] RUN ...");
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("\r    | api: building the image (") || out.contains("\r    / api: building the image ("), out);
    assertTrue(out.contains("\r\u001b[K    api | #7 [3/4] RUN ...\n"), "the display line is cleared first: " + out);
  }

  @Test
  void durationsReadEasily() {
    assertEquals("4.2s", Progress.format(Duration.ofMillis(4200)));
    assertEquals("2m05s", Progress.format(Duration.ofSeconds(125)));
  }
}
