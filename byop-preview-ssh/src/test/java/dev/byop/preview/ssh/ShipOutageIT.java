package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.testing.RequiresTestbed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A link outage in the middle of a transfer, longer than the SSH keep-alive: the packets of this test's own SSH
 * connections are dropped inside vps1's namespace (an iptables rule there matching the local ports this test's sockets
 * are bound to, so other runs using vps1 at the same time are untouched; the host-side link is never touched). The
 * shipper must back off over its window, say why it gave up, and leave no {@code docker load}, pid file or engine
 * import directory behind on the host.
 */
@RequiresTestbed
class ShipOutageIT {

  static final String NETNS = "byop-vps1";
  /** Ports above the kernel's ephemeral range (32768-60999), a block of 20 per run. */
  static final int PORT_LO = 61000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 200) * 20;
  static final int PORT_HI = PORT_LO + 19;
  static final String IMAGE = "byop-it-ssh/outage-" + TestbedEnv.RUN + ":1";
  static TestbedEnv bed;
  static Path ctx;
  static Path home;
  static Path importDir;

  @BeforeAll
  static void image() throws IOException {
    bed = TestbedEnv.load();
    ctx = Files.createTempDirectory("byop-it-ssh-outage");
    bed.buildImage(IMAGE, ctx, 24 * 1024 * 1024, TestbedEnv.seed(31), "outage\n");
    home = Path.of(bed.vpsHome(1));
    importDir = bed.testbed.stateDir().resolve("vps1/data/tmp");
    removeRemote();
    // a killed test JVM must not leave the drop rules behind
    Runtime.getRuntime().addShutdownHook(new Thread(ShipOutageIT::restoreLink));
  }

  @AfterEach
  void linkBack() {
    restoreLink();
  }

  @AfterAll
  static void cleanup() {
    restoreLink();
    removeRemote();
    bed.removeLocal(IMAGE);
    TestbedEnv.deleteTree(ctx);
  }

  static void removeRemote() {
    try {
      bed.vpsDocker(1, "image", "rm", "-f", IMAGE);
    } catch (IllegalStateException absent) {
      // not there
    }
  }

  static List<String> rule(String op, String chain) {
    String ports = PORT_LO + ":" + PORT_HI;
    return chain.equals("INPUT")
        ? List.of("ip", "netns", "exec", NETNS, "iptables", op, "INPUT", "-p", "tcp", "--dport", "22", "--sport", ports, "-j", "DROP")
        : List.of("ip", "netns", "exec", NETNS, "iptables", op, "OUTPUT", "-p", "tcp", "--sport", "22", "--dport", ports, "-j", "DROP");
  }

  static void cutLink() {
    TestbedEnv.run(rule("-I", "INPUT"), Map.of());
    TestbedEnv.run(rule("-I", "OUTPUT"), Map.of());
  }

  /** Removes every copy of this run's drop rules (idempotent). */
  static void restoreLink() {
    for (String chain : List.of("INPUT", "OUTPUT")) {
      for (int i = 0; i < 10; i++) {
        try {
          TestbedEnv.run(rule("-D", chain), Map.of());
        } catch (IllegalStateException noMore) {
          break;
        }
      }
    }
  }

  /** Binds each socket to this run's port block, round robin (a fresh port per connection avoids TIME_WAIT clashes). */
  static SshConnections.SocketPreparer boundSockets() {
    AtomicInteger next = new AtomicInteger();
    return s -> {
      s.setReuseAddress(true);
      IOException last = null;
      for (int i = 0; i <= PORT_HI - PORT_LO; i++) {
        try {
          s.bind(new InetSocketAddress(PORT_LO + Math.floorMod(next.getAndIncrement(), PORT_HI - PORT_LO + 1)));
          return;
        } catch (IOException e) {
          last = e;
        }
      }
      throw last;
    };
  }

  static SshOptions options() {
    // keep-alive every second: the dead link is declared after 3 of them, well inside the outage
    return new SshOptions(Duration.ofSeconds(2), Duration.ofSeconds(20), Duration.ofMinutes(5), Duration.ofSeconds(1));
  }

  /** Local images whose save stream, once armed, cuts the link after 4 MB have been sent. */
  static LocalImages cuttingAfter4Mb(AtomicBoolean armed, AtomicBoolean cut) {
    return ImageShipperIT.cutting(bed.localImages(), armed, cut, 4 * 1024 * 1024, ShipOutageIT::cutLink);
  }

  /** What the lost attempt left on the host while the link is down: its pid files, the loads they name, import dirs. */
  record Leftovers(Set<Path> pidFiles, List<ProcessHandle> loads, List<ProcessHandle> sessions, Set<Path> importDirs) {}

  static Set<Path> pidFiles() throws IOException {
    try (Stream<Path> s = Files.list(home)) {
      return new TreeSet<>(s.filter(p -> p.getFileName().toString().matches("\\.byop-ship-.*\\.pid")).toList());
    }
  }

  static Set<Path> importDirs() throws IOException {
    if (!Files.isDirectory(importDir)) {
      return new TreeSet<>();
    }
    try (Stream<Path> s = Files.list(importDir)) {
      return new TreeSet<>(s.filter(p -> p.getFileName().toString().startsWith("docker-import-")).toList());
    }
  }

  /** Waits (the link still down) until the lost attempt's load is visible on the host, and records it. */
  static Leftovers leftovers(Set<Path> importsBefore, Set<Path> pidFilesBefore) throws IOException {
    waitFor("a pid file of the lost load", Duration.ofSeconds(20), () -> {
      try {
        return !pidFiles().stream().allMatch(pidFilesBefore::contains);
      } catch (IOException e) {
        return false;
      }
    });
    Set<Path> files = pidFiles();
    files.removeAll(pidFilesBefore);
    List<ProcessHandle> loads = new ArrayList<>();
    List<ProcessHandle> sessions = new ArrayList<>();
    for (Path f : files) {
      // VPS hosts share this machine's pid namespace: the pid in the file is a local process
      ProcessHandle.of(Long.parseLong(Files.readString(f).strip())).ifPresent(p -> {
        loads.add(p);
        p.parent().ifPresent(sessions::add);
      });
    }
    Set<Path> imports = importDirs();
    imports.removeAll(importsBefore);
    return new Leftovers(files, loads, sessions, imports);
  }

  static void waitFor(String what, Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not within " + within);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static void assertNothingLeft(Leftovers l) {
    waitFor("the lost docker load ending " + l.loads(), Duration.ofSeconds(15), () -> l.loads().stream().noneMatch(ProcessHandle::isAlive));
    waitFor("the lost attempt's sshd session ending " + l.sessions(), Duration.ofSeconds(15),
        () -> l.sessions().stream().noneMatch(ProcessHandle::isAlive));
    waitFor("the engine's import directories going " + l.importDirs(), Duration.ofSeconds(15), () -> l.importDirs().stream().noneMatch(Files::exists));
    l.pidFiles().forEach(f -> assertTrue(!Files.exists(f), "pid file removed: " + f));
  }

  @Test
  @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void anOutageLongerThanTheKeepAliveIsRiddenOutAndTheLostLoadIsKilled() throws Exception {
    removeRemote();
    Set<Path> importsBefore = importDirs();
    Set<Path> pidFilesBefore = pidFiles();
    AtomicBoolean armed = new AtomicBoolean();
    AtomicBoolean cut = new AtomicBoolean();
    try (SshConnections pool = new SshConnections(options(), boundSockets())) {
      ImageShipper shipper = new ImageShipper(pool, cuttingAfter4Mb(armed, cut), List.of("docker"),
          new ImageShipper.Retry(30, Duration.ofMillis(500), Duration.ofSeconds(90)), null, new dev.byop.core.internal.Redactor());
      shipper.learn(IMAGE);
      armed.set(true);
      Leftovers[] seen = new Leftovers[1];
      Thread outage = new Thread(() -> {
        try {
          waitFor("the cut", Duration.ofSeconds(60), cut::get);
          seen[0] = leftovers(importsBefore, pidFilesBefore);
          // down for 8 s: past the keep-alive's verdict (3 x 1 s), so the connection is declared dead
          Thread.sleep(8000);
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        } finally {
          restoreLink();
        }
      });
      outage.start();
      long t0 = System.nanoTime();
      ShipResult r = shipper.ship(bed.vps(1), IMAGE);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      outage.join();
      assertTrue(cut.get(), "the link was cut during the transfer");
      assertTrue(r.attempts() >= 2, r.toString());
      assertEquals(r.imageId(), shipper.remoteImageId(bed.vps(1), IMAGE));
      assertNotNull(seen[0]);
      assertEquals(1, seen[0].loads().size(), "the lost attempt's docker load ran on the host during the outage: " + seen[0]);
      assertNothingLeft(seen[0]);
      assertTrue(pidFilesBefore.containsAll(pidFiles()), "no pid file left: " + pidFiles());
      System.out.println("outage ridden out in " + took.toMillis() + " ms over " + r.attempts() + " attempts; lost load " + seen[0].loads()
          + ", import dirs " + seen[0].importDirs());
    }
  }

  @Test
  @Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void anOutageLongerThanTheRetryWindowFailsWithItsCauseAndTheLoadGoesWhenTheHostIsBack() throws Exception {
    removeRemote();
    Set<Path> importsBefore = importDirs();
    Set<Path> pidFilesBefore = pidFiles();
    AtomicBoolean armed = new AtomicBoolean();
    AtomicBoolean cut = new AtomicBoolean();
    try (SshConnections pool = new SshConnections(options(), boundSockets())) {
      ImageShipper shipper = new ImageShipper(pool, cuttingAfter4Mb(armed, cut), List.of("docker"),
          new ImageShipper.Retry(50, Duration.ofMillis(300), Duration.ofSeconds(8)), null, new dev.byop.core.internal.Redactor());
      shipper.learn(IMAGE);
      armed.set(true);
      long t0 = System.nanoTime();
      SshException e = assertThrows(SshException.class, () -> shipper.ship(bed.vps(1), IMAGE));
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      assertTrue(cut.get());
      Leftovers l = leftovers(importsBefore, pidFilesBefore);
      assertNotNull(e.getCause(), "the error carries the cause");
      assertTrue(e.getMessage().contains("failed after") && e.getMessage().contains(e.getCause().getMessage()), e.getMessage());
      assertTrue(took.compareTo(Duration.ofSeconds(8)) > 0, "retries spread over the window, not spent at once: " + took);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("failed after (\\d+) attempts, retried for ([0-9.]+) s").matcher(e.getMessage());
      assertTrue(m.find(), e.getMessage());
      assertTrue(Integer.parseInt(m.group(1)) >= 3, "several attempts within the window: " + e.getMessage());
      assertTrue(Double.parseDouble(m.group(2)) > 4, "backed off over most of the 8 s window: " + e.getMessage());
      assertEquals(1, l.loads().size(), "the lost load still runs while the host is unreachable: " + l);
      restoreLink();
      // the next contact with the host kills it first, then ships
      ShipResult r = shipper.ship(bed.vps(1), IMAGE);
      assertEquals(r.imageId(), shipper.remoteImageId(bed.vps(1), IMAGE));
      assertNothingLeft(l);
      assertTrue(pidFilesBefore.containsAll(pidFiles()), "no pid file left: " + pidFiles());
      System.out.println("gave up after " + took.toMillis() + " ms: " + e.getMessage());
    }
  }
}
