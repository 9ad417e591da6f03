package dev.byop.preview.compose;

import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.Checks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 GET to see whether a route answers. Hand-written on a socket because the JDK's HTTP clients refuse
 * to set the {@code Host} header (a restricted header) without a JVM-wide system property, and a probe through a
 * router must send the preview's host name to the router's own address.
 *
 * <p>What a preview answers is hostile: the probe reads only the status line and headers (each line at most
 * {@value #MAX_LINE} bytes, at most {@value #MAX_HEADER_BYTES} bytes and {@value #MAX_HEADERS} headers in all), never
 * the body, and the whole exchange (connect included) ends at one deadline, so neither an endless body, an endless
 * header nor a peer that drips one byte at a time holds it or grows its memory.
 */
public final class HttpProbe {
  static final int MAX_LINE = 8192;
  static final int MAX_HEADER_BYTES = 64 * 1024;
  static final int MAX_HEADERS = 100;

  private HttpProbe() {}

  /**
   * A response's status and headers (names lowercased); status -1 when the connection failed or no valid response
   * head came, with {@code error} saying why.
   */
  public record Response(int status, Map<String, String> headers, @Nullable String error) {
    public Response(int status, Map<String, String> headers) {
      this(status, headers, null);
    }

    public boolean ok() {
      return status >= 200 && status < 400;
    }
  }

  /** {@code GET uri} with {@code Host: hostHeader} (or the URI's authority), all of it within {@code timeout}. */
  public static Response get(URI uri, @Nullable String hostHeader, Duration timeout) {
    if (hostHeader != null) Checks.singleLine("probe host header", hostHeader);
    long deadline = System.nanoTime() + timeout.toNanos();
    int port = uri.getPort() > 0 ? uri.getPort() : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) path += "?" + uri.getRawQuery();
    String host = hostHeader != null ? hostHeader : uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    try (Socket s = new Socket()) {
      int ms = (int) Math.max(1, timeout.toMillis());
      s.connect(new InetSocketAddress(uri.getHost(), port), ms);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nUser-Agent: byop-probe\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = BoundedReads.withDeadline(s, deadline);
      String line = BoundedReads.protocolLine(in, MAX_LINE);
      if (line == null || !line.startsWith("HTTP/")) {
        return new Response(-1, Map.of(), "no HTTP status line" + (line == null ? "" : ": '" + Checks.printable(
            line.length() > 80 ? line.substring(0, 80) + "…" : line) + "'"));
      }
      String[] parts = line.split(" ", 3);
      int status = parts.length >= 2 ? Integer.parseInt(parts[1]) : -1;
      Map<String, String> headers = new LinkedHashMap<>();
      int total = line.length();
      int count = 0;
      while ((line = BoundedReads.protocolLine(in, MAX_LINE)) != null && !line.isEmpty()) {
        total += line.length();
        if (++count > MAX_HEADERS || total > MAX_HEADER_BYTES) {
          return new Response(-1, Map.of(), "response head larger than " + MAX_HEADERS + " headers or "
              + MAX_HEADER_BYTES + " bytes");
        }
        int colon = line.indexOf(':');
        if (colon > 0) headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
      }
      // the body is never read: closing the socket ends an endless one
      return new Response(status, headers);
    } catch (IOException | NumberFormatException e) {
      return new Response(-1, Map.of(), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** The status code of {@link #get}, or -1. */
  public static int status(URI uri, @Nullable String hostHeader, Duration timeout) {
    return get(uri, hostHeader, timeout).status();
  }

  /** Whether the status is 2xx or 3xx. */
  public static boolean answers(URI uri, @Nullable String hostHeader, Duration timeout) {
    return get(uri, hostHeader, timeout).ok();
  }

  /** Whether the status is 2xx or 3xx and every expected header has its value. */
  public static boolean answers(URI uri, @Nullable String hostHeader, Map<String, String> expectHeaders,
      Duration timeout) {
    Response r = get(uri, hostHeader, timeout);
    if (!r.ok()) return false;
    for (var e : expectHeaders.entrySet()) {
      if (!e.getValue().equals(r.headers().get(e.getKey().toLowerCase(Locale.ROOT)))) return false;
    }
    return true;
  }
}
