package dev.byop.preview.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * When a route counts as the preview's answer: through a router that marks its routes (Caddy), the app's root may
 * answer anything below 500 (an API without a root page runs and serves); a health path must answer 2xx/3xx; without
 * a marker (Traefik, a published port) only 2xx/3xx counts, so a router's own 404 never passes.
 */
class ReadinessTest {
  private static HttpProbe.Response answer(int status, Map<String, String> headers) {
    return new HttpProbe.Response(status, headers, null);
  }

  @Test
  void aMarkedRouteAcceptsAnyAppAnswerBelow500AtItsRootButOnly2xx3xxAtAHealthPath() {
    RouteEndpoint caddy = new RouteEndpoint("http://p.byop.local/", URI.create("http://127.0.0.1:8088/"),
        "p.byop.local", Map.of("X-Byop-Preview", "p1"));
    Map<String, String> marked = Map.of("x-byop-preview", "p1");
    assertTrue(caddy.answered(answer(404, marked), false), "the app's own 404 at its root");
    assertFalse(caddy.answered(answer(404, marked), true), "a 404 at the health path");
    assertFalse(caddy.answered(answer(502, marked), false), "the upstream is down");
    assertFalse(caddy.answered(answer(200, Map.of()), false), "Caddy's own empty 200 for no route");
    assertFalse(caddy.answered(answer(200, Map.of("x-byop-preview", "p2")), false), "another preview's route");
    assertFalse(caddy.answered(new HttpProbe.Response(-1, Map.of(), "refused"), false));
  }

  @Test
  void anUnmarkedRouteNeeds2xx3xxEvenAtItsRoot() {
    RouteEndpoint traefik = new RouteEndpoint("http://p.byop.local/", URI.create("http://127.0.0.1:80/"),
        "p.byop.local");
    assertFalse(traefik.answered(answer(404, Map.of()), false), "Traefik answers 404 until it has the route");
    assertTrue(traefik.answered(answer(200, Map.of()), false));
  }

  @Test
  void theHealthPathIsWhatIsProbed() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      java.util.concurrent.atomic.AtomicReference<String> asked = new java.util.concurrent.atomic.AtomicReference<>();
      Thread t = new Thread(() -> {
        try (var s = server.accept()) {
          byte[] b = new byte[4096];
          int n = s.getInputStream().read(b);
          asked.set(new String(b, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1).lines().findFirst().orElse(""));
          s.getOutputStream().write("HTTP/1.1 204 No Content\r\nX-Byop-Preview: p1\r\n\r\n".getBytes());
        } catch (Exception e) {
          // the probe hung up
        }
      });
      t.setDaemon(true);
      t.start();
      RouteEndpoint e = new RouteEndpoint("http://p.byop.local/", URI.create("http://127.0.0.1:"
          + server.getLocalPort() + "/"), "p.byop.local", Map.of("X-Byop-Preview", "p1"));
      assertTrue(e.ready(ScriptedHost.quiet(), "/healthz?deep=1", Duration.ofSeconds(2)));
      assertEquals("GET /healthz?deep=1 HTTP/1.1", asked.get());
    }
  }
}
