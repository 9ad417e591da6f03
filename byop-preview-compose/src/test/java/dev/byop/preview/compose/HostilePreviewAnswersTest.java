package dev.byop.preview.compose;

import dev.byop.core.ByopLabels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.PreviewException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The probe and the label rule against what a hostile preview can answer or carry (a loopback socket server). */
class HostilePreviewAnswersTest {
  /** Serves one connection with {@code answer} on a daemon thread; returns the port. */
  static int serveOnce(ServerSocket server, Consumer<OutputStream> answer) {
    Thread t = new Thread(() -> {
      try (Socket s = server.accept()) {
        s.getInputStream().read(new byte[4096]);
        answer.accept(s.getOutputStream());
      } catch (Exception e) {
        // the probe hung up: expected
      }
    });
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  static void write(OutputStream o, String s) {
    try {
      o.write(s.getBytes(StandardCharsets.ISO_8859_1));
      o.flush();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void anEndlessChunkedBodyEndsTheProbeWithTheStatus() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serveOnce(server, o -> {
        write(o, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        while (true) write(o, "400\r\n" + "z".repeat(1024) + "\r\n");
      });
      long t0 = System.nanoTime();
      HttpProbe.Response r = HttpProbe.get(ScriptedHost.quiet(), URI.create("http://127.0.0.1:" + port + "/"), "p.byop.local", Duration.ofSeconds(2));
      assertEquals(200, r.status());
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(3).toNanos());
    }
  }

  @Test
  void anEndlessHeaderOrADripEndsAtTheDeadlineWithAReason() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serveOnce(server, o -> {
        write(o, "HTTP/1.1 200 OK\r\nX-Endless: ");
        while (true) write(o, "a".repeat(4096));
      });
      HttpProbe.Response r = HttpProbe.get(ScriptedHost.quiet(), URI.create("http://127.0.0.1:" + port + "/"), null, Duration.ofSeconds(2));
      assertEquals(-1, r.status());
      assertTrue(r.error().contains("longer than 8192"), r.error());
    }
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serveOnce(server, o -> {
        write(o, "HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 1000; i++) {
          write(o, "X-Drip-" + i + ": 1\r\n");
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      long t0 = System.nanoTime();
      HttpProbe.Response r = HttpProbe.get(ScriptedHost.quiet(), URI.create("http://127.0.0.1:" + port + "/"), null, Duration.ofSeconds(1));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(-1, r.status(), "a head that never ends is no answer");
      assertTrue(ms < 1800, "the probe's total deadline holds: " + ms + " ms");
    }
  }

  @Test
  void routerAndByopLabelsOnAnImageAreRefusedNamingImageComponentAndLabel() {
    for (String key : new String[] {"traefik.http.routers.x.rule", "Traefik.enable", "caddy", "caddy_0.reverse_proxy",
        "dev.byop.preview", "com.docker.compose.project"}) {
      var e = assertThrows(PreviewException.class,
          () -> ByopLabels.checkImageLabels("byop/shop/web:1", "shop", "web", Map.of(key, "x")), key);
      assertTrue(e.getMessage().contains("byop/shop/web:1") && e.getMessage().contains("'web'")
          && e.getMessage().contains(key), e.getMessage());
    }
    ByopLabels.checkImageLabels("i", "shop", "web", Map.of("org.opencontainers.image.title", "shop", "maintainer", "x"));
    // byop's own build labels, with this app's and component's values, are what a preview image carries
    ByopLabels.checkImageLabels("i", "shop", "web", Map.of("dev.byop.app", "shop", "dev.byop.component", "web",
        "dev.byop.commit", "0123"));
    assertThrows(PreviewException.class, () -> ByopLabels.checkImageLabels("i", "shop", "web",
        Map.of("dev.byop.app", "other")));
    assertThrows(PreviewException.class, () -> ByopLabels.checkImageLabels("i", "shop", "web",
        Map.of("dev.byop.preview", "p1")));
    ByopLabels.checkImageLabelsJson("i", "shop", "web", "null");
    assertThrows(PreviewException.class, () -> ByopLabels.checkImageLabelsJson("i", "shop", "web", "{\"traefik.enable\":\"true\"}"));
  }
}
