package dev.byop.preview.ssh;

import dev.byop.core.internal.ShellQuote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.SecretRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import dev.byop.testing.RequiresTestbed;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SSH layer against the bed's VPS sshd: host keys, quoting through a real login shell, pooling, stdin. */
@RequiresTestbed
class SshConnectionsIT {

  static TestbedEnv bed;
  static String realFingerprint;

  @BeforeAll
  static void load() {
    bed = TestbedEnv.load();
    String pub = TestbedEnv.run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", bed.testbed.stateDir().resolve("vps1/ssh_host_ed25519_key.pub").toString()), Map.of());
    realFingerprint = pub.split("\\s+")[1];
  }

  static SshHost vps1(HostKeyPolicy p) {
    SshHost h = bed.vps(1);
    return new SshHost(h.address(), h.port(), h.user(), h.key(), p);
  }

  static String otherKeyLine(Path dir, String host) {
    Path k = dir.resolve("other");
    TestbedEnv.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k.toString()), Map.of());
    try {
      String pub = Files.readString(dir.resolve("other.pub"));
      String[] f = pub.split("\\s+");
      return host + " " + f[0] + " " + f[1] + "\n";
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void wrongKeyInKnownHostsIsRefusedNamingHostAndFingerprints(@TempDir Path dir) throws Exception {
    Path kh = dir.resolve("known_hosts");
    Files.writeString(kh, otherKeyLine(dir, bed.get("VPS1_ADDRESS")));
    String expected = TestbedEnv.run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", dir.resolve("other.pub").toString()), Map.of()).split("\\s+")[1];
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> pool.get(vps1(HostKeyPolicy.knownHosts(kh))));
      assertEquals(realFingerprint, e.presentedFingerprint());
      assertTrue(e.expectedFingerprints().stream().anyMatch(f -> f.endsWith(expected)), e.expectedFingerprints().toString());
      assertTrue(e.getMessage().contains(bed.get("VPS1_ADDRESS")) && e.getMessage().contains(realFingerprint) && e.getMessage().contains(expected),
          e.getMessage());
      // the same holds for a shipper: nothing reaches the host
      ImageShipper shipper = new ImageShipper(pool, bed.localImages());
      assertThrows(HostKeyRejectedException.class, () -> shipper.ship(vps1(HostKeyPolicy.knownHosts(kh)), bed.baseImage()));
    }
    assertEquals(Files.readString(kh).lines().count(), 1, "a mismatch is never written down");
  }

  @Test
  void wrongPinnedFingerprintIsRefused() {
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      String wrong = "SHA256:" + "B".repeat(43);
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> pool.get(vps1(HostKeyPolicy.fingerprint(wrong))));
      assertEquals(List.of(wrong), e.expectedFingerprints());
      assertEquals(realFingerprint, e.presentedFingerprint());
      assertEquals("ok", pool.get(vps1(HostKeyPolicy.fingerprint(realFingerprint))).run(List.of("echo", "ok")).stdout().strip());
    }
  }

  @Test
  void unknownHostIsRefusedUnlessAcceptNewWhichRecordsIt(@TempDir Path dir) throws Exception {
    Path kh = dir.resolve("known_hosts");
    Files.writeString(kh, "");
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> pool.get(vps1(HostKeyPolicy.knownHosts(kh))));
      assertTrue(e.expectedFingerprints().isEmpty());
      assertEquals("", Files.readString(kh));
      pool.get(vps1(HostKeyPolicy.acceptNew(kh))).run(List.of("true"));
    }
    String recorded = Files.readString(kh);
    assertTrue(recorded.startsWith(bed.get("VPS1_ADDRESS") + " ssh-ed25519 "), recorded);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      pool.get(vps1(HostKeyPolicy.knownHosts(kh))).run(List.of("true"));
    }
    // a changed key is refused even in accept-new mode
    Files.writeString(kh, otherKeyLine(dir, bed.get("VPS1_ADDRESS")));
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertThrows(HostKeyRejectedException.class, () -> pool.get(vps1(HostKeyPolicy.acceptNew(kh))));
    }
  }

  @Test
  void everyQuotedWordReachesTheRemoteCommandUnchanged() {
    List<String> words = new ArrayList<>(dev.byop.testing.ShellWords.words().toList());
    List<String> argv = new ArrayList<>(List.of("printf", "%s\\0"));
    argv.addAll(words);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      String out = pool.get(bed.vps(1)).run(argv).stdout();
      List<String> got = new ArrayList<>(List.of(out.split("\0", -1)));
      got.remove(got.size() - 1);
      assertEquals(words, got);
      ExecResult pwned = pool.get(bed.vps(1)).exec(List.of("test", "-e", "/tmp/byop-ssh-pwned"), StdinSource.NONE, null, Duration.ofSeconds(10));
      assertEquals(1, pwned.exitCode(), "no substitution ran remotely");
    }
  }

  @Test
  void oneConnectionPerHostIsReusedAndReopenedAfterACut() {
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshConnection a = pool.get(bed.vps(1));
      assertSame(a, pool.get(bed.vps(1)));
      SshConnection b = pool.get(bed.vps(2));
      assertNotSame(a, b);
      a.disconnect();
      assertFalse(a.isAlive());
      SshConnection c = pool.get(bed.vps(1));
      assertNotSame(a, c);
      assertEquals(bed.get("VPS1_USER"), c.run(List.of("id", "-un")).stdout().strip());
    }
  }

  @Test
  void stdinCarriesSecretsAndOutputStreamsByLine() {
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshConnection c = pool.get(bed.vps(1));
      String secret = "s3cr3t $(not run) 'q'";
      assertEquals(secret, c.run(List.of("cat"), StdinSource.of(secret.getBytes(StandardCharsets.UTF_8))).stdout());
      List<String> lines = new CopyOnWriteArrayList<>();
      ExecResult r = c.exec(List.of("printf", "a\\nb\\nc"), StdinSource.NONE, lines::add, Duration.ofSeconds(10));
      assertEquals(0, r.exitCode());
      assertEquals(List.of("a", "b", "c"), lines);
      RemoteCommandException e = assertThrows(RemoteCommandException.class, () -> c.run(List.of("sh", "-c", "echo boom >&2; exit 3")));
      assertEquals(3, e.exitCode());
      assertTrue(e.stderrTail().contains("boom"));
      RemoteCommandException t = assertThrows(RemoteCommandException.class,
          () -> new SshConnections(SshOptions.defaults().withCommandTimeout(Duration.ofMillis(500))).get(bed.vps(1)).run(List.of("sleep", "5")));
      assertEquals(-1, t.exitCode());
    }
  }

  @Test
  void keyFromASecretReference() throws Exception {
    String pem = Files.readString(bed.key());
    SshHost h = bed.vps(2);
    SshHost viaSecret = new SshHost(h.address(), h.port(), h.user(), SshKey.secret(SecretRef.value(pem)), h.hostKeys());
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertEquals(bed.get("VPS2_USER"), pool.get(viaSecret).run(List.of("id", "-un")).stdout().strip());
    }
  }
}
