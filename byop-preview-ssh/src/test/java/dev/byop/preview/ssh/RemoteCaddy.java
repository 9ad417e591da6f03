package dev.byop.preview.ssh;

import dev.byop.core.spi.CloudProvider;
import dev.byop.core.SecretRef;
import dev.byop.preview.compose.PreviewHost;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A Caddy of one test run on a VPS host of the bed, started over SSH: its admin API listens on the host's loopback
 * only (reached through a {@code direct-tcpip} channel), its preview server on {@code :httpPort}. Stopped through the
 * admin API; its config and log files are removed.
 */
final class RemoteCaddy implements AutoCloseable {
  /** This run's preview server port on the VPS hosts. */
  static final int HTTP_PORT = 20000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 5000);
  /** This run's admin API port on the VPS hosts' loopback. */
  static final int ADMIN_PORT = 25000 + (int) (Long.parseLong(TestbedEnv.RUN, 16) % 5000);
  /** The domain remote previews of these tests are served under. */
  static final String DOMAIN = "ssh-it.byop.test";

  final SshPreviewHost host;
  final int adminPort;
  final int httpPort;
  private final String config;
  private final String log;

  /** A reply of the admin API (test peer: read whole). */
  record Reply(int status, String body) {}

  private RemoteCaddy(SshPreviewHost host, int adminPort, int httpPort, String files) {
    this.host = host;
    this.adminPort = adminPort;
    this.httpPort = httpPort;
    this.config = files + ".json";
    this.log = files + ".log";
  }

  /** The bed's VPS n as the cloud provider describes it. */
  static CloudProvider.RemoteHost remote(TestbedEnv bed, int n) {
    SshHost h = bed.vps(n);
    return new CloudProvider.RemoteHost("vps" + n, h.address(), h.port(), h.user(), SecretRef.file(bed.key()), null,
        bed.knownHosts().toString(), false, Map.of());
  }

  /** This run's Caddy on VPS n at {@link #ADMIN_PORT} and {@link #HTTP_PORT}, started unless it answers already. */
  static RemoteCaddy start(TestbedEnv bed, SshConnections pool, int n) {
    return start(bed, pool, n, ADMIN_PORT, HTTP_PORT, "caddy");
  }

  /** Starts Caddy on VPS n with a server named {@code byop}, unless one of this run already answers there. */
  static RemoteCaddy start(TestbedEnv bed, SshConnections pool, int n, int adminPort, int httpPort, String name) {
    SshPreviewHost host = new SshPreviewHost(remote(bed, n), pool, "byop-it-caddy-" + TestbedEnv.RUN, List.of("docker"));
    RemoteCaddy caddy = new RemoteCaddy(host, adminPort, httpPort, host.workDir() + "/" + name);
    if (caddy.answers()) {
      return caddy;
    }
    String cfg = "{\"admin\":{\"listen\":\"127.0.0.1:" + adminPort + "\"},\"apps\":{\"http\":{\"servers\":{\"byop\":{\"listen\":[\":"
        + httpPort + "\"],\"automatic_https\":{\"disable\":true},\"routes\":[]}}}}}";
    host.write(caddy.config, cfg.getBytes(StandardCharsets.UTF_8), 0600);
    // a constant script; caddy's path, config and log file arrive as positional arguments, quoted like every word.
    // Backgrounded with its output in a file so that the exec channel closes; stopped through its admin API.
    var r = host.run(List.of("sh", "-c", "\"$0\" run --config \"$1\" >\"$2\" 2>&1 </dev/null &", bed.caddyBinary().toString(),
        caddy.config, caddy.log), line -> { }, Duration.ofSeconds(20));
    if (!r.ok()) {
      throw new IllegalStateException("caddy did not start on vps" + n + ": " + r.tail(5));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!caddy.answers()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("caddy on vps" + n + " does not answer");
      }
      pause();
    }
    return caddy;
  }

  boolean answers() {
    try {
      return admin("GET", "/config/", null).status() == 200;
    } catch (IOException | RuntimeException notYet) {
      return false;
    }
  }

  /** One exchange with the admin API through the SSH connection. */
  Reply admin(String method, String path, String body) throws IOException {
    return http(host, "127.0.0.1", adminPort, "127.0.0.1:" + adminPort, method, path, body);
  }

  /** One HTTP/1.1 exchange ({@code Connection: close}) with {@code address:port} as {@code host} sees it. */
  static Reply http(PreviewHost host, String address, int port, String hostHeader, String method, String path, String body)
      throws IOException {
    try (PreviewHost.Connection c = host.connect(address, port, Duration.ofSeconds(10))) {
      byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      String head = method + " " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nConnection: close\r\n"
          + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n") + "\r\n";
      c.output().write(head.getBytes(StandardCharsets.ISO_8859_1));
      c.output().write(b);
      c.output().flush();
      String all = read(c.input());
      String status = all.lines().findFirst().orElse("");
      if (!status.startsWith("HTTP/1.")) {
        throw new IOException("not HTTP: " + status);
      }
      int split = all.indexOf("\r\n\r\n");
      return new Reply(Integer.parseInt(status.split(" ")[1]), split < 0 ? "" : all.substring(split + 4));
    }
  }

  private static String read(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0 && out.size() < 1 << 20) {
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      admin("POST", "/stop", "");
    } catch (IOException | RuntimeException alreadyStopped) {
      // nothing to stop
    }
    host.run(List.of("rm", "-f", "--", config, log), line -> { }, Duration.ofSeconds(20));
    host.run(List.of("rmdir", "--", host.workDir()), line -> { }, Duration.ofSeconds(20)); // others may still use it

  }
}
