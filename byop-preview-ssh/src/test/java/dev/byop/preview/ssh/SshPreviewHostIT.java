package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import dev.byop.testing.RequiresTestbed;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SSH {@link PreviewHost} against the bed's vps1: bounded, interleaved output; timeout and cancellation that stop
 * the remote command; files written over SFTP with their mode from the start, in 0700 directories; reads and removals
 * only under the work directory; streams to ports on the host's own loopback that end at their deadline.
 */
@RequiresTestbed
class SshPreviewHostIT {
  static final String MARK = "byop-it-host-" + TestbedEnv.RUN;
  static TestbedEnv bed;
  static SshConnections pool;
  static SshPreviewHost host;

  @BeforeAll
  static void open() {
    bed = TestbedEnv.load();
    pool = new SshConnections(SshOptions.defaults());
    host = new SshPreviewHost(RemoteCaddy.remote(bed, 1), pool, MARK + "/previews", List.of("docker"));
  }

  @AfterAll
  static void close() {
    pool.get(host.ssh()).run(List.of("rm", "-rf", "--", bed.vpsHome(1) + "/" + MARK));
    pool.close();
  }

  @Test
  void theWorkDirIsTheBaseDirUnderTheLoginsHome() {
    assertEquals(bed.vpsHome(1) + "/" + MARK + "/previews", host.workDir());
    assertEquals("vps1", host.id());
    assertEquals(bed.get("VPS1_ADDRESS"), host.address());
    assertEquals("/srv/p", new SshPreviewHost(RemoteCaddy.remote(bed, 1), pool, "/srv/p/", List.of("docker")).workDir());
  }

  @Test
  void theEngineApiAnswersOverDialStdioOnOneKeptConnection() {
    dev.byop.docker.DockerClient engine = host.engine().orElseThrow();
    engine.ping();
    assertTrue(engine.version().version().startsWith("20.10"), engine.version().toString());
    long opened = engine.connectionsOpened();
    for (int i = 0; i < 20; i++) {
      assertTrue(engine.requestJson("GET", "/containers/json?all=1", null).isArray());
    }
    assertTrue(engine.inspectImage("byop-test/no-such-image:" + TestbedEnv.RUN).isEmpty());
    engine.ping();
    assertEquals(opened, engine.connectionsOpened(), "22 requests in a row reuse the kept connection");
    // the same client for the same connection and docker command: its connections are kept
    assertTrue(host.engine().orElseThrow() == engine);
  }

  @Test
  void outputIsInterleavedCutPerLineAndKeptInBoundedNumber() {
    List<String> seen = new CopyOnWriteArrayList<>();
    CommandResult r = host.run(List.of("sh", "-c", "echo out; echo err >&2; head -c 100000 /dev/zero | tr '\\0' a; echo; exit 3"),
        seen::add, Duration.ofSeconds(20));
    assertEquals(3, r.exitCode());
    assertTrue(r.output().containsAll(List.of("out", "err")), r.output().toString());
    String cut = r.output().stream().filter(l -> l.startsWith("aaa")).findFirst().orElseThrow();
    assertTrue(cut.length() <= BoundedReads.MAX_LINE_BYTES + 40 && cut.endsWith(BoundedReads.cutMarker(100000 - BoundedReads.MAX_LINE_BYTES)),
        cut.length() + " " + cut.substring(cut.length() - 50));
    assertEquals(r.output(), seen, "the sink sees what the result keeps");

    AtomicInteger lines = new AtomicInteger();
    CommandResult many = host.run(List.of("seq", "1", "25000"), l -> lines.incrementAndGet(), Duration.ofSeconds(30));
    assertEquals(25000, lines.get(), "the sink sees every line");
    assertEquals(BoundedReads.MAX_LINES + 1, many.output().size());
    assertEquals("1", many.output().get(0));
    assertEquals("25000", many.output().get(many.output().size() - 1));
    assertTrue(many.output().contains("…[15000 lines dropped]"), many.output().get(BoundedReads.MAX_LINES / 2));
  }

