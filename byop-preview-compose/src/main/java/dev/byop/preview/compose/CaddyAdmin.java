package dev.byop.preview.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.docker.internal.Http1;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * byop's side of Caddy's admin API: preview routes (host match, reverse proxy, a marker header) added, replaced,
 * removed and listed on one HTTP server of Caddy's config. The admin API is reached through
 * {@link PreviewHost#connect} with byop-docker's {@link Http1} client: a socket on this machine, a channel of the SSH
 * connection on a remote host (whose admin port is never exposed), so local and remote Caddy are spoken to the same
 * way. Every answer is read with bounds (a 4 MiB body at most) within one deadline.
 */
public final class CaddyAdmin {
  /** The response header a preview's route adds to every answer (Caddy answers requests matching no route with an
   * empty 200, so readiness checks look for it). */
  public static final String MARKER_HEADER = "X-Byop-Preview";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,120}");
  static final int MAX_BODY = 4 * 1024 * 1024;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** An admin API answer. */
  record Reply(int status, String body) {
    boolean ok() {
      return status / 100 == 2;
    }
  }

  private final PreviewHost host;
  private final URI admin;
  private final String server;
  private final String where;

  /**
   * @param host the host Caddy runs on
   * @param admin the admin API as that host sees it, e.g. {@code http://127.0.0.1:2019}
   * @param server the HTTP server in Caddy's config whose routes byop manages
   */
  public CaddyAdmin(PreviewHost host, URI admin, String server) {
    this.host = host;
    this.admin = admin;
    this.server = name("caddy.server", server);
    this.where = "Caddy's admin API " + admin + " on " + host.id();
  }

  private Reply exchange(String method, String path, @Nullable String jsonBody) {
    int port = admin.getPort() > 0 ? admin.getPort() : 80;
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    try (PreviewHost.Connection c = host.connect(admin.getHost(), port, TIMEOUT)) {
      Http1.Response r = Http1.exchange(c.input(), c.output(), method, path, admin.getHost() + ":" + port,
          jsonBody == null ? null : "application/json",
          jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8), Http1.Limits.withBody(MAX_BODY),
          deadline);
      return new Reply(r.status(), r.bodyText());
    } catch (IOException e) {
      throw new PreviewException(where + ": " + method + " " + path + ": " + e.getMessage(), e);
    }
  }

  /** The route as Caddy takes it: requests for {@code hostname} go to {@code upstream} and carry the marker. */
  public static ObjectNode routeJson(String routeId, String hostname, String upstream, String markerValue) {
    ObjectNode r = JSON.createObjectNode();
    r.put("@id", name("caddy route id", routeId));
    r.putArray("match").addObject().putArray("host").add(hostname);
    ObjectNode proxy = r.putArray("handle").addObject();
    proxy.put("handler", "reverse_proxy");
    proxy.putArray("upstreams").addObject().put("dial", upstream);
    proxy.putObject("headers").putObject("response").putObject("set").putArray(MARKER_HEADER).add(markerValue);
    r.put("terminal", true);
    return r;
  }

  /** Whether the configured HTTP server exists (the admin API answers with its config). */
  public boolean hasServer() {
    Reply r = exchange("GET", serverPath(), null);
    return r.status() == 200 && !r.body().isBlank() && !r.body().trim().equals("null");
  }

  /** Adds the route, replacing one with the same id, ahead of any catch-all route. */
  public void putRoute(ObjectNode route) {
    String id = route.path("@id").asText();
    removeRoute(id);
    String body = route.toString();
    String routes = serverPath() + "/routes";
    // PUT at index 0 goes before any catch-all route; Caddy refuses index 0 of an empty list (then POST appends),
    // and POST fails when the server has no routes key yet (then PUT creates the list).
    Reply r = exchange("PUT", routes + "/0", body);
    if (!r.ok()) r = exchange("POST", routes, body);
    if (!r.ok()) r = exchange("PUT", routes, "[" + body + "]");
    if (!r.ok()) {
      throw new PreviewException(where + " refused route " + id + ": HTTP " + r.status() + " " + r.body().strip());
    }
  }

  /** Removes a route by id; true when it existed. */
  public boolean removeRoute(String routeId) {
    Reply r = exchange("DELETE", "/id/" + name("caddy route id", routeId), null);
    if (r.ok()) return true;
    if (r.status() == 404 || (r.status() == 500 && r.body().contains("unknown object ID"))) return false;
    throw new PreviewException(where + " did not remove route " + routeId + ": HTTP " + r.status() + " "
        + r.body().strip());
  }

  /** The ids of every route of the server that carries an id. */
  public List<String> routeIds() {
    Reply r = exchange("GET", serverPath() + "/routes", null);
    if (r.status() != 200) throw new PreviewException("cannot list routes of " + where + ": HTTP " + r.status());
    List<String> ids = new ArrayList<>();
    try {
      JsonNode routes = JSON.readTree(r.body());
      for (JsonNode route : routes) {
        String id = route.path("@id").asText("");
        if (!id.isEmpty()) ids.add(id);
      }
    } catch (IOException e) {
      throw new PreviewException(where + " answered routes that are not JSON: " + e.getMessage(), e);
    }
    return ids;
  }

  private String serverPath() {
    return "/config/apps/http/servers/" + server;
  }

  private static String name(String field, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new ValidationException(field, Checks.printable(value), "must be 1-120 characters of [A-Za-z0-9_.-]");
    }
    return value;
  }
}
