package dev.byop.preview.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.internal.BoundedReads;
import dev.byop.preview.compose.CommandRunner;
import dev.byop.core.spi.Cancellation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** A real process printing a 200 KB line without a newline: cut with a marker, in the sink and in the result. */
class ProcessRunnerTest {
  @Test
  void a200KbLineIsCutWithAVisibleMarker() {
    List<String> seen = new CopyOnWriteArrayList<>();
    CommandRunner.Result r = new ProcessRunner(Map.of(), null, Cancellation.none()).run(
        List.of("sh", "-c", "head -c 204800 /dev/zero | tr '\\0' x; echo; echo after"), seen::add, Duration.ofSeconds(30));
    assertTrue(r.ok());
    assertEquals(seen, r.output());
    assertEquals(2, seen.size(), "the rest of the long line is dropped, the next line kept");
    assertTrue(seen.get(0).startsWith("x".repeat(BoundedReads.MAX_LINE_BYTES)));
    assertTrue(seen.get(0).endsWith(BoundedReads.cutMarker(204800 - BoundedReads.MAX_LINE_BYTES)), "visible marker");
    assertEquals("after", seen.get(1));
  }

  @Test
  void theResultKeepsHeadAndTailOfAVeryLongOutput() {
    CommandRunner.Result r = new ProcessRunner(Map.of(), null, Cancellation.none()).run(
        List.of("seq", "1", "50000"), line -> { }, Duration.ofSeconds(30));
    assertEquals(BoundedReads.MAX_LINES + 1, r.output().size());
    assertEquals("1", r.output().get(0));
    assertEquals("50000", r.tail(1));
  }
}
