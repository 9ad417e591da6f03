package dev.byop.preview.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.CancelledException;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.CancellationSource;
import dev.byop.core.internal.Redactor;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.compose.PreviewHost;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** This machine as a preview host: real processes, files and sockets. */
class LocalHostTest {
  static LocalHost host(Path work) {
    return new LocalHost(List.of("docker"), work, Map.of());
  }

  @Test
  void a200KbLineIsCutWithAVisibleMarkerInTheSinkAndTheResult(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("out.txt");
    Files.writeString(f, "x".repeat(204800) + "\nafter\n");
    List<String> seen = new CopyOnWriteArrayList<>();
    CommandResult r = host(dir).run(List.of("cat", f.toString()), seen::add, Duration.ofSeconds(30));
    assertTrue(r.ok());
    assertEquals(seen, r.output());
    assertEquals(2, seen.size(), "the rest of the long line is dropped, the next line kept");
    assertTrue(seen.get(0).startsWith("x".repeat(BoundedReads.MAX_LINE_BYTES)));
    assertTrue(seen.get(0).endsWith(BoundedReads.cutMarker(204800 - BoundedReads.MAX_LINE_BYTES)), "visible marker");
    assertEquals("after", seen.get(1));
  }

  @Test
  void theResultKeepsHeadAndTailOfAVeryLongOutput(@TempDir Path dir) {
    CommandResult r = host(dir).run(List.of("seq", "1", "50000"), line -> { }, Duration.ofSeconds(30));
    assertEquals(BoundedReads.MAX_LINES + 1, r.output().size());
    assertEquals("1", r.output().get(0));
    assertEquals("50000", r.tail(1));
  }

  @Test
  void theEnvironmentIsTheConfiguredOneAndAMissingProgramSaysSo(@TempDir Path dir) {
    LocalHost h = host(dir).withEnvironment(Map.of("BYOP_LOCAL_HOST_TEST", "v1"));
    assertEquals(List.of("v1"), h.run(List.of("printenv", "BYOP_LOCAL_HOST_TEST"), l -> { }, Duration.ofSeconds(10))
        .output());
    var e = assertThrows(PreviewException.class,
        () -> h.run(List.of("/nonexistent/byop-cli"), l -> { }, Duration.ofSeconds(10)));
    assertTrue(e.getMessage().contains("/nonexistent/byop-cli"), e.getMessage());
  }

  @Test
  void cancellationEndsTheProcessAndEveryProcessItStarted(@TempDir Path dir) throws Exception {
    // timeout(1) runs sleep as its child: killing timeout alone would leave the sleep running
    String marker = "313." + ProcessHandle.current().pid();
    CancellationSource cancel = new CancellationSource(new Redactor());
    CompletableFuture<CommandResult> run = CompletableFuture.supplyAsync(
        () -> host(dir).run(List.of("timeout", "600", "sleep", marker), l -> { }, Duration.ofMinutes(10), cancel));
    ProcessHandle sleep = awaitDescendant("sleep", marker);
    assertTrue(cancel.cancel("test"));
    var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> run.get(20, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof CancelledException, String.valueOf(e.getCause()));
    sleep.onExit().get(10, TimeUnit.SECONDS);
    assertFalse(sleep.isAlive(), "the grandchild is gone too");
  }

  @Test
  void aTimeoutEndsTheProcessTreeAndSaysSo(@TempDir Path dir) throws Exception {
    String marker = "314." + ProcessHandle.current().pid();
    CompletableFuture<Throwable> run = CompletableFuture.supplyAsync(() -> assertThrows(PreviewException.class,
        () -> host(dir).run(List.of("timeout", "600", "sleep", marker), l -> { }, Duration.ofMillis(700))));
    ProcessHandle sleep = awaitDescendant("sleep", marker);
    Throwable t = run.get(20, TimeUnit.SECONDS);
    assertTrue(t.getMessage().contains("did not finish within PT0.7S"), t.getMessage());
    sleep.onExit().get(10, TimeUnit.SECONDS);
  }

  static ProcessHandle awaitDescendant(String command, String arg) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      Optional<ProcessHandle> p = ProcessHandle.current().descendants().filter(h -> h.info().command()
          .map(c -> c.endsWith("/" + command)).orElse(false)
          && h.info().arguments().map(a -> List.of(a).contains(arg)).orElse(false)).findFirst();
      if (p.isPresent()) return p.get();
      Thread.sleep(20);
    }
    throw new AssertionError("no " + command + " " + arg + " started");
  }

  @Test
  void filesAreWrittenWithTheirModeInOwnerOnlyDirectoriesAndNeverOutsideTheWorkDir(@TempDir Path dir)
      throws Exception {
    Path work = dir.resolve("work");
    LocalHost h = host(work);
    h.write(work + "/byop-p1/docker-compose.yml", "A=secret\n".getBytes(StandardCharsets.UTF_8), 0600);
    Path f = work.resolve("byop-p1/docker-compose.yml");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work)), "the work dir");
    // a file that exists with a wider mode is narrowed before it gets the new content
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    h.write("byop-p1/docker-compose.yml", "B=2\n".getBytes(StandardCharsets.UTF_8), 0600);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work)));
    assertEquals("B=2\n", new String(h.read("byop-p1/docker-compose.yml", 100).orElseThrow(), StandardCharsets.UTF_8));
    assertThrows(PreviewException.class, () -> h.read("byop-p1/docker-compose.yml", 2), "bounded read");
    assertEquals(Optional.empty(), h.read("byop-p1/none.yml", 100));

    for (String escape : List.of("../outside", work + "/../outside", "/etc/byop-test", "byop-p1/../..", "")) {
      assertThrows(ValidationException.class, () -> h.write(escape, new byte[0], 0600), escape);
      assertThrows(ValidationException.class, () -> h.delete(escape), escape);
    }
    // a link planted in the tree is removed as a link, never followed
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("keep"), "x");
    Files.createSymbolicLink(work.resolve("byop-p1/link"), outside);
    h.delete("byop-p1");
    assertFalse(Files.exists(work.resolve("byop-p1")));
    assertTrue(Files.exists(outside.resolve("keep")), "what a link points to is left alone");
    h.delete("byop-p1");
  }

  @Test
  void aConnectionEndsAtOneDeadlineHoweverSlowlyThePeerDrips(@TempDir Path dir) throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        try (Socket s = server.accept()) {
          for (int i = 0; i < 100; i++) {
            s.getOutputStream().write('a');
            s.getOutputStream().flush();
            Thread.sleep(100);
          }
        } catch (Exception e) {
          // the reader hung up
        }
      });
      t.setDaemon(true);
      t.start();
      long t0 = System.nanoTime();
      try (PreviewHost.Connection c = host(dir).connect("127.0.0.1", server.getLocalPort(), Duration.ofMillis(800))) {
        InputStream in = c.input();
        assertThrows(java.io.IOException.class, () -> {
          while (in.read() >= 0) {
            // drip
          }
        });
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 1500, "one deadline for all reads: " + ms + " ms");
    }
    var refused = assertThrows(PreviewException.class, () -> host(dir).connect("127.0.0.1", 1, Duration.ofSeconds(2)));
    assertTrue(refused.getMessage().contains("127.0.0.1:1"), refused.getMessage());
  }
}
