package dev.byop.preview.compose;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.LogSink;
import java.net.URI;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Routes with Caddy: each preview gets a route with id {@code <prefix><previewId>} (host match, reverse proxy to the
 * entry service's port published on the upstream address), added and removed through Caddy's admin API on the
 * preview's host ({@link CaddyAdmin}, through {@link PreviewHost#connect}). Routes of previews the store no longer
 * knows are found by their id prefix. The settings are as the host sees them, so the same router serves a Caddy on
 * this machine and one on each SSH host.
 */
public final class CaddyRouter implements PreviewRouter {
  /** The response header Caddy adds to answers of a preview's route (value: the preview id). */
  public static final String PREVIEW_HEADER = CaddyAdmin.MARKER_HEADER;
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,40}");

  private final Settings settings;

  /**
   * @param admin the admin API as the preview's host sees it, e.g. {@code http://127.0.0.1:2019}
   * @param server the name of the HTTP server in Caddy's config whose routes byop manages
   * @param listener where that server listens as the host sees it, e.g. {@code http://127.0.0.1:8088} (probes go
   *     there)
   * @param publicPort the port in preview URLs, or 0 for none (80)
   * @param upstreamHost the address Caddy reaches published ports on
   * @param routeIdPrefix prefix of byop's route ids, e.g. {@code byop-}
   */
  public record Settings(URI admin, String server, URI listener, int publicPort, String upstreamHost,
      String routeIdPrefix) {
    public Settings {
      checkHttp("caddy.admin", admin);
      checkHttp("caddy.listener", listener);
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

  /** An {@code http://host[:port]} URL, as the admin API and the listener are reached. */
  static URI checkHttp(String field, @Nullable URI url) {
    Checks.notNull(field, url);
    if (!"http".equals(url.getScheme()) || url.getHost() == null || url.getRawUserInfo() != null) {
      throw new ValidationException(field, Checks.printable(url.toString()),
          "must be an http URL with a host, e.g. http://127.0.0.1:2019");
    }
    return url;
  }

  /** Parses {@code value} for {@code field} as {@link #checkHttp} takes it. */
  public static URI httpUrl(String field, String value) {
    try {
      return checkHttp(field, new URI(value));
    } catch (java.net.URISyntaxException e) {
      throw new ValidationException(field, Checks.printable(value),
          "must be an http URL with a host, e.g. http://127.0.0.1:2019");
    }
  }

  public CaddyRouter(Settings settings) {
    this.settings = settings;
  }

  private CaddyAdmin admin(PreviewHost host) {
    return new CaddyAdmin(host, settings.admin(), settings.server());
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
  public void ensureReady(PreviewHost host, LogSink log) {
    boolean hasServer;
    try {
      hasServer = admin(host).hasServer();
    } catch (PreviewException e) {
      throw new PreviewException("Caddy's admin API at " + settings.admin() + " on " + host.id() + " does not answer;"
          + " start Caddy with its admin endpoint there or choose preview.router: traefik or plain (" + e.getMessage()
          + ")", e);
    }
    if (!hasServer) {
      throw new PreviewException("Caddy at " + settings.admin() + " on " + host.id() + " has no HTTP server '"
          + settings.server() + "'; configure one or set preview.caddy.server");
    }
  }

  @Override
  public ComposeFile prepare(ComposeFile file, Route route) {
    ComposeService entry = file.services().get(route.service());
    if (entry == null) throw new ValidationException("route.service", route.service(), "is not a service of the file");
    // published where Caddy dials it: an engine whose ports are not on this machine's loopback (its own network
    // namespace, a VM) is reachable at another address
    return file.withService(route.service(),
        entry.plusPort(new PortMapping(settings.upstreamHost(), 0, route.containerPort(), "tcp")));
  }

  /** The route's JSON as Caddy takes it. */
  public ObjectNode routeJson(Route route, int publishedPort) {
    return CaddyAdmin.routeJson(routeId(route.previewId()), route.hostname(),
        settings.upstreamHost() + ":" + publishedPort, route.previewId());
  }

  @Override
  public RouteEndpoint activate(PreviewHost host, Route route, @Nullable Integer publishedPort, LogSink log) {
    if (publishedPort == null) throw new PreviewException("no published port for " + route.service());
    admin(host).putRoute(routeJson(route, publishedPort));
    log.line("route " + routeId(route.previewId()) + ": " + route.hostname() + " -> " + settings.upstreamHost() + ":"
        + publishedPort);
    String url = "http://" + route.hostname() + (settings.publicPort() == 0 ? "" : ":" + settings.publicPort()) + "/";
    return new RouteEndpoint(url, settings.listener().resolve("/"), route.hostname(),
        Map.of(PREVIEW_HEADER, route.previewId()));
  }

  @Override
  public RouteEndpoint endpoint(PreviewHost host, String previewId, String hostname, String url) {
    return new RouteEndpoint(url, settings.listener().resolve("/"), hostname, Map.of(PREVIEW_HEADER, previewId));
  }

  @Override
  public void remove(PreviewHost host, String previewId, LogSink log) {
    if (admin(host).removeRoute(routeId(previewId))) log.line("route " + routeId(previewId) + " removed");
  }

  @Override
  public Set<String> routedPreviewIds(PreviewHost host) {
    Set<String> ids = new LinkedHashSet<>();
    for (String id : admin(host).routeIds()) {
      if (id.startsWith(settings.routeIdPrefix())) ids.add(id.substring(settings.routeIdPrefix().length()));
    }
    return ids;
  }

  @Override
  public boolean needsPublishedPort() {
    return true;
  }
}
