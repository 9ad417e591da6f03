package dev.byop.preview.compose;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where an active route answers.
 *
 * @param url the preview URL users open
 * @param probe where to send a request to check it answers, as the preview's host sees it (the router's own
 *     listener, which may differ from the URL when the host name does not resolve there); probes go through
 *     {@link PreviewHost#connect}
 * @param hostHeader the {@code Host} header to send to {@code probe}, or null to send the probe's own authority
 * @param expectHeaders response headers that prove the answer came through the preview's route (Caddy answers
 *     requests that match no route with an empty 200)
 */
public record RouteEndpoint(String url, URI probe, @Nullable String hostHeader, Map<String, String> expectHeaders) {
  public RouteEndpoint {
    expectHeaders = Map.copyOf(expectHeaders);
  }

  public RouteEndpoint(String url, URI probe, @Nullable String hostHeader) {
    this(url, probe, hostHeader, Map.of());
  }

  /** One probe of the route through {@code host}: its answer (or why there is none). */
  public HttpProbe.Response probe(PreviewHost host, Duration timeout) {
    return HttpProbe.get(host, probe, hostHeader, timeout);
  }

  /** Whether the route answers 2xx/3xx with the expected headers within {@code timeout}. */
  public boolean answers(PreviewHost host, Duration timeout) {
    return answered(probe(host, timeout));
  }

  /** Whether {@code r} is a 2xx/3xx answer carrying the expected headers. */
  public boolean answered(HttpProbe.Response r) {
    return answered(r, true);
  }

  /**
   * Whether {@code r} came from the preview: the expected headers, and 2xx/3xx when {@code strict} (a health path
   * was probed, or no header proves the answer is the app's: a router's own 404 must not pass) or any status below
   * 500 when not (the app answers its root with 404: it runs and serves).
   */
  public boolean answered(HttpProbe.Response r, boolean strict) {
    if (r.status() < 0) return false;
    for (var e : expectHeaders.entrySet()) {
      if (!e.getValue().equals(r.headers().get(e.getKey().toLowerCase(Locale.ROOT)))) return false;
    }
    return strict || expectHeaders.isEmpty() ? r.ok() : r.status() < 500;
  }

  /**
   * The readiness check of a route whose entry component has {@code healthPath} (or none): the path probed and
   * whether its answer must be 2xx/3xx.
   */
  public boolean ready(PreviewHost host, @Nullable String healthPath, Duration timeout) {
    return answered(probe(host, healthPath, timeout), healthPath != null);
  }

  /** One probe of {@code path} (the endpoint's own path when null) through {@code host}. */
  public HttpProbe.Response probe(PreviewHost host, @Nullable String path, Duration timeout) {
    return HttpProbe.get(host, path == null ? probe : probe.resolve(path), hostHeader, timeout);
  }

  /** What {@code r} says, for a message when the route does not answer yet. */
  public String describe(HttpProbe.Response r) {
    if (r.error() != null) return r.error();
    if (!r.ok()) return "HTTP " + r.status();
    for (var e : expectHeaders.entrySet()) {
      String got = r.headers().get(e.getKey().toLowerCase(Locale.ROOT));
      if (!e.getValue().equals(got)) {
        return "HTTP " + r.status() + " without " + e.getKey() + ": " + e.getValue()
            + " (the router answered, not the preview's route)";
      }
    }
    return "HTTP " + r.status();
  }
}
