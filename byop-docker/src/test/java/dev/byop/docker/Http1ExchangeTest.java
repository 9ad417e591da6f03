package dev.byop.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.docker.internal.Http1;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** One bounded request over plain streams: what is sent, and every bound on what comes back. */
class Http1ExchangeTest {
  static InputStream answer(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  static long soon() {
    return System.nanoTime() + Duration.ofSeconds(5).toNanos();
  }

  @Test
  void sendsTheChosenHostAndTheBodyAndReadsAChunkedAnswer() throws Exception {
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    Http1.Response r = Http1.exchange(answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Byop-Preview: p1\r\n\r\n"
        + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), sent, "PUT", "/config/x", "127.0.0.1:2019", "application/json",
        "{\"a\":1}".getBytes(StandardCharsets.UTF_8), Http1.Limits.withBody(1024), soon());
    assertEquals(200, r.status());
    assertEquals("abcde", r.bodyText());
    assertEquals("p1", r.first("X-Byop-Preview"));
    assertEquals("PUT /config/x HTTP/1.1\r\nHost: 127.0.0.1:2019\r\nUser-Agent: byop\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}", sent.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aHeadOnlyExchangeNeverReadsTheBody() throws Exception {
    InputStream endless = new InputStream() {
      final byte[] head = "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      long pos;

      @Override
      public int read() {
        return pos < head.length ? head[(int) pos++] : 'z';
      }
    };
    Http1.Response r = Http1.exchange(endless, new ByteArrayOutputStream(), "GET", "/", "p.byop.local", null, null,
        Http1.Limits.headOnly(), soon());
    assertEquals(200, r.status());
    assertEquals(0, r.body().length);
  }

  @Test
  void everyBoundFailsWithTheBoundItBroke() {
    var line = assertThrows(IOException.class, () -> Http1.exchange(answer("HTTP/1.1 200 OK\r\nX: " + "a".repeat(9000)
        + "\r\n\r\n"), new ByteArrayOutputStream(), "GET", "/", "h", null, null, Http1.Limits.headOnly(), soon()));
    assertTrue(line.getMessage().contains("longer than 8192 bytes"), line.getMessage());
    var many = assertThrows(IOException.class, () -> Http1.exchange(answer("HTTP/1.1 200 OK\r\n" + "X: 1\r\n".repeat(101)
        + "\r\n"), new ByteArrayOutputStream(), "GET", "/", "h", null, null, Http1.Limits.headOnly(), soon()));
    assertTrue(many.getMessage().contains("100 headers"), many.getMessage());
    var body = assertThrows(IOException.class, () -> Http1.exchange(answer("HTTP/1.1 200 OK\r\n\r\n" + "b".repeat(2000)),
        new ByteArrayOutputStream(), "GET", "/", "h", null, null, Http1.Limits.withBody(1000), soon()));
    assertTrue(body.getMessage().contains("larger than 1000 bytes"), body.getMessage());
    var late = assertThrows(java.net.SocketTimeoutException.class, () -> Http1.exchange(answer("HTTP/1.1 200 OK\r\n\r\n"),
        new ByteArrayOutputStream(), "GET", "/", "h", null, null, Http1.Limits.headOnly(), System.nanoTime() - 1));
    assertTrue(late.getMessage().contains("deadline"), late.getMessage());
    var none = assertThrows(IOException.class, () -> Http1.exchange(answer("SSH-2.0-OpenSSH\r\n"),
        new ByteArrayOutputStream(), "GET", "/", "h", null, null, Http1.Limits.headOnly(), soon()));
    assertTrue(none.getMessage().contains("not an HTTP/1.x status line"), none.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Http1.exchange(answer(""), new ByteArrayOutputStream(), "GET", "/",
        "h\r\nX-Injected: 1", null, null, Http1.Limits.headOnly(), soon()), "no header injection through Host");
  }
}
