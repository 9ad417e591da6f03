package dev.byop.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.docker.internal.EngineConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client {@link DockerClient#over} a carrier keeps its connections alive: against a small HTTP/1.1 engine on
 * loopback that counts connections, answers with Content-Length or chunked bodies, and may end a connection after a
 * number of answers (as a host ending an idle dial-stdio does).
 */
class KeptConnectionsTest {
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private volatile int answersPerConnection = Integer.MAX_VALUE;
  private volatile boolean sayClose;
  private ServerSocket server;

  private DockerClient client() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          accepted.incrementAndGet();
          Thread c = new Thread(() -> serve(s));
          c.setDaemon(true);
          c.start();
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    int port = server.getLocalPort();
    // the client's first request asks /version (API negotiation): it counts as one answer
    return DockerClient.over(new DockerEndpoint(URI.create("ssh://u@h:22"), null, List.of()), () -> {
      Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
      return EngineConnection.of(s);
    });
  }

  private void serve(Socket s) {
    try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1))) {
      OutputStream out = s.getOutputStream();
      for (int n = 0; n < answersPerConnection; n++) {
        String line = in.readLine();
        if (line == null) return;
        String path = line.split(" ")[1];
        while (!(line = in.readLine()).isEmpty()) { }
        requests.incrementAndGet();
        String head;
        byte[] body;
        if (path.contains("/version")) {
          body = "{\"ApiVersion\":\"1.41\"}".getBytes(StandardCharsets.UTF_8);
          head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n";
        } else if (path.contains("/chunked")) {
          body = "4\r\n[1,2\r\n2\r\n,3\r\n1\r\n]\r\n0\r\n\r\n".getBytes(StandardCharsets.UTF_8);
          head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n";
        } else {
          body = ("{\"n\":" + requests.get() + "}").getBytes(StandardCharsets.UTF_8);
          head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n";
        }
        if (sayClose) head += "Connection: close\r\n";
        out.write((head + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        if (sayClose) return;
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) server.close();
  }

  @Test
  void requestsInARowShareOneConnection() throws IOException {
    try (DockerClient c = client()) {
      for (int i = 0; i < 10; i++) assertTrue(c.requestJson("GET", "/containers/json", null).has("n"));
      assertEquals("[1,2,3]", c.requestJson("GET", "/chunked", null).toString());
      assertTrue(c.requestJson("GET", "/containers/json", null).has("n"), "reused after a chunked body");
      assertEquals(1, accepted.get());
      assertEquals(1, c.connectionsOpened());
    }
  }

  @Test
  void aConnectionTheEngineEndedIsReplacedAndTheRequestSentAgain() throws IOException {
    answersPerConnection = 3; // /version and two more, then the engine ends the connection
    try (DockerClient c = client()) {
      for (int i = 0; i < 7; i++) assertTrue(c.requestJson("GET", "/containers/json", null).has("n"), "request " + i);
      assertEquals(3, accepted.get(), "8 answers, 3 per connection");
      assertEquals(8, requests.get(), "no request was answered twice");
    }
  }

  @Test
  void anAnswerSayingCloseIsNotReused() throws IOException {
    sayClose = true;
    try (DockerClient c = client()) {
      for (int i = 0; i < 3; i++) c.requestJson("GET", "/containers/json", null);
      assertEquals(4, accepted.get(), "a connection per answer, /version included");
    }
  }

  @Test
  void aClosedClientKeepsNothing() throws IOException {
    DockerClient c = client();
    c.requestJson("GET", "/containers/json", null);
    c.close();
    c.requestJson("GET", "/containers/json", null);
    assertEquals(2, accepted.get(), "after close, an answered connection is not kept");
    assertThrows(DockerException.class, () -> {
      server.close();
      c.requestJson("GET", "/containers/json", null);
    });
  }
}
