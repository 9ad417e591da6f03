package dev.byop.preview.compose;

import java.net.URI;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where an active route answers.
 *
 * @param url the preview URL users open
 * @param probe where to send a request to check it answers (the router's own listener, which may differ from the
 *     URL when the host name does not resolve on this machine)
 * @param hostHeader the {@code Host} header to send to {@code probe}, or null to send the probe's own
 * @param expectHeaders response headers that prove the answer came through the preview's route (Caddy answers
 *     requests that match no route with an empty 200)
 */
public record RouteEndpoint(String url, URI probe, @Nullable String hostHeader, Map<String, String> expectHeaders) {
  public RouteEndpoint {
    expectHeaders = expectHeaders == null ? Map.of() : Map.copyOf(expectHeaders);
  }

  public RouteEndpoint(String url, URI probe, @Nullable String hostHeader) {
    this(url, probe, hostHeader, Map.of());
  }

  /** Whether the route answers 2xx/3xx with the expected headers within {@code timeout}. */
  public boolean answers(java.time.Duration timeout) {
    return HttpProbe.answers(probe, hostHeader, expectHeaders, timeout);
  }

  /** One probe of the route: its response (or why there is none), for a message when it does not answer. */
  public HttpProbe.Response probe(java.time.Duration timeout) {
    return HttpProbe.get(probe, hostHeader, timeout);
  }

  /** Whether {@code r} is a 2xx/3xx answer carrying the expected headers. */
  public boolean answered(HttpProbe.Response r) {
    if (!r.ok()) return false;
    for (var e : expectHeaders.entrySet()) {
      if (!e.getValue().equals(r.headers().get(e.getKey().toLowerCase(java.util.Locale.ROOT)))) return false;
    }
    return true;
  }
}
