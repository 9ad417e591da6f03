package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoundedReadsTest {
  @Test
  void anOverlongLineIsCutWithAVisibleMarkerAndTheNextLineIsKept() throws IOException {
    String big = "x".repeat(200 * 1024);
    List<String> lines = new ArrayList<>();
    BoundedReads.lines(new ByteArrayInputStream((big + "\nnext\r\nlast").getBytes(StandardCharsets.UTF_8)),
        BoundedReads.MAX_LINE_BYTES, lines::add);
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).startsWith("x".repeat(BoundedReads.MAX_LINE_BYTES)));
    assertTrue(lines.get(0).endsWith(BoundedReads.cutMarker(200 * 1024 - BoundedReads.MAX_LINE_BYTES)), "marker");
    assertEquals(List.of("next", "last"), lines.subList(1, 3));
  }

  @Test
  void anEndlessLineNeverGrowsTheBuffer() throws IOException {
    long[] produced = {0};
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        return produced[0]++ < 50L * 1024 * 1024 ? 'y' : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (produced[0] >= 50L * 1024 * 1024) return -1;
        java.util.Arrays.fill(b, off, off + len, (byte) 'y');
        produced[0] += len;
        return len;
      }
    };
    List<String> lines = new ArrayList<>();
    BoundedReads.lines(endless, 1024, lines::add);
    assertEquals(1, lines.size());
    assertTrue(lines.get(0).length() < 1100, "cut line: " + lines.get(0).length());
  }

  @Test
  void protocolLinesAreBoundedAndTheResultKeepsHeadAndTail() throws IOException {
    assertThrows(IOException.class, () -> BoundedReads.protocolLine(
        new ByteArrayInputStream("a".repeat(9000).getBytes(StandardCharsets.US_ASCII)), 8192));
    assertEquals("HTTP/1.1 200 OK", BoundedReads.protocolLine(
        new ByteArrayInputStream("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII)), 8192));
    BoundedReads.LineList l = new BoundedReads.LineList(4);
    for (int i = 0; i < 10; i++) l.add("l" + i);
    assertEquals(List.of("l0", "l1", "…[6 lines dropped]", "l8", "l9"), l.snapshot());
  }
}
