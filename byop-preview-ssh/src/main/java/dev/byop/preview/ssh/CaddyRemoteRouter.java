package dev.byop.preview.ssh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Routes through a Caddy on the remote host, configured by its admin API on the remote loopback, reached over the
 * SSH connection itself (no admin port is ever exposed).
 *
 * <p>Each route carries the {@code @id} {@code <prefix><preview id>}, so it can be replaced and deleted by id.
 */
public final class CaddyRemoteRouter implements RemoteRouter {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MARKER = "X-Byop-Route";

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
            throw new IllegalArgumentException("caddy server name '" + server + "' may hold only letters, digits, '_' and '-'");
        }
        this.server = server;
        this.httpPort = httpPort;
    }

    @Override
    public Map.Entry<String, String> marker(String routeId) {
        return Map.entry(MARKER, routeId);
    }

    @Override
    public int httpPort() {
        return httpPort;
    }

    @Override
    public void route(SshConnection on, String routeId, String hostname, String upstream) {
        checkId(routeId);
        remove(on, routeId);
        Map<String, Object> route = new LinkedHashMap<>();
        route.put("@id", routeId);
        route.put("match", List.of(Map.of("host", List.of(hostname))));
        // Caddy answers unmatched requests with an empty 200; the marker header lets readiness checks see this route
        route.put("handle", List.of(
                Map.of("handler", "headers", "response", Map.of("set", Map.of(MARKER, List.of(routeId)))),
                Map.of("handler", "reverse_proxy", "upstreams", List.of(Map.of("dial", upstream)))));
        route.put("terminal", true);
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(route);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        // POST appends to the server's routes; when the server has none yet (the key is absent), PUT creates the list
        String routes = "/config/apps/http/servers/" + server + "/routes";
        SshConnection.HttpReply r = on.http(adminHost, adminPort, "POST", routes, json);
        if (r.status() / 100 != 2) {
            SshConnection.HttpReply created = on.http(adminHost, adminPort, "PUT", routes, wrapInList(json));
            if (created.status() / 100 == 2) {
                return;
            }
        }
        if (r.status() / 100 != 2) {
            throw new SshException("caddy on " + on.host().label() + " refused route " + routeId + " (HTTP " + r.status() + "): " + r.body().strip());
        }
    }

    @Override
    public void remove(SshConnection on, String routeId) {
        checkId(routeId);
        SshConnection.HttpReply r = on.http(adminHost, adminPort, "DELETE", "/id/" + routeId, null);
        if (r.status() / 100 != 2 && r.status() != 404 && !(r.status() == 500 && r.body().contains("unknown object ID"))) {
            throw new SshException("caddy on " + on.host().label() + " refused to delete route " + routeId + " (HTTP " + r.status() + "): " + r.body().strip());
        }
    }

    private static byte[] wrapInList(byte[] json) {
        byte[] out = new byte[json.length + 2];
        out[0] = '[';
        System.arraycopy(json, 0, out, 1, json.length);
        out[out.length - 1] = ']';
        return out;
    }

    private static void checkId(String id) {
        if (!id.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("route id '" + id + "' may hold only letters, digits, '.', '_' and '-'");
        }
    }
}
