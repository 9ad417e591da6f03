package dev.byop.preview.compose;

import dev.byop.core.PreviewException;
import dev.byop.core.internal.Checks;
import dev.byop.docker.internal.Http1;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The readiness probe: one HTTP/1.1 GET through a {@link PreviewHost}'s stream to the router's address with the
 * preview's {@code Host} header (byop-docker's {@link Http1#exchange}, the one HTTP client of byop).
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
  private static final Http1.Limits LIMITS = new Http1.Limits(MAX_LINE, MAX_HEADER_BYTES, MAX_HEADERS, 0);

  private HttpProbe() {}

  /**
   * A response's status and headers (names lowercased, the first value of each); status -1 when the connection
   * failed or no valid response head came, with {@code error} saying why.
   */
  public record Response(int status, Map<String, String> headers, @Nullable String error) {
    public Response {
      headers = Map.copyOf(headers);
    }

    public boolean ok() {
      return status >= 200 && status < 400;
    }
  }

  /**
   * {@code GET target} through {@code host} with {@code Host: hostHeader} (or the target's authority), all of it
   * within {@code timeout}.
   */
  public static Response get(PreviewHost host, URI target, @Nullable String hostHeader, Duration timeout) {
    if (hostHeader != null) Checks.singleLine("probe host header", hostHeader);
    long deadline = System.nanoTime() + timeout.toNanos();
    int port = target.getPort() > 0 ? target.getPort() : 80;
    String path = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
    if (target.getRawQuery() != null) path += "?" + target.getRawQuery();
    String authority = hostHeader != null ? hostHeader
        : target.getHost() + (target.getPort() > 0 ? ":" + target.getPort() : "");
    try (PreviewHost.Connection c = host.connect(target.getHost(), port, timeout)) {
      Http1.Response r = Http1.exchange(c.input(), c.output(), "GET", path, authority, null, null, LIMITS, deadline);
      Map<String, String> headers = new LinkedHashMap<>();
      for (Map.Entry<String, List<String>> e : r.headers().entrySet()) {
        if (!e.getValue().isEmpty()) headers.put(e.getKey(), e.getValue().get(0));
      }
      return new Response(r.status(), headers, null);
    } catch (IOException | PreviewException | IllegalArgumentException e) {
      return new Response(-1, Map.of(), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }
}
