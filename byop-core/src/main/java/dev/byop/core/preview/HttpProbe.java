package dev.byop.core.preview;

import dev.byop.core.internal.Checks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
 */
public final class HttpProbe {
  private HttpProbe() {}

  /**
   * A response's status and headers (names lowercased); status -1 when the connection failed or no status line came.
   */
  public record Response(int status, Map<String, String> headers) {
    public boolean ok() {
      return status >= 200 && status < 400;
    }
  }

  /** {@code GET uri} with {@code Host: hostHeader} (or the URI's authority), waiting at most {@code timeout}. */
  public static Response get(URI uri, @Nullable String hostHeader, Duration timeout) {
    if (hostHeader != null) Checks.singleLine("probe host header", hostHeader);
    int port = uri.getPort() > 0 ? uri.getPort() : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) path += "?" + uri.getRawQuery();
    String host = hostHeader != null ? hostHeader : uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
    try (Socket s = new Socket()) {
      int ms = (int) Math.max(1, timeout.toMillis());
      s.connect(new InetSocketAddress(uri.getHost(), port), ms);
      s.setSoTimeout(ms);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nUser-Agent: byop-probe\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      String line = r.readLine();
      if (line == null || !line.startsWith("HTTP/")) return new Response(-1, Map.of());
      String[] parts = line.split(" ", 3);
      int status = parts.length >= 2 ? Integer.parseInt(parts[1]) : -1;
      Map<String, String> headers = new LinkedHashMap<>();
      while ((line = r.readLine()) != null && !line.isEmpty()) {
        int colon = line.indexOf(':');
        if (colon > 0) headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
      }
      return new Response(status, headers);
    } catch (IOException | NumberFormatException e) {
      return new Response(-1, Map.of());
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
