package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.preview.compose.CaddyAdmin;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/**
 * Routes through a Caddy on the remote host, configured with core's {@link CaddyAdmin} over its admin API on the
 * remote loopback, reached through a channel of the SSH connection itself (no admin port is ever exposed).
 *
 * <p>Each route carries the {@code @id} {@code <prefix><preview id>}, so it can be replaced and deleted by id, and
 * marks its answers with {@link CaddyAdmin#MARKER_HEADER} set to the route id.
 */
public final class CaddyRemoteRouter implements RemoteRouter {

  private final String adminHost;
  private final int adminPort;
  private final String server;
  private final int httpPort;

  /**
   * @param adminHost the admin API's address on the remote host, e.g. {@code 127.0.0.1}
   * @param adminPort the admin API's port, e.g. 2019
   * @param server the name of the Caddy HTTP server that carries preview routes
   * @param httpPort the port that server listens on (for URLs and readiness checks)
   */
  public CaddyRemoteRouter(String adminHost, int adminPort, String server, int httpPort) {
    this.adminHost = Objects.requireNonNull(adminHost, "adminHost");
    this.adminPort = adminPort;
    if (!server.matches("[A-Za-z0-9_-]+")) {
      throw new ValidationException("router.server", server, "may hold only letters, digits, '_' and '-'");
    }
    this.server = server;
    this.httpPort = httpPort;
  }

  @Override
  public Map.Entry<String, String> marker(String routeId) {
    return Map.entry(CaddyAdmin.MARKER_HEADER, routeId);
  }

  @Override
  public int httpPort() {
    return httpPort;
  }

  @Override
  public void route(SshConnection on, String routeId, String hostname, String upstream) {
    admin(on).putRoute(CaddyAdmin.routeJson(routeId, hostname, upstream, routeId));
  }

  @Override
  public void remove(SshConnection on, String routeId) {
    admin(on).removeRoute(routeId);
  }

  private CaddyAdmin admin(SshConnection on) {
    CaddyAdmin.Transport overSsh = (method, path, body) -> {
      try (var dc = on.open(adminHost, adminPort)) {
        var r = dev.byop.preview.ssh.internal.MiniHttp.exchange(dc.getInputStream(), dc.getOutputStream(), method,
            adminHost + ":" + adminPort, path, "application/json", body == null ? null : body.getBytes(StandardCharsets.UTF_8));
        return new CaddyAdmin.Reply(r.status(), r.body());
      } catch (java.io.IOException e) {
        throw new SshException(method + " " + path + " via " + on.host().label() + " failed: " + e.getMessage(), e);
      }
    };
    return new CaddyAdmin(overSsh, server, "caddy on " + on.host().label());
  }
}
