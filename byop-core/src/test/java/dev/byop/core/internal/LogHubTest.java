package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopListener;
import dev.byop.core.LogLine;
import dev.byop.core.Secret;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class LogHubTest {
  private final InMemoryLogStore store = new InMemoryLogStore();
  private final Set<String> finished = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<LogLine> emitted = new ConcurrentLinkedQueue<>();
  private final ByopListener listener = new ByopListener() {
    @Override
    public void logLine(LogLine line) {
      emitted.add(line);
    }
  };

  private static void waitFor(String what, java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(2);
    }
  }

  @Test
  void followersJoiningWhileLinesAreWrittenGetEachLineOnceInOrder() throws Exception {
    try (LogHub hub = new LogHub(store, listener, finished::contains, Clock.systemUTC(), Duration.ofMillis(5),
        Duration.ofMillis(10))) {
      LogHub.Writer w = hub.writer("job", new Redactor().add(Secret.of("s3cret")));
      int total = 5000;
      List<List<LogLine>> seen = new ArrayList<>();
      Thread writer = new Thread(() -> {
        for (int i = 1; i <= total; i++) {
          w.line("line " + i + (i % 1000 == 0 ? " s3cret" : ""));
          if (i % 97 == 0) w.flush();
        }
        w.close();
        finished.add("job");
        hub.finished("job");
      });
      writer.start();
      for (int f = 0; f < 8; f++) {
        List<LogLine> got = java.util.Collections.synchronizedList(new ArrayList<>());
        seen.add(got);
        hub.follow("job", f * 10L, got::add);
        Thread.sleep(1);
      }
      writer.join();
      for (int f = 0; f < seen.size(); f++) {
        List<LogLine> got = seen.get(f);
        long from = f * 10L;
        waitFor("follower " + f, () -> got.size() >= total - from);
        assertEquals(LongStream.rangeClosed(from + 1, total).boxed().collect(Collectors.toList()),
            got.stream().map(LogLine::seq).collect(Collectors.toList()), "follower " + f);
      }
      List<LogLine> stored = store.readLog("job", 0, total + 10);
      assertEquals(total, stored.size());
      assertEquals("line 1000 ******", stored.get(999).text());
      assertTrue(stored.stream().noneMatch(l -> l.text().contains("s3cret")));
      assertEquals(total, emitted.size());
    }
  }

  @Test
  void followerOfAFinishedOwnerGetsStoredLinesAndEnds() throws Exception {
    store.appendLog("done", List.of("a", "b", "c"), java.time.Instant.now());
    finished.add("done");
    try (LogHub hub = new LogHub(store, listener, finished::contains, Clock.systemUTC(), Duration.ofMillis(5),
        Duration.ofMillis(10))) {
      List<LogLine> got = new ArrayList<>();
      hub.follow("done", 1, got::add);
      assertEquals(List.of("b", "c"), got.stream().map(LogLine::text).collect(Collectors.toList()));
      store.appendLog("done", List.of("late"), java.time.Instant.now());
      Thread.sleep(50);
      assertEquals(2, got.size(), "the follow ended with the owner");
    }
  }

  @Test
  void linesWrittenElsewhereReachFollowersByPolling() throws Exception {
    try (LogHub hub = new LogHub(store, listener, finished::contains, Clock.systemUTC(), Duration.ofMillis(5),
        Duration.ofMillis(10))) {
      List<LogLine> got = java.util.Collections.synchronizedList(new ArrayList<>());
      hub.follow("remote", 0, got::add);
      store.appendLog("remote", List.of("x", "y"), java.time.Instant.now());
      waitFor("polled lines", () -> got.size() == 2);
      finished.add("remote");
      store.appendLog("remote", List.of("z"), java.time.Instant.now());
      waitFor("last line", () -> got.size() == 3);
    }
  }

  @Test
  void anOverlongLineIsCutWithAMarkerAfterRedactionAndNulBecomesAReplacementCharacter() throws Exception {
    try (LogHub hub = new LogHub(store, listener, finished::contains, Clock.systemUTC(), Duration.ofMillis(5),
        Duration.ofMillis(10))) {
      LogHub.Writer w = hub.writer("long", new Redactor().add("s3cret-at-the-cut"));
      String tail = "s3cret-at-the-cut";
      // the secret straddles the cut: it is masked before the line is cut
      String line = "a".repeat(LogHub.MAX_LINE_CHARS - 40) + tail + "b".repeat(200_000);
      w.line(line + "\nnul\0here\n\uD83D\uDE00".repeat(1));
      w.close();
      List<LogLine> stored = store.readLog("long", 0, 10);
      assertEquals(3, stored.size());
      assertEquals("\uD83D\uDE00", stored.get(2).text());
      String cut = stored.get(0).text();
      assertEquals(LogHub.MAX_LINE_CHARS, cut.length());
      assertTrue(cut.startsWith("a".repeat(LogHub.MAX_LINE_CHARS - 40) + Redactor.MASK), cut.substring(16_000));
      String redacted = "a".repeat(LogHub.MAX_LINE_CHARS - 40) + Redactor.MASK + "b".repeat(200_000);
      int kept = cut.indexOf(LogHub.CUT_MARKER);
      assertTrue(cut.endsWith(LogHub.CUT_MARKER + (redacted.length() - kept) + " more characters]"),
          cut.substring(16_000));
      assertEquals("nul\uFFFDhere", stored.get(1).text());
      assertEquals(stored.stream().map(LogLine::text).collect(Collectors.toList()),
          emitted.stream().map(LogLine::text).collect(Collectors.toList()), "listeners get the cut lines too");
    }
  }

  @Test
  void cutKeepsShortTextAndNeverSplitsASurrogatePair() {
    assertEquals("short", LogHub.cut("short", 10));
    String s = "x".repeat(10) + "\uD83D\uDE00".repeat(100);
    for (int max = 40; max < 60; max++) {
      String c = LogHub.cut(s, max);
      assertTrue(c.length() <= max, c);
      assertTrue(c.contains(LogHub.CUT_MARKER), c);
      int at = c.indexOf(LogHub.CUT_MARKER);
      assertTrue(at == 0 || !Character.isHighSurrogate(c.charAt(at - 1)), c);
      String count = c.substring(at + LogHub.CUT_MARKER.length(), c.indexOf(' ', at + LogHub.CUT_MARKER.length()));
      assertEquals(s.length() - at, Integer.parseInt(count), c);
    }
  }
}
