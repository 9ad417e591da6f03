package dev.byop.preview.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** MiniHttp against a loopback peer that answers without end: bounded in bytes and in time. */
class MiniHttpTest {
  interface Answer {
    void write(OutputStream o) throws IOException, InterruptedException;
  }

  static int serve(ServerSocket server, Answer answer) {
    Thread t = new Thread(() -> {
      try (Socket s = server.accept()) {
        s.getInputStream().read(new byte[4096]);
        answer.write(s.getOutputStream());
      } catch (Exception e) {
        // the client hung up
      }
    });
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  @Test
  void anEndlessChunkedBodyFailsAtTheBoundInsteadOfGrowing() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serve(server, o -> {
        o.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] chunk = ("4000\r\n" + "z".repeat(0x4000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        while (true) o.write(chunk);
      });
      long t0 = System.nanoTime();
      IOException e = assertThrows(IOException.class, () -> MiniHttp.get("127.0.0.1", port, "p.byop.local", "/", Duration.ofSeconds(10)));
      assertTrue(e.getMessage().contains("larger than " + MiniHttp.MAX_BODY), e.getMessage());
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos());
    }
  }

  @Test
  void aPeerThatDripsEndsAtTheDeadline() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serve(server, o -> {
        o.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 1000; i++) {
          o.write('d');
          o.flush();
          Thread.sleep(50);
        }
      });
      long t0 = System.nanoTime();
      assertThrows(IOException.class, () -> MiniHttp.get("127.0.0.1", port, "p.byop.local", "/", Duration.ofSeconds(1)));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 2000, ms + " ms");
    }
  }

  @Test
  void anOverlongHeaderLineIsRefused() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serve(server, o -> {
        o.write(("HTTP/1.1 200 OK\r\nX-Long: " + "a".repeat(100_000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      });
      IOException e = assertThrows(IOException.class, () -> MiniHttp.get("127.0.0.1", port, "h", "/", Duration.ofSeconds(5)));
      assertTrue(e.getMessage().contains("longer than " + MiniHttp.MAX_LINE), e.getMessage());
    }
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = serve(server, o -> o.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII)));
      assertEquals("ok", MiniHttp.get("127.0.0.1", port, "h", "/", Duration.ofSeconds(5)).body());
    }
  }
}
