package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The router choice, with a small stand-in for Caddy's admin API (the real one is used by MainIT). */
class HostEnvironmentTest {
  private final Progress progress = new Progress(new PrintStream(new ByteArrayOutputStream(), true,
      StandardCharsets.UTF_8), false);
  // A docker CLI that does not exist: no image is ever "in the engine", so Traefik is never available here.
  private final HostEnvironment host = new HostEnvironment(List.of("/nonexistent/docker"), false, progress);

  private static HttpServer admin(int status, String body) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/config/apps/http/servers", ex -> {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    s.start();
    return s;
  }

  @Test
  void caddyIsChosenWhenItsAdminApiAnswersWithAServer() throws Exception {
    HttpServer s = admin(200, "{\"other\":{\"listen\":[\":9000\"]},\"byop\":{\"listen\":[\"127.0.0.1:8088\"]}}");
    try {
      String url = "http://127.0.0.1:" + s.getAddress().getPort();
      HostEnvironment.Router r = host.router("auto", url);
      assertEquals("caddy", r.kind());
      assertEquals(Map.of("admin", url, "server", "byop", "listener", "http://127.0.0.1:8088", "publicPort", 8088),
          r.settings().get("caddy"));
      assertTrue(r.why().contains("server 'byop'"), r.why());
    } finally {
      s.stop(0);
    }
  }

  @Test
  void publishedPortsWhenNeitherTraefikNorCaddyCanRunAndSaysWhy() throws Exception {
    HttpServer s = admin(200, "{}");
    try {
      HostEnvironment.Router r = host.router("auto", "http://127.0.0.1:" + s.getAddress().getPort());
      assertEquals("plain", r.kind());
      assertEquals(Map.of("router", "plain"), r.settings());
      assertTrue(r.why().contains("Traefik: pulling is switched off") && r.why().contains("no HTTP server"), r.why());
    } finally {
      s.stop(0);
    }
    HostEnvironment.Router none = host.router("auto", "http://127.0.0.1:1");
    assertEquals("plain", none.kind());
    assertTrue(none.why().contains("no admin API at http://127.0.0.1:1"), none.why());
    assertThrows(HostEnvironment.MissingException.class, () -> host.router("caddy", "http://127.0.0.1:1"));
    assertThrows(HostEnvironment.MissingException.class, () -> host.requireDocker());
  }
}
