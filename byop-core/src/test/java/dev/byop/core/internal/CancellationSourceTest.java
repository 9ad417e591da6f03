package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.CancelledException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CancellationSourceTest {
  @Test
  void firesOnceWithTheFirstReasonAndRunsLateCallbacksAtOnce() throws Exception {
    CancellationSource c = new CancellationSource(new Redactor());
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger removed = new AtomicInteger();
    c.onCancel(calls::incrementAndGet);
    c.onCancel(removed::incrementAndGet).close();
    c.throwIfCancelled();
    assertTrue(c.cancel("timed out after 1s"));
    assertFalse(c.cancel("cancelled by user"));
    assertEquals("timed out after 1s", c.reason());
    assertEquals(1, calls.get());
    assertEquals(0, removed.get());
    c.onCancel(calls::incrementAndGet);
    assertEquals(2, calls.get());
    assertEquals("timed out after 1s", assertThrows(CancelledException.class, c::throwIfCancelled).getMessage());
  }
}
