package dev.byop.preview.ssh.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-request HTTP/1.1 client over any byte stream.
 *
 * <p>Hand-written because both of its uses need what the JDK clients refuse: a chosen {@code Host} header (the preview's
 * virtual host while connecting to the router's IP; Caddy's admin API checks Host against its own listen address) and,
 * for the admin API, a stream that is an SSH {@code direct-tcpip} channel rather than a socket. It sends one request with
 * {@code Connection: close} and reads a Content-Length, chunked, or until-EOF body.
 *
 * <p>Bounded, as the peer may be a preview: header lines of at most {@value #MAX_LINE} bytes, a body of at most
 * {@value #MAX_BODY} bytes (a longer one, or an endless chunked one, fails with an {@link IOException} once the bound is
 * reached), and {@link #get} ends at one deadline however slowly the peer sends.
 */
public final class MiniHttp {

  static final int MAX_LINE = 8192;
  static final int MAX_BODY = 4 * 1024 * 1024;
  static final int MAX_HEADERS = 100;

  private MiniHttp() {}

  /** Status and body of a response. */
  public record Response(int status, String body, java.util.Map<String, String> headers) {

    /** A header by lower-case name, or null. */
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Sends one request on {@code out} and reads the response from {@code in}. */
  public static Response exchange(InputStream in, OutputStream out, String method, String host, String path, String contentType,
      byte[] body) throws IOException {
    StringBuilder req = new StringBuilder();
    req.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    req.append("Host: ").append(host).append("\r\n");
    req.append("Connection: close\r\n");
    req.append("User-Agent: byop\r\n");
    if (body != null) {
      req.append("Content-Type: ").append(contentType).append("\r\n");
      req.append("Content-Length: ").append(body.length).append("\r\n");
    }
    req.append("\r\n");
    out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      out.write(body);
    }
    out.flush();
    String status = line(in);
    if (status == null || !status.startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP response: " + status);
    }
    int code = Integer.parseInt(status.split(" ", 3)[1]);
    long length = -1;
    boolean chunked = false;
    java.util.Map<String, String> headers = new java.util.HashMap<>();
    String h;
    int count = 0;
    while ((h = line(in)) != null && !h.isEmpty()) {
      if (++count > MAX_HEADERS) {
        throw new IOException("more than " + MAX_HEADERS + " response headers");
      }
      int c = h.indexOf(':');
      if (c < 0) {
        continue;
      }
      String name = h.substring(0, c).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(c + 1).trim();
      headers.put(name, value);
      if (name.equals("content-length")) {
        length = Long.parseLong(value);
      } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    if (method.equals("HEAD") || code == 204 || code == 304) {
      return new Response(code, "", headers);
    }
    if (chunked) {
      while (true) {
        String size = line(in);
        if (size == null) {
          break;
        }
        int semi = size.indexOf(';');
        long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
        if (n == 0) {
          break;
        }
        if (n < 0 || b.size() + n > MAX_BODY) {
          throw new IOException("response body larger than " + MAX_BODY + " bytes");
        }
        b.write(in.readNBytes((int) n));
        line(in);
      }
    } else if (length >= 0) {
      if (length > MAX_BODY) {
        throw new IOException("response body of " + length + " bytes is larger than " + MAX_BODY);
      }
      b.write(in.readNBytes((int) length));
    } else {
      byte[] rest = in.readNBytes(MAX_BODY + 1);
      if (rest.length > MAX_BODY) {
        throw new IOException("response body larger than " + MAX_BODY + " bytes");
      }
      b.write(rest);
    }
    return new Response(code, b.toString(StandardCharsets.UTF_8), headers);
  }

  /** GET {@code path} from {@code address:port} presenting {@code host} as the Host header. */
  public static Response get(String address, int port, String host, String path, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, port), (int) timeout.toMillis());
      return exchange(dev.byop.core.internal.BoundedReads.withDeadline(s, deadline), s.getOutputStream(), "GET", host, path, null, null);
    }
  }

  private static String line(InputStream in) throws IOException {
    return dev.byop.core.internal.BoundedReads.protocolLine(in, MAX_LINE);
  }
}
