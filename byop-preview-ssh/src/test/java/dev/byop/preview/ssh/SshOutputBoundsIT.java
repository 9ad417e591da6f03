package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.testing.RequiresTestbed;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Hostile remote output against the bed's vps1: overlong lines are cut with a marker, endless output is stopped. */
@RequiresTestbed
class SshOutputBoundsIT {

  static final int LONG = 200 * 1024;
  static final String MARK = "byop-it-ssh-bounds-" + TestbedEnv.RUN;
  static TestbedEnv bed;
  static SshConnections pool;

  @BeforeAll
  static void open() {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults().withCommandTimeout(Duration.ofSeconds(20)));
  }

  @AfterAll
  static void close() {
    SshConnection c = pool.get(bed.vps(1));
    c.run(List.of("rm", "-f", "--", c.home() + "/" + MARK + ".bin"));
    pool.close();
  }

  /** A shell line printing {@code n} times {@code ch} without a newline, then {@code tail}. */
  static List<String> print(int n, char ch, String redirect, String tail) {
    return List.of("sh", "-c", "head -c \"$0\" /dev/zero | tr '\\0' \"$1\" " + redirect + "; " + tail, String.valueOf(n), String.valueOf(ch));
  }

  @Test
  void aLongLineWithoutNewlineIsCutWithAMarkerWhenStreamed() {
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> err = new CopyOnWriteArrayList<>();
    SshConnection c = pool.get(bed.vps(1));
    ExecResult r = c.exec(print(LONG, 'a', "", "echo; echo after"), StdinSource.NONE, out::add, null, Duration.ofSeconds(20));
    assertEquals(0, r.exitCode(), "an overlong line never fails the command");
    assertEquals(2, out.size(), out.size() + " lines");
    assertTrue(out.get(0).length() <= SshConnection.MAX_LINE + 100, "cut: " + out.get(0).length());
    assertTrue(out.get(0).startsWith("aaaa") && out.get(0).contains("[line cut"), out.get(0).substring(out.get(0).length() - 80));
    assertEquals("after", out.get(1));

    ExecResult e = c.exec(print(LONG, 'e', ">&2", "exit 3"), StdinSource.NONE, out::add, err::add, Duration.ofSeconds(20));
    assertEquals(3, e.exitCode());
    assertEquals(1, err.size());
    assertTrue(err.get(0).length() <= SshConnection.MAX_LINE + 100 && err.get(0).contains("[line cut"), "stderr cut: " + err.get(0).length());
    assertTrue(e.stderrTail().length() <= 8192, "the kept tail is bounded: " + e.stderrTail().length());
  }

  @Test
  void collectedOutputIsCutPerLineAndItsFailureTailIsBounded() {
    SshConnection c = pool.get(bed.vps(1));
    String stdout = c.run(print(LONG, 'b', "", "echo; echo done")).stdout();
    assertTrue(stdout.length() <= SshConnection.MAX_LINE + 200, "collected: " + stdout.length());
    assertTrue(stdout.contains("[line cut") && stdout.endsWith("\ndone\n"), stdout.substring(stdout.length() - 80));

    RemoteCommandException e = assertThrows(RemoteCommandException.class, () -> c.run(print(LONG, 'f', ">&2", "exit 4")));
    assertEquals(4, e.exitCode());
    assertTrue(e.getMessage().length() < 10_000, "exception message bounded: " + e.getMessage().length());
  }

  @Test
  void endlessOutputIsStoppedAtTheLimitNotCollectedUntilTheTimeout() {
    SshConnection c = pool.get(bed.vps(1));
    long t0 = System.nanoTime();
    // MARK makes the remote process findable afterwards; `yes` prints forever
    RemoteCommandException e = assertThrows(RemoteCommandException.class, () -> c.run(List.of("yes", MARK)));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertTrue(e.getMessage().contains("more than " + SshConnection.MAX_COLLECTED + " bytes"), e.getMessage());
    assertTrue(took.compareTo(Duration.ofSeconds(15)) < 0, "stopped at the limit, not at the 20 s timeout: " + took);
    // closing the channel ends the remote command (SIGPIPE on its next write)
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String ps;
    do {
      ps = c.run(List.of("ps", "-u", bed.get("VPS1_USER"), "-o", "args=")).stdout();
    } while (ps.contains("yes " + MARK) && System.nanoTime() < deadline);
    assertTrue(!ps.contains("yes " + MARK), "the remote `yes` is gone: " + ps);

    // endless output streamed line by line is not collected: only the timeout ends it, with bounded memory
    long[] lines = new long[1];
    RemoteCommandException t = assertThrows(RemoteCommandException.class,
        () -> c.exec(List.of("yes", MARK), StdinSource.NONE, l -> lines[0]++, null, Duration.ofSeconds(2)));
    assertEquals(-1, t.exitCode());
    assertTrue(lines[0] > 1000, lines[0] + " lines streamed");
  }

  @Test
  void downloadOfAnOversizedFileIsRefused() {
    SshConnection c = pool.get(bed.vps(1));
    String path = c.home() + "/" + MARK + ".bin";
    c.run(List.of("sh", "-c", "head -c \"$0\" /dev/zero > \"$1\"", String.valueOf(SshConnection.MAX_DOWNLOAD + 1), path));
    SshException e = assertThrows(SshException.class, () -> c.download(path));
    assertTrue(e.getMessage().contains("larger than " + SshConnection.MAX_DOWNLOAD + " bytes"), e.getMessage());
  }
}
