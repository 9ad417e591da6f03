package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * byop's one HTTP/1.1 client: request heads and response heads for the Docker Engine API on its socket
 * ({@code DockerClient}), and {@link #exchange}, one bounded request over any byte stream (a TCP socket, a channel of
 * an SSH connection) for readiness probes and Caddy's admin API.
 *
 * <p>Hand-written because its users need what the JDK clients refuse: a chosen {@code Host} header (a preview's
 * virtual host while connecting to the router's address; Caddy's admin API checks Host against its own listen
 * address), streams that are not sockets, and hard bounds on what a hostile peer answers.
 */
public final class Http1 {
  /** The engine's answers: long lines (JSON on one line in errors), heads of ordinary size. */
  private static final Limits ENGINE = new Limits(64 * 1024, 1024 * 1024, 1000, 0);

  private Http1() {}

  /** A parsed status line and headers (names lowercased). */
  public record Head(int status, String reason, Map<String, List<String>> headers) {
    public @Nullable String first(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  /**
   * What one exchange may read at most: a line of the head, the whole head, the number of headers, and the body
   * ({@code 0}: the body is never read, as a probe needs only the status and headers).
   */
  public record Limits(int maxLine, int maxHeadBytes, int maxHeaders, int maxBodyBytes) {
    public Limits {
      if (maxLine < 1 || maxHeadBytes < maxLine || maxHeaders < 1 || maxBodyBytes < 0) {
        throw new IllegalArgumentException("bad HTTP limits " + maxLine + "/" + maxHeadBytes + "/" + maxHeaders + "/"
            + maxBodyBytes);
      }
    }

    /** Status line and headers only (8 KiB a line, 64 KiB and 100 headers in all); the body is never read. */
    public static Limits headOnly() {
      return new Limits(8192, 64 * 1024, 100, 0);
    }

    /** The head as {@link #headOnly} and a body of at most {@code maxBodyBytes}. */
    public static Limits withBody(int maxBodyBytes) {
      return new Limits(8192, 64 * 1024, 100, maxBodyBytes);
    }
  }

  /** An answer of {@link #exchange}: status, headers (names lowercased) and the body read (empty when not read). */
  public record Response(int status, Map<String, List<String>> headers, byte[] body) {
    public @Nullable String first(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * Sends one request ({@code Connection: close}) on {@code out} and reads the answer from {@code in} within
   * {@code limits} and before {@code deadlineNanos} ({@link System#nanoTime}): no read starts after the deadline, and
   * the stream's own read timeout bounds a read that blocks (give a stream whose reads end at the same deadline).
   *
   * @param host the {@code Host} header, e.g. a preview's host name or {@code 127.0.0.1:2019}
   * @param body the request body (sent with {@code Content-Type: contentType} and its length), or null for none
   * @throws IOException when the peer cannot be talked to, answers no HTTP, or answers more than {@code limits}
   *     allow (the message says which bound)
   */
  public static Response exchange(InputStream in, OutputStream out, String method, String target, String host,
      @Nullable String contentType, byte @Nullable [] body, Limits limits, long deadlineNanos) throws IOException {
    List<String[]> h = new ArrayList<>();
    h.add(new String[] {"Host", host});
    h.add(new String[] {"User-Agent", "byop"});
    h.add(new String[] {"Connection", "close"});
    if (body != null) {
      h.add(new String[] {"Content-Type", contentType != null ? contentType : "application/octet-stream"});
      h.add(new String[] {"Content-Length", Integer.toString(body.length)});
    } else if (!"GET".equals(method) && !"HEAD".equals(method) && !"DELETE".equals(method)) {
      h.add(new String[] {"Content-Length", "0"});
    }
    writeHead(out, method, target, h);
    if (body != null) {
      out.write(body);
    }
    out.flush();
    BufferedIn bin = new BufferedIn(new DeadlineInputStream(in, deadlineNanos));
    Head head = readHead(bin, limits);
    if (limits.maxBodyBytes() == 0) {
      // never read: closing the stream ends an endless body
      return new Response(head.status(), head.headers(), new byte[0]);
    }
    byte[] b = body(method, head, bin).readNBytes(limits.maxBodyBytes() + 1);
    if (b.length > limits.maxBodyBytes()) {
      throw new IOException("response body larger than " + limits.maxBodyBytes() + " bytes");
    }
    return new Response(head.status(), head.headers(), b);
  }

  /** A stream whose reads fail once the deadline has passed (a read already waiting ends by the stream's own timeout). */
  private static final class DeadlineInputStream extends BlockInputStream {
    private final InputStream in;
    private final long deadlineNanos;

    DeadlineInputStream(InputStream in, long deadlineNanos) {
      this.in = in;
      this.deadlineNanos = deadlineNanos;
    }

    @Override
    protected int readBlock(byte[] b, int off, int len) throws IOException {
      if (System.nanoTime() - deadlineNanos > 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      return in.read(b, off, len);
    }

    @Override
    public void close() throws IOException {
      in.close();
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

  /** Reads a Docker Engine response head; 1xx other than 101 are skipped. */
  public static Head readHead(BufferedIn in) throws IOException {
    return readHead(in, ENGINE);
  }

  /**
   * Reads a response head within {@code limits} (line length, head size, header count); 1xx other than 101 are
   * skipped.
   */
  public static Head readHead(BufferedIn in, Limits limits) throws IOException {
    long total = 0;
    while (true) {
      String status = in.readLine(limits.maxLine());
      if (status == null) {
        throw new EOFException("the peer closed the connection without an HTTP response");
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
      int count = 0;
      total += status.length();
      while ((line = in.readLine(limits.maxLine())) != null && !line.isEmpty()) {
        total += line.length();
        if (++count > limits.maxHeaders() || total > limits.maxHeadBytes()) {
          throw new IOException("response head larger than " + limits.maxHeaders() + " headers or "
              + limits.maxHeadBytes() + " bytes");
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
      if (line == null) {
        throw new EOFException("the peer closed the connection inside the response head");
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
