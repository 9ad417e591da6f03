package dev.byop.core.preview;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.LogSink;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Routes with Caddy: each preview gets a route with id {@code <prefix><previewId>} (host match, reverse proxy to the
 * entry service's port published on 127.0.0.1), added and removed through Caddy's admin API. Routes of previews the
 * store no longer knows are found by their id prefix.
 */
public final class CaddyRouter implements PreviewRouter {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The response header Caddy adds to answers of a preview's route (value: the preview id). */
  public static final String PREVIEW_HEADER = "X-Byop-Preview";
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,40}");

  private final Settings settings;
  private final HttpClient http;

  /**
   * @param admin the admin API, e.g. {@code http://127.0.0.1:2019}
   * @param server the name of the HTTP server in Caddy's config whose routes byop manages
   * @param listener where that server listens, e.g. {@code http://127.0.0.1:8088} (probes go there)
   * @param publicPort the port in preview URLs, or 0 for none (80)
   * @param upstreamHost the address Caddy reaches published ports on
   * @param routeIdPrefix prefix of byop's route ids, e.g. {@code byop-}
   */
  public record Settings(URI admin, String server, URI listener, int publicPort, String upstreamHost,
      String routeIdPrefix) {
    public Settings {
      Checks.notNull("caddy.admin", admin);
      Checks.notNull("caddy.listener", listener);
      if (!PREFIX.matcher(server).matches()) {
        throw new ValidationException("caddy.server", Checks.printable(server), "must match [A-Za-z0-9_-]+");
      }
      if (publicPort != 0) Checks.port("caddy.publicPort", publicPort);
      new PortMapping(upstreamHost, 0, 80, "tcp");
      if (!PREFIX.matcher(routeIdPrefix).matches()) {
        throw new ValidationException("caddy.routeIdPrefix", Checks.printable(routeIdPrefix),
            "must be 1-40 characters of [A-Za-z0-9_-]");
      }
    }
  }

  public CaddyRouter(Settings settings) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @Override
  public String id() {
    return "caddy";
  }

  /** The Caddy route id of a preview. */
  public String routeId(String previewId) {
    return settings.routeIdPrefix() + previewId;
  }

  @Override
  public void ensureReady(LogSink log) {
    HttpResponse<String> r;
    try {
      r = send(HttpRequest.newBuilder(uri("/config/apps/http/servers/" + settings.server())).GET());
    } catch (PreviewException e) {
      throw new PreviewException("Caddy's admin API at " + settings.admin() + " does not answer; start Caddy with its "
          + "admin endpoint there or choose preview.router: traefik or plain (" + e.getMessage() + ")", e);
    }
    if (r.statusCode() != 200 || r.body().isBlank() || r.body().trim().equals("null")) {
      throw new PreviewException("Caddy at " + settings.admin() + " has no HTTP server '" + settings.server()
          + "' (HTTP " + r.statusCode() + "); configure one or set preview.caddy.server");
    }
  }

  @Override
  public ComposeFile prepare(ComposeFile file, Route route) {
    ComposeService entry = file.services().get(route.service());
    if (entry == null) throw new ValidationException("route.service", route.service(), "is not a service of the file");
    return file.withService(route.service(), entry.plusPort(PortMapping.loopback(route.containerPort())));
  }

  /** The route's JSON as Caddy takes it. */
  public ObjectNode routeJson(Route route, int publishedPort) {
    ObjectNode r = JSON.createObjectNode();
    r.put("@id", routeId(route.previewId()));
    r.putArray("match").addObject().putArray("host").add(route.hostname());
    ObjectNode proxy = r.putArray("handle").addObject();
    proxy.put("handler", "reverse_proxy");
    proxy.putArray("upstreams").addObject().put("dial", settings.upstreamHost() + ":" + publishedPort);
    // marks answers that came through this route: Caddy answers requests matching no route with an empty 200
    proxy.putObject("headers").putObject("response").putObject("set").putArray(PREVIEW_HEADER).add(route.previewId());
    r.put("terminal", true);
    return r;
  }

  @Override
  public RouteEndpoint activate(Route route, @Nullable Integer publishedPort, LogSink log) {
    if (publishedPort == null) throw new PreviewException("no published port for " + route.service());
    remove(route.previewId(), LogSink.discard());
    String body = routeJson(route, publishedPort).toString();
    String routes = "/config/apps/http/servers/" + settings.server() + "/routes";
    // PUT at index 0 puts byop's host-matched routes before any catch-all route; Caddy refuses index 0 of an empty
    // array, so an empty list is appended to instead.
    HttpResponse<String> r = send(json(routes + "/0", body).PUT(HttpRequest.BodyPublishers.ofString(body)));
    if (r.statusCode() != 200) r = send(json(routes, body).POST(HttpRequest.BodyPublishers.ofString(body)));
    if (r.statusCode() != 200) {
      throw new PreviewException("Caddy refused route " + routeId(route.previewId()) + ": HTTP " + r.statusCode()
          + " " + r.body());
    }
    log.line("route " + routeId(route.previewId()) + ": " + route.hostname() + " -> " + settings.upstreamHost() + ":"
        + publishedPort);
    String url = "http://" + route.hostname() + (settings.publicPort() == 0 ? "" : ":" + settings.publicPort()) + "/";
    return new RouteEndpoint(url, settings.listener().resolve("/"), route.hostname(),
        Map.of(PREVIEW_HEADER, route.previewId()));
  }

  @Override
  public RouteEndpoint endpoint(String previewId, String hostname, String url) {
    return new RouteEndpoint(url, settings.listener().resolve("/"), hostname, Map.of(PREVIEW_HEADER, previewId));
  }

  @Override
  public void remove(String previewId, LogSink log) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/id/" + routeId(previewId))).DELETE());
    if (r.statusCode() == 200) {
      log.line("route " + routeId(previewId) + " removed");
    } else if (r.statusCode() != 404) {
      throw new PreviewException("Caddy did not remove route " + routeId(previewId) + ": HTTP " + r.statusCode() + " "
          + r.body());
    }
  }

  @Override
  public Set<String> routedPreviewIds() {
    HttpResponse<String> r = send(HttpRequest.newBuilder(
        uri("/config/apps/http/servers/" + settings.server() + "/routes")).GET());
    if (r.statusCode() != 200) throw new PreviewException("cannot list Caddy routes: HTTP " + r.statusCode());
    Set<String> ids = new LinkedHashSet<>();
    try {
      JsonNode routes = JSON.readTree(r.body());
      for (JsonNode route : routes) {
        String id = route.path("@id").asText("");
        if (id.startsWith(settings.routeIdPrefix())) ids.add(id.substring(settings.routeIdPrefix().length()));
      }
    } catch (IOException e) {
      throw new PreviewException("Caddy answered routes that are not JSON: " + e.getMessage(), e);
    }
    return ids;
  }

  @Override
  public boolean needsPublishedPort() {
    return true;
  }

  private URI uri(String path) {
    return settings.admin().resolve(path);
  }

  private HttpRequest.Builder json(String path, String body) {
    return HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json");
  }

  private HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new PreviewException("Caddy admin API " + settings.admin() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PreviewException("interrupted talking to Caddy", e);
    }
  }
}
