package dev.byop.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A registry that refuses everyone: every request is answered {@code 401} with a {@code Basic} challenge, and what
 * came (request lines, {@code Authorization} headers) is recorded, so a test can see whether credentials reached a
 * host that should get none.
 *
 * <p>Written on a plain socket rather than the JDK's {@code HttpServer} because a Docker 26 engine's BuildKit speaks
 * TLS first even to a registry its daemon names insecure and falls back to plain HTTP only once the server answers
 * {@code HTTP/…}; the JDK server waits for a request line that never comes and the client gives up after its TLS
 * handshake timeout. Here a TLS handshake record (first byte {@code 0x16}) is answered {@code 400} at once.
 *
 * <pre>{@code
 * try (FakeRegistry r = FakeRegistry.start(bed.fakeRegistryAddress(engine))) {
 *   // build FROM r.address() + "/private/base:1" ...
 *   assertEquals(List.of(), r.authorizations());
 * }
 * }</pre>
 */
public final class FakeRegistry implements AutoCloseable {
  private static final int MAX_HEAD = 64 * 1024;

  private final ServerSocket server;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  private FakeRegistry(ServerSocket server) {
    this.server = server;
    this.acceptor = new Thread(this::acceptLoop, "fake-registry-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Listens on {@code address} (port 0 for any). */
  public static FakeRegistry start(InetSocketAddress address) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(address, 50);
    return new FakeRegistry(s);
  }

  /** {@code host:port} as an image reference names it. */
  public String address() {
    return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
  }

  /** Request lines received over plain HTTP, e.g. {@code HEAD /v2/private/base/manifests/1}. */
  public List<String> requests() {
    return List.copyOf(requests);
  }

  /** Every {@code Authorization} header value received. */
  public List<String> authorizations() {
    return List.copyOf(authorizations);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket c = server.accept();
        Thread t = new Thread(() -> serve(c), "fake-registry-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket c) {
    try (c) {
      c.setSoTimeout(10_000);
      InputStream in = c.getInputStream();
      OutputStream out = c.getOutputStream();
      int first = in.read();
      if (first < 0) return;
      if (first == 0x16) { // a TLS handshake record: say in plain HTTP that this is not a TLS server
        out.write(response("400 Bad Request", ""));
        return;
      }
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      head.write(first);
      int b;
      while (head.size() < MAX_HEAD && (b = in.read()) >= 0) {
        head.write(b);
        byte[] h = head.toByteArray();
        int n = h.length;
        if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') break;
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      String requestLine = lines[0];
      int version = requestLine.lastIndexOf(" HTTP/");
      requests.add(version > 0 ? requestLine.substring(0, version) : requestLine);
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0 && lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("authorization")) {
          authorizations.add(lines[i].substring(colon + 1).trim());
        }
      }
      out.write(response("401 Unauthorized", "WWW-Authenticate: Basic realm=\"byop-foreign\"\r\n"
          + "Docker-Distribution-API-Version: registry/2.0\r\n"));
    } catch (IOException ignored) {
      // a client that went away: nothing to record
    }
  }

  private static byte[] response(String status, String headers) {
    return ("HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: 0\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