  @Test
  void aCommandRunningPastItsTimeoutFails() {
    long t0 = System.nanoTime();
    PreviewException e = assertThrows(PreviewException.class,
        () -> host.run(List.of("sleep", "30"), l -> { }, Duration.ofSeconds(1)));
    assertTrue(e.getMessage().contains("no result within PT1S"), e.getMessage());
    assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos());
  }

  @Test
  void cancellationClosesTheChannelAndTheRemoteCommandEnds() throws Exception {
    CancellationSource cancel = new CancellationSource(new Redactor());
    AtomicInteger lines = new AtomicInteger();
    CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(() -> host.run(List.of("yes", MARK), l -> {
      if (lines.incrementAndGet() == 1000) {
        cancel.cancel("cancelled by test");
      }
    }, Duration.ofSeconds(60), cancel));
    Throwable e = assertThrows(java.util.concurrent.ExecutionException.class, () -> running.get(20, TimeUnit.SECONDS)).getCause();
    assertTrue(e instanceof CancelledException && e.getMessage().contains("cancelled by test"), String.valueOf(e));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String ps;
    do {
      ps = String.join("\n", host.run(List.of("ps", "-u", bed.get("VPS1_USER"), "-o", "args="), l -> { }, Duration.ofSeconds(10)).output());
    } while (ps.contains("yes " + MARK) && System.nanoTime() < deadline);
    assertFalse(ps.contains("yes " + MARK), "the remote command is gone: " + ps);
    assertThrows(CancelledException.class, () -> host.run(List.of("true"), l -> { }, Duration.ofSeconds(5), cancel),
        "nothing starts once cancelled");
  }

  static String mode(String path) {
    return Integer.toOctalString(pool.get(host.ssh()).mode(path));
  }

  @Test
  void filesAreWrittenWithTheirModeFromTheStartInPrivateDirectories() {
    String file = host.workDir() + "/p1/docker-compose.yml";
    host.write(file, "services: {}\n".getBytes(StandardCharsets.UTF_8), 0600);
    assertEquals("600", mode(file));
    assertEquals("700", mode(host.workDir() + "/p1"));
    assertEquals("700", mode(host.workDir()));
    assertEquals("700", mode(bed.vpsHome(1) + "/" + MARK), "every directory made from the home down");
    assertArrayEquals("services: {}\n".getBytes(StandardCharsets.UTF_8), host.read(file, 100).orElseThrow());

    // a file that exists wider is narrowed before the new content goes in; the mode is exact whatever the umask;
    // the directories from the work directory down are kept 0700
    pool.get(host.ssh()).run(List.of("chmod", "644", "--", file));
    pool.get(host.ssh()).run(List.of("chmod", "755", "--", host.workDir(), host.workDir() + "/p1"));
    host.write("p1/docker-compose.yml", "x: 1\n".getBytes(StandardCharsets.UTF_8), 0640);
    assertEquals("640", mode(file));
    assertEquals("700", mode(host.workDir() + "/p1"));
    assertEquals("700", mode(host.workDir()));
    assertEquals("x: 1\n", new String(host.read("p1/docker-compose.yml", 100).orElseThrow(), StandardCharsets.UTF_8));
    assertThrows(ValidationException.class, () -> host.write("p1/f", new byte[0], 01777));
  }

  @Test
  void readsAreBoundedAndAbsentFilesAreEmpty() {
    assertTrue(host.read("nothing-here/docker-compose.yml", 10).isEmpty());
    host.write("big/file", new byte[1001], 0600);
    PreviewException e = assertThrows(PreviewException.class, () -> host.read("big/file", 1000));
    assertTrue(e.getMessage().contains("larger than 1000 bytes"), e.getMessage());
    assertEquals(1001, host.read("big/file", 1001).orElseThrow().length);
  }

  @Test
  void onlyPathsUnderTheWorkDirAreWrittenReadOrRemoved() {
    host.write("doomed/a/b", new byte[] {1}, 0600);
    host.delete("doomed");
    assertTrue(host.read("doomed/a/b", 10).isEmpty());
    host.delete("doomed"); // nothing there: no error

    for (String bad : List.of("/tmp", bed.vpsHome(1), host.workDir(), host.workDir() + "/", "../x", "p1/../../x",
        host.workDir() + "/./p1", host.workDir() + "x/y", "p1//x", "p1/\nx")) {
      assertThrows(ValidationException.class, () -> host.delete(bad), bad);
      if (!bad.equals(host.workDir())) {
        assertThrows(ValidationException.class, () -> host.write(bad + "/f", new byte[0], 0600), bad);
      }
      assertThrows(ValidationException.class, () -> host.read(bad, 10), bad);
    }
  }

  @Test
  void connectReachesTheHostsOwnPortsAndEndsAtItsDeadline() throws IOException {
    int admin = 38000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 2000);
    try (RemoteCaddy caddy = RemoteCaddy.start(bed, pool, 1, admin, admin + 2000, "host-it-caddy")) {
      assertEquals(200, caddy.admin("GET", "/config/", null).status(), "the admin API on the host's loopback");
    }
    // sshd sends its banner and then waits for ours: a peer that stops answering
    try (PreviewHost.Connection c = host.connect(host.address(), 22, Duration.ofSeconds(1))) {
      InputStream in = c.input();
      StringBuilder banner = new StringBuilder();
      int ch;
      while ((ch = in.read()) != '\n') {
        banner.append((char) ch);
      }
      assertTrue(banner.toString().startsWith("SSH-2.0-"), banner.toString());
      long t0 = System.nanoTime();
      assertThrows(SocketTimeoutException.class, () -> in.read());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 3000, ms + " ms");
    }
  }
}
