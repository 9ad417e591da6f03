package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.byop.core.Secret;
import dev.byop.core.internal.Redactor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The shared retrying HTTP layer against a scripted server on loopback; waits are recorded, not spent. */
class CloudHttpTest {

  static final String SECRET = "tok-5ecr3t-value";
  static final Instant NOW = Instant.parse("2026-12-03T06:00:00Z");

  /** One scripted answer: status, headers, body, and a delay before answering. */
  record Step(int status, List<String> headers, String body, long delayMs) {
    static Step of(int status, String body, String... headers) {
      return new Step(status, List.of(headers), body, 0);
    }
  }

  HttpServer server;
  URI base;
  final LinkedBlockingDeque<Step> script = new LinkedBlockingDeque<>();
  final List<String> received = new CopyOnWriteArrayList<>();
  final List<Duration> waits = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  void handle(HttpExchange x) throws IOException {
    try (x) {
      received.add(x.getRequestMethod() + " " + x.getRequestURI() + " " + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      Step s = script.pollFirst();
      if (s == null) {
        s = Step.of(200, "{}");
      }
      if (s.delayMs() > 0) {
        try {
          Thread.sleep(s.delayMs());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      for (int i = 0; i + 1 < s.headers().size(); i += 2) {
        x.getResponseHeaders().add(s.headers().get(i), s.headers().get(i + 1));
      }
      byte[] b = s.body().getBytes(StandardCharsets.UTF_8);
      x.sendResponseHeaders(s.status(), b.length == 0 ? -1 : b.length);
      if (b.length > 0) {
        x.getResponseBody().write(b);
      }
    } catch (IOException e) {
      // the client gave up on a slow answer
    }
  }

  CloudHttp http(CloudRetry retry) {
    return new CloudHttp("hetzner", HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(), retry,
        new Redactor().add(Secret.of(SECRET)), waits::add, Clock.fixed(NOW, ZoneOffset.UTC), new SplittableRandom(7));
  }

  static CloudRetry retry(int attempts) {
    return new CloudRetry(attempts, Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofSeconds(2));
  }

  HttpRequest get(String path) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMillis(500)).header("Authorization", "Bearer " + SECRET).GET().build();
  }

  HttpRequest post(String path, String body) {
    return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMillis(500)).header("Authorization", "Bearer " + SECRET)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  @Test
  void aCreateAnswered500IsLookedUpBeforeItIsSentAgainAndTheFindIsTheResult() {
    script.add(Step.of(500, "{\"error\":{\"code\":\"server_error\",\"message\":\"oops\"}}"));
    AtomicInteger lookups = new AtomicInteger();
    String r = http(retry(5)).create("POST", "/servers", () -> post("/servers", "{\"name\":\"a\"}"), a -> false,
        a -> "created " + a.status(), () -> {
          lookups.incrementAndGet();
          return Optional.of("found by token");
        });
    assertEquals("found by token", r);
    assertEquals(1, received.size(), "one POST only: " + received);
    assertEquals(1, lookups.get());
  }

  @Test
  void aCreateThatTimedOutAfterSendingIsLookedUpAndSentAgainOnlyWhenNothingWasMade() {
    script.add(new Step(201, List.of(), "{}", 1500)); // answers after the 500 ms request timeout
    script.add(Step.of(201, "{\"id\":2}"));
    AtomicInteger lookups = new AtomicInteger();
    String r = http(retry(5)).create("POST", "/servers", () -> post("/servers", "{}"), a -> false, a -> a.body(), () -> {
      lookups.incrementAndGet();
      return Optional.empty();
    });
    assertEquals("{\"id\":2}", r);
    assertEquals(1, lookups.get(), "looked up once, before the second POST");
    assertEquals(2, received.size());
  }

  @Test
  void aCreateRefusedWith429IsSentAgainAfterRetryAfterWithoutALookup() {
    script.add(Step.of(429, "{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\"}}", "Retry-After", "3"));
    String r = http(retry(5)).create("POST", "/servers", () -> post("/servers", "{}"), a -> false, a -> "made", () -> {
      throw new AssertionError("a 429 was not acted on: no lookup needed");
    });
    assertEquals("made", r);
    assertEquals(2, received.size());
    assertEquals(Duration.ofSeconds(3), waits.get(0), "Retry-After honoured: " + waits);
  }

  @Test
  void retryAfterAsAnHttpDateAndHetznersRateLimitResetAreHonoured() {
    script.add(Step.of(503, "", "Retry-After", "Thu, 03 Dec 2026 06:00:07 GMT"));
    script.add(Step.of(429, "", "RateLimit-Limit", "3600", "RateLimit-Remaining", "0", "RateLimit-Reset",
        Long.toString(NOW.getEpochSecond() + 4)));
    script.add(Step.of(200, "{\"ok\":true}"));
    CloudHttp.Answer a = http(retry(5)).send("GET", "/servers", () -> get("/servers"), x -> false);
    assertEquals(200, a.status());
    assertEquals(List.of(Duration.ofSeconds(7), Duration.ofSeconds(4)), waits);
  }

  @Test
  void idempotentCallsBackOffWithFullJitterAndGiveUpAfterTheAttemptsWithTheLastAnswer() {
    for (int i = 0; i < 6; i++) {
      script.add(Step.of(502, "bad gateway"));
    }
    CloudHttp.Answer a = http(retry(4)).send("GET", "/servers", () -> get("/servers"), x -> false);
    assertEquals(502, a.status(), "the caller maps the last answer to its typed error");
    assertEquals(4, received.size());
    assertEquals(3, waits.size());
    for (int i = 0; i < waits.size(); i++) {
      long cap = Math.min(2000, 100L << i);
      assertTrue(waits.get(i).toMillis() >= 0 && waits.get(i).toMillis() <= cap, "wait " + i + " " + waits.get(i) + " within [0, " + cap + "]");
    }
    CloudHttp h = http(retry(4));
    for (int n = 1; n < 12; n++) {
      long cap = Math.min(2000, 100L << (n - 1));
      for (int k = 0; k < 50; k++) {
        long d = h.backoff(n, null).toMillis();
        assertTrue(d >= 0 && d <= cap, n + ": " + d);
      }
    }
  }

  @Test
  void aRetryAfterBeyondTheWindowEndsTheCallAtOnce() {
    script.add(Step.of(429, "{}", "Retry-After", "3600"));
    CloudHttp.Answer a = http(retry(5)).send("GET", "/servers", () -> get("/servers"), x -> false);
    assertEquals(429, a.status());
    assertEquals(1, received.size());
    assertTrue(waits.isEmpty(), "no hour-long wait: " + waits);
  }

  @Test
  void aPostWithoutLookupIsNeverSentTwiceAfterA500() {
    script.add(Step.of(500, "{}"));
    CloudHttp.Answer a = http(retry(5)).sendOnce("POST", "/actions", () -> post("/actions", "{}"), x -> false);
    assertEquals(500, a.status());
    assertEquals(1, received.size());
  }

  @Test
  void aStaleSignatureIsRefreshedAndSentOnceMoreAtOnce() {
    script.add(Step.of(400, "{\"errorCode\":\"QUERY_TIME_OUT\"}"));
    script.add(Step.of(400, "{\"errorCode\":\"QUERY_TIME_OUT\"}"));
    AtomicInteger refreshes = new AtomicInteger();
    CloudHttp.Answer a = http(retry(5)).send("GET", "/x", () -> get("/x"), x -> x.body().contains("QUERY_TIME_OUT") && refreshes.incrementAndGet() > 0);
    assertEquals(400, a.status(), "refreshed once, then the answer stands");
    assertEquals(2, received.size());
    assertEquals(1, refreshes.get());
    assertTrue(waits.isEmpty());
  }

  @Test
  void anUnreachableApiFailsTypedAfterTheAttemptsWithoutTheSecret() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI dead = URI.create("http://127.0.0.1:" + port + "/v1/servers?token=" + SECRET);
    CloudApiException e = assertThrows(CloudApiException.class, () -> http(retry(3)).send("GET", "/v1/servers", () ->
        HttpRequest.newBuilder(dead).timeout(Duration.ofMillis(500)).header("Authorization", "Bearer " + SECRET).GET().build(), x -> false));
    assertEquals(0, e.status());
    assertEquals("hetzner", e.provider());
    assertTrue(e.getMessage().contains("no answer after 3 attempts"), e.getMessage());
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    assertEquals(2, waits.size());
  }

  @Test
  void retryAfterParsesSecondsAndHttpDates() {
    assertEquals(Duration.ofSeconds(120), CloudHttp.retryAfter("120", NOW));
    assertEquals(Duration.ofSeconds(30), CloudHttp.retryAfter("Thu, 03 Dec 2026 06:00:30 GMT", NOW));
    assertEquals(Duration.ZERO, CloudHttp.retryAfter("Thu, 03 Dec 2026 05:00:00 GMT", NOW), "a date in the past: now");
    assertNull(CloudHttp.retryAfter("soon", NOW));
    assertNull(CloudHttp.retryAfter("-5", NOW));
  }
}
