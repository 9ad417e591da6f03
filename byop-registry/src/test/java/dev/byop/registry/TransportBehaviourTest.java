package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.byop.core.Credentials;
import dev.byop.core.RegistryException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's own logic (retry rules, auth handshakes, token caching, error mapping) against a scripted HTTP server;
 * the behaviour against a real registry is covered by the *IT tests.
 */
class TransportBehaviourTest {
  private static final RetryPolicy FAST = new RetryPolicy(4, Duration.ofMillis(10), Duration.ofMillis(40),
      Duration.ofSeconds(5));
  private HttpServer server;
  private final List<String> log = Collections.synchronizedList(new ArrayList<>());

  @AfterEach
  void stop() {
    if (server != null) server.stop(0);
  }

  private String start(String path, Consumer<HttpExchange> handler) throws IOException {
    if (server == null) {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.start();
    }
    server.createContext(path, ex -> {
      log.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " auth=" + ex.getRequestHeaders().getFirst("Authorization"));
      try {
        handler.accept(ex);
      } finally {
        ex.close();
      }
    });
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, int status, String body, String... headers) {
    try {
      for (int i = 0; i < headers.length; i += 2) ex.getResponseHeaders().add(headers[i], headers[i + 1]);
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
      if (b.length > 0) ex.getResponseBody().write(b);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String basic(String user, String pw) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void fiveHundredsAreRetriedThenSucceed() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    String reg = start("/v2/", ex -> respond(ex, calls.incrementAndGet() < 3 ? 503 : 200, "{}"));
    DistributionClient c = DistributionClient.builder(reg).retry(FAST).build();
    assertEquals("registry/2.0", c.checkApiVersion());
    assertEquals(3, calls.get());
  }

  @Test
  void fourHundredsAreNotRetriedAndCarryTheRegistryCodes() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    String reg = start("/v2/", ex -> {
      calls.incrementAndGet();
      respond(ex, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
    });
    DistributionClient c = DistributionClient.builder(reg).retry(FAST).build();
    RegistryException e = assertThrows(RegistryException.class, () -> c.getManifest("a/b", "v1"));
    assertEquals(1, calls.get());
    assertEquals(404, e.status());
    assertEquals(List.of("MANIFEST_UNKNOWN"), e.errorCodes());
    assertEquals(reg, e.registry());
    assertTrue(e.getMessage().contains("GET /v2/a/b/manifests/v1"), e.getMessage());
  }

  @Test
  void retriesStopAtTheCountBoundWithTheLastStatus() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    String reg = start("/v2/", ex -> {
      calls.incrementAndGet();
      respond(ex, 502, "");
    });
    DistributionClient c = DistributionClient.builder(reg).retry(FAST).build();
    RegistryException e = assertThrows(RegistryException.class, c::checkApiVersion);
    assertEquals(4, calls.get());
    assertEquals(502, e.status());
    assertTrue(e.getMessage().contains("after 4 attempts"), e.getMessage());
  }

  @Test
  void connectionRefusedIsRetriedWithinTheTimeBound() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    RetryPolicy policy = new RetryPolicy(50, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofMillis(800));
    DistributionClient c = DistributionClient.builder("127.0.0.1:" + port).retry(policy).build();
    long t0 = System.nanoTime();
    RegistryException e = assertThrows(RegistryException.class, c::checkApiVersion);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(0, e.status());
    assertTrue(e.getCause() instanceof java.net.ConnectException, String.valueOf(e.getCause()));
    assertTrue(ms < 3000, "took " + ms + " ms");
    assertTrue(e.getMessage().contains("attempt(s)"), e.getMessage());
  }

  @Test
  void basicChallengeIsAnsweredOnceThenSentPreemptively() throws IOException {
    String good = basic("u", "pw-canary-1");
    String reg = start("/v2/", ex -> {
      if (good.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        respond(ex, 200, "{}");
      } else {
        respond(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
            "WWW-Authenticate", "Basic realm=\"t\"");
      }
    });
    DistributionClient c = DistributionClient.builder(reg).retry(FAST)
        .credentials(Credentials.basic("u", "pw-canary-1")).build();
    c.checkApiVersion();
    c.checkApiVersion();
    assertEquals(3, log.size(), log.toString());
    assertTrue(log.get(2).contains("auth=Basic"), log.toString());
  }

  @Test
  void wrongPasswordIsA401NamingTheRegistryWithoutThePassword() throws IOException {
    String reg = start("/v2/", ex -> respond(ex, 401,
        "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
        "WWW-Authenticate", "Basic realm=\"t\""));
    DistributionClient c = DistributionClient.builder(reg).retry(FAST)
        .credentials(Credentials.basic("u", "canary-XYZ-123")).build();
    RegistryException e = assertThrows(RegistryException.class, c::checkApiVersion);
    assertEquals(401, e.status());
    assertEquals(List.of("UNAUTHORIZED"), e.errorCodes());
    assertTrue(e.getMessage().contains(reg) && e.getMessage().contains("401"), e.getMessage());
    assertFalse(e.toString().contains("canary-XYZ-123"));
    assertEquals(2, log.size(), "one unauthenticated try, one with credentials: " + log);
  }

  @Test
  void bearerTokensAreFetchedWithTheChallengeScopeAndCachedPerScope() throws IOException {
    AtomicInteger tokenCalls = new AtomicInteger();
    String[] realm = new String[1];
    String reg = start("/token", ex -> {
      tokenCalls.incrementAndGet();
      String q = ex.getRequestURI().getQuery();
      assertEquals(basic("u", "pw"), ex.getRequestHeaders().getFirst("Authorization"));
      respond(ex, 200, "{\"token\":\"tok-" + q.hashCode() + "\",\"expires_in\":300}");
    });
    realm[0] = "http://" + reg + "/token";
    start("/v2/", ex -> {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      String path = ex.getRequestURI().getPath();
      String scope = path.equals("/v2/") ? "" : "repository:" + path.substring(4, path.indexOf("/tags")) + ":pull";
      if (auth != null && auth.startsWith("Bearer tok-")) {
        respond(ex, 200, "{\"name\":\"x\",\"tags\":[\"t1\"]}");
      } else {
        respond(ex, 401, "", "WWW-Authenticate", "Bearer realm=\"" + realm[0] + "\",service=\"svc\""
            + (scope.isEmpty() ? "" : ",scope=\"" + scope + "\""));
      }
    });
    DistributionClient c = DistributionClient.builder(reg).retry(FAST).credentials(Credentials.basic("u", "pw")).build();
    assertEquals(List.of("t1"), c.listTags("a/one"));
    assertEquals(List.of("t1"), c.listTags("a/one"));
    assertEquals(List.of("t1"), c.listTags("a/two"));
    assertEquals(2, tokenCalls.get(), log.toString());
    assertTrue(log.stream().anyMatch(l -> l.contains("scope=repository%3Aa%2Fone%3Apull")
        || l.contains("scope=repository:a/one:pull")), log.toString());
  }

  @Test
  void tagPaginationFollowsLinkHeaders() throws IOException {
    String reg = start("/v2/", ex -> {
      String q = ex.getRequestURI().getQuery();
      if (q == null || !q.contains("last=")) {
        respond(ex, 200, "{\"tags\":[\"a\",\"b\"]}", "Link", "</v2/r/tags/list?n=2&last=b>; rel=\"next\"");
      } else {
        respond(ex, 200, "{\"tags\":[\"c\"]}");
      }
    });
    DistributionClient c = DistributionClient.builder(reg).retry(FAST).build();
    assertEquals(List.of("a", "b", "c"), c.listTags("r", 2));
    assertTrue(log.get(0).contains("n=2"), log.toString());
  }

  /** A scripted upload endpoint whose first PATCH fails with 503, having stored the chunk or not. */
  private DistributionClient failingFirstPatch(boolean storeBeforeFailing, java.io.ByteArrayOutputStream stored,
      AtomicInteger patches) throws IOException {
    String reg = start("/v2/", ex -> {
      String m = ex.getRequestMethod();
      try {
        if (m.equals("POST")) {
          respond(ex, 202, "", "Location", "/v2/r/blobs/uploads/u1");
        } else if (m.equals("PATCH")) {
          byte[] b = ex.getRequestBody().readAllBytes();
          String range = ex.getRequestHeaders().getFirst("Content-Range");
          if (Long.parseLong(range.substring(0, range.indexOf('-'))) != stored.size()) {
            respond(ex, 416, "");
            return;
          }
          boolean first = patches.incrementAndGet() == 1;
          if (!first || storeBeforeFailing) stored.write(b);
          respond(ex, first ? 503 : 202, "", "Location", "/v2/r/blobs/uploads/u1",
              "Range", "0-" + Math.max(0, stored.size() - 1));
        } else if (m.equals("GET")) {
          respond(ex, 204, "", "Location", "/v2/r/blobs/uploads/u1", "Range", "0-" + Math.max(0, stored.size() - 1));
        } else if (m.equals("PUT")) {
          String digest = Digests.sha256(stored.toByteArray());
          boolean ok = ex.getRequestURI().getQuery().equals("digest=" + digest);
          respond(ex, ok ? 201 : 400, "", "Docker-Content-Digest", digest);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    return DistributionClient.builder(reg).retry(FAST).chunkSize(1024).build();
  }

  @Test
  void aChunkTheRegistryStoredBeforeFailingIsNotSentAgain() throws IOException {
    var stored = new java.io.ByteArrayOutputStream();
    AtomicInteger patches = new AtomicInteger();
    DistributionClient c = failingFirstPatch(true, stored, patches);
    byte[] content = new byte[2500];
    new java.util.Random(1).nextBytes(content);
    Descriptor d = c.uploadBlobChunked("r", MediaTypes.OCI_LAYER, new java.io.ByteArrayInputStream(content));
    assertEquals(Digests.sha256(content), d.digest());
    assertEquals(3, patches.get(), log.toString());
    assertTrue(log.stream().anyMatch(l -> l.startsWith("GET /v2/r/blobs/uploads/u1")), log.toString());
  }

  @Test
  void aChunkTheRegistryLostIsSentAgain() throws IOException {
    var stored = new java.io.ByteArrayOutputStream();
    AtomicInteger patches = new AtomicInteger();
    DistributionClient c = failingFirstPatch(false, stored, patches);
    byte[] content = new byte[2500];
    new java.util.Random(2).nextBytes(content);
    Descriptor d = c.uploadBlobChunked("r", MediaTypes.OCI_LAYER, new java.io.ByteArrayInputStream(content));
    assertEquals(Digests.sha256(content), d.digest());
    assertEquals(4, patches.get(), log.toString());
    assertArrayEquals(content, stored.toByteArray());
  }

  @Test
  void badNamesAreRefusedBeforeAnyRequest() {
    DistributionClient c = DistributionClient.builder("127.0.0.1:1").retry(FAST).build();
    assertThrows(dev.byop.core.ValidationException.class, () -> c.headManifest("Bad/Name", "v1"));
    assertThrows(dev.byop.core.ValidationException.class, () -> c.headManifest("ok", "-bad"));
    assertThrows(dev.byop.core.ValidationException.class, () -> c.headBlob("ok", "sha256:xyz"));
    assertThrows(dev.byop.core.ValidationException.class, () -> DistributionClient.builder("http://x/y"));
  }

  @Test
  void loopbackRegistriesUsePlainHttp() {
    assertTrue(DistributionClient.isLoopback("127.0.0.1:5000"));
    assertTrue(DistributionClient.isLoopback("localhost"));
    assertTrue(DistributionClient.isLoopback("[::1]:5000"));
    assertFalse(DistributionClient.isLoopback("ghcr.io"));
    assertEquals("http://127.0.0.1:5000", DistributionClient.defaultEndpoint("127.0.0.1:5000").toString());
    assertEquals("https://ghcr.io", DistributionClient.defaultEndpoint("ghcr.io").toString());
    assertEquals("https://registry-1.docker.io", DistributionClient.defaultEndpoint("docker.io").toString());
  }
}
