package dev.byop.preview.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** A loopback port that answers like an SSH server's first line (and nothing more), for the port probe. */
final class SshBanner implements AutoCloseable {

  private final ServerSocket server;
  final AtomicInteger connections = new AtomicInteger();

  /** Reserves a port; it listens only once {@link #listen()} runs (a host whose sshd starts after ACTIVE). */
  SshBanner() throws IOException {
    server = new ServerSocket();
    server.setReuseAddress(true);
  }

  int reserve() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }

  SshBanner listen(int port) throws IOException {
    server.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    Thread t = new Thread(this::serve, "ssh-banner");
    t.setDaemon(true);
    t.start();
    return this;
  }

  int port() {
    return server.getLocalPort();
  }

  private void serve() {
    while (!server.isClosed()) {
      try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
        connections.incrementAndGet();
        out.write("SSH-2.0-OpenSSH_9.2p1 fake\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
