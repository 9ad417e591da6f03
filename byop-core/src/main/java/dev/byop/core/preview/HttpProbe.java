package dev.byop.core.preview;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 GET to see whether a route answers. Hand-written on a socket because the JDK's HTTP clients refuse
 * to set the {@code Host} header (a restricted header) without a JVM-wide system property, and a probe through a
 * router must send the preview's host name to the router's own address.
 */
public final class HttpProbe {
  private HttpProbe() {}

  /**
   * The status code of {@code GET uri} sent with {@code Host: hostHeader} (or the URI's authority), or -1 when the
   * connection fails or no status line arrives within {@code timeout}.
   */
  public static int status(URI uri, @Nullable String hostHeader, Duration timeout) {
    if (hostHeader != null) dev.byop.core.internal.Checks.singleLine("probe host header", hostHeader);
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
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1)).readLine();
      if (line == null || !line.startsWith("HTTP/")) return -1;
      String[] parts = line.split(" ", 3);
      return parts.length >= 2 ? Integer.parseInt(parts[1]) : -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** Whether the status is 2xx or 3xx. */
  public static boolean answers(URI uri, @Nullable String hostHeader, Duration timeout) {
    int s = status(uri, hostHeader, timeout);
    return s >= 200 && s < 400;
  }
}
