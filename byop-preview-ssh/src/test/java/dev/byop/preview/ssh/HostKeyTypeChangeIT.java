package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.testing.RequiresTestbed;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * accept-new against a host whose known_hosts entry is of another key type: an sshd of this test's own on a free
 * loopback port with only an RSA host key, while known_hosts holds an ed25519 key for that host and port.
 */
@RequiresTestbed
class HostKeyTypeChangeIT {

  @TempDir static Path dir;
  static TestbedEnv bed;
  static int port;
  static long sshdPid;
  static String rsaLine;
  static String rsaFingerprint;
  static String ed25519Line;
  static String ed25519Fingerprint;

  @BeforeAll
  static void startSshd() throws Exception {
    bed = TestbedEnv.load();
    Path hostKey = dir.resolve("host_rsa");
    TestbedEnv.run(List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", hostKey.toString()), Map.of());
    Path otherKey = dir.resolve("other_ed25519");
    TestbedEnv.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey.toString()), Map.of());
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String hostPattern = "[127.0.0.1]:" + port;
    rsaLine = hostPattern + " " + pubKey(hostKey) + "\n";
    rsaFingerprint = fingerprint(hostKey);
    ed25519Line = hostPattern + " " + pubKey(otherKey) + "\n";
    ed25519Fingerprint = fingerprint(otherKey);
    Path pidFile = dir.resolve("sshd.pid");
    Path config = dir.resolve("sshd_config");
    Files.writeString(config, String.join("\n",
        "Port " + port,
        "ListenAddress 127.0.0.1",
        "HostKey " + hostKey,
        "PidFile " + pidFile,
        "AuthorizedKeysFile " + bed.testbed.stateDir().resolve("ssh/authorized_keys"),
        "AllowUsers root",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        ""));
    Files.createDirectories(Path.of("/run/sshd"));
    // -D: the process we start is the listener, so the pid file names it
    new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!(Files.exists(pidFile) && Files.size(pidFile) > 0 && listening())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("own sshd did not come up: " + Files.readString(dir.resolve("sshd.log")));
      }
      Thread.sleep(50);
    }
    sshdPid = Long.parseLong(Files.readString(pidFile).strip());
  }

  @AfterAll
  static void stopSshd() {
    if (sshdPid > 0) {
      ProcessHandle.of(sshdPid).ifPresent(p -> {
        p.destroy();
        p.onExit().join();
      });
    }
  }

  static boolean listening() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static String pubKey(Path key) throws IOException {
    String[] f = Files.readString(Path.of(key + ".pub")).split("\\s+");
    return f[0] + " " + f[1];
  }

  static String fingerprint(Path key) {
    return TestbedEnv.run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", key + ".pub"), Map.of()).split("\\s+")[1];
  }

  static SshHost host(HostKeyPolicy policy) {
    return new SshHost("127.0.0.1", port, "root", SshKey.file(bed.key()), policy);
  }

  @Test
  void acceptNewRefusesAKeyOfAnotherTypeForAKnownHostAndLeavesKnownHostsAlone() throws IOException {
    Path kh = dir.resolve("kh-changed-type");
    Files.writeString(kh, ed25519Line);
    byte[] before = Files.readAllBytes(kh);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> pool.get(host(HostKeyPolicy.acceptNew(kh))));
      String m = e.getMessage();
      assertTrue(m.contains("root@127.0.0.1:" + port), m);
      assertTrue(m.contains("ssh-rsa") && m.contains(rsaFingerprint), "names the presented key's type and fingerprint: " + m);
      assertTrue(m.contains("ssh-ed25519") && m.contains(ed25519Fingerprint), "names the recorded key's type and fingerprint: " + m);
      assertEquals(rsaFingerprint, e.presentedFingerprint());
      assertTrue(e.expectedFingerprints().stream().anyMatch(f -> f.contains(ed25519Fingerprint)), e.expectedFingerprints().toString());
    }
    assertArrayEquals(before, Files.readAllBytes(kh), "known_hosts is unchanged");
  }

  @Test
  void acceptNewStillRecordsAnUnknownHostWhichIsThenVerified() throws IOException {
    Path kh = dir.resolve("kh-unknown");
    // another host's entry does not make this one known
    Files.writeString(kh, "[127.0.0.1]:" + (port == 65535 ? 1 : port + 1) + " " + ed25519Line.split(" ", 2)[1]);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertEquals("root", pool.get(host(HostKeyPolicy.acceptNew(kh))).run(List.of("id", "-un")).stdout().strip());
    }
    assertTrue(Files.readString(kh).contains("[127.0.0.1]:" + port + " ssh-rsa "), Files.readString(kh));
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertEquals("ok", pool.get(host(HostKeyPolicy.knownHosts(kh))).run(List.of("echo", "ok")).stdout().strip());
    }
  }

  @Test
  void aMatchingKeyIsAcceptedAlsoBesideAnEntryOfAnotherType() throws IOException {
    Path kh = dir.resolve("kh-matching");
    Files.writeString(kh, ed25519Line + rsaLine);
    byte[] before = Files.readAllBytes(kh);
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertEquals("ok", pool.get(host(HostKeyPolicy.acceptNew(kh))).run(List.of("echo", "ok")).stdout().strip());
    }
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      assertEquals("ok", pool.get(host(HostKeyPolicy.knownHosts(kh))).run(List.of("echo", "ok")).stdout().strip());
    }
    assertArrayEquals(before, Files.readAllBytes(kh), "nothing added for a key that matched");
  }

  @Test
  void aByopWithAcceptNewRefusesTheChangedKeyType() throws Exception {
    Path kh = dir.resolve("kh-byop");
    Files.writeString(kh, ed25519Line);
    byte[] before = Files.readAllBytes(kh);
    Map<String, Object> host = new java.util.LinkedHashMap<>();
    host.put("id", "rsa-only");
    host.put("address", "127.0.0.1");
    host.put("port", String.valueOf(port));
    host.put("user", "root");
    host.put("privateKey", Map.of("file", bed.key().toString()));
    host.put("knownHosts", kh.toString());
    host.put("acceptNewHostKey", "true");
    dev.byop.core.ByopConfig config = dev.byop.core.ByopConfig.of(Map.of(
        "dataDir", Files.createDirectories(dir.resolve("byop-data")).toString(),
        "preview", Map.of("provider", "ssh", "domain", "hk-it.byop.test", "sweepInterval", "0s", "instance", "hk-it-" + TestbedEnv.RUN,
            "docker", Map.of("host", bed.localDockerHost())),
        "cloud", Map.of("provider", "static", "hosts", List.of(host))));
    try (dev.byop.core.Byop byop = dev.byop.core.Byop.builder().config(config).discover(getClass().getClassLoader()).build()) {
      // the sweep is the deployer's first contact with its hosts
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class,
          () -> byop.previewDeployer().sweep(java.util.Set.of(), dev.byop.core.spi.JobContext.of("sweep", l -> { })));
      assertTrue(e.getMessage().contains("ssh-rsa") && e.getMessage().contains("ssh-ed25519"), e.getMessage());
    }
    assertArrayEquals(before, Files.readAllBytes(kh), "known_hosts is unchanged");
  }
}
