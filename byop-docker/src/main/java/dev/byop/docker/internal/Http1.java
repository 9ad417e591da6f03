package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes an HTTP/1.1 request head and parses a response head. */
public final class Http1 {
  private Http1() {}

  /** A parsed status line and headers. */
  public record Head(int status, String reason, Map<String, List<String>> headers) {
    public String first(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  /** Writes the request line and headers (values must not contain CR or LF). */
  public static void writeHead(OutputStream out, String method, String target, List<String[]> headers)
      throws IOException {
    StringBuilder sb = new StringBuilder(256);
    sb.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    for (String[] h : headers) {
      if (h[0].indexOf('\r') >= 0 || h[0].indexOf('\n') >= 0 || h[1].indexOf('\r') >= 0
          || h[1].indexOf('\n') >= 0) {
        throw new IllegalArgumentException("HTTP header '" + h[0] + "' contains a line break");
      }
      sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
    }
    sb.append("\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a response head; 1xx other than 101 are skipped. */
  public static Head readHead(BufferedIn in) throws IOException {
    while (true) {
      String status = in.readLine();
      if (status == null) {
        throw new EOFException("the engine closed the connection without an HTTP response");
      }
      if (status.isEmpty()) {
        continue;
      }
      if (!status.startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP/1.x status line: '" + abbreviate(status) + "'");
      }
      String[] parts = status.split(" ", 3);
      int code;
      try {
        code = Integer.parseInt(parts[1]);
      } catch (RuntimeException e) {
        throw new IOException("bad HTTP status line: '" + abbreviate(status) + "'", e);
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      String line;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
      if (line == null) {
        throw new EOFException("the engine closed the connection inside the response head");
      }
      if (code >= 100 && code < 200 && code != 101) {
        continue;
      }
      return new Head(code, parts.length > 2 ? parts[2] : "", headers);
    }
  }

  /** The body stream for a response head, per Transfer-Encoding / Content-Length / connection close. */
  public static InputStream body(String method, Head head, BufferedIn in) {
    int s = head.status();
    if ("HEAD".equals(method) || s == 204 || s == 304) {
      return new LimitedInputStream(in, 0);
    }
    String te = head.first("transfer-encoding");
    if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
      return new ChunkedInputStream(in);
    }
    String cl = head.first("content-length");
    if (cl != null) {
      try {
        return new LimitedInputStream(in, Long.parseLong(cl.trim()));
      } catch (NumberFormatException e) {
        // fall through: read to close
      }
    }
    return in;
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
