package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.byop.core.PreviewException;
import dev.byop.core.Secret;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.CloudProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OVH provider against a local server that checks every signature and answers like OVH's documented API. */
class OvhCloudProviderTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String AK = "appKey123";
  static final String AS = "appSecret456";
  static final String CK = "consumer789";
  static final String PROJECT = "proj0001";
  /** The fake server's clock runs 1000 s ahead of ours: requests pass only if the client corrects for it. */
  volatile long skew = 1000;

  HttpServer server;
  URI base;
  final Map<String, ObjectNode> instances = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> pollsUntilActive = new ConcurrentHashMap<>();
  final List<String> signedCalls = new CopyOnWriteArrayList<>();
  final AtomicInteger timeCalls = new AtomicInteger();
  final AtomicInteger ids = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/1.0/", this::handle);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/1.0");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  long serverNow() {
    return System.currentTimeMillis() / 1000 + skew;
  }

  void handle(HttpExchange x) throws IOException {
    try (x) {
      String method = x.getRequestMethod();
      String path = x.getRequestURI().getPath().substring("/1.0".length());
      String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (path.equals("/auth/time")) {
        timeCalls.incrementAndGet();
        reply(x, 200, JSON.getNodeFactory().numberNode(serverNow()));
        return;
      }
      String app = x.getRequestHeaders().getFirst("X-Ovh-Application");
      String consumer = x.getRequestHeaders().getFirst("X-Ovh-Consumer");
      String ts = x.getRequestHeaders().getFirst("X-Ovh-Timestamp");
      String sig = x.getRequestHeaders().getFirst("X-Ovh-Signature");
      if (!AK.equals(app)) {
        reply(x, 403, error("This application key is invalid", "INVALID_KEY"));
        return;
      }
      if (ts == null || Math.abs(Long.parseLong(ts) - serverNow()) > 5) {
        reply(x, 400, error("Query out of time", "QUERY_TIME_OUT"));
        return;
      }
      String fullUrl = base + path + (x.getRequestURI().getRawQuery() == null ? "" : "?" + x.getRequestURI().getRawQuery());
      // recomputed independently of the client's helper
      String expected = "$1$" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1")
          .digest((AS + "+" + CK + "+" + method + "+" + fullUrl + "+" + body + "+" + ts).getBytes(StandardCharsets.UTF_8)));
      if (!CK.equals(consumer) || !expected.equals(sig)) {
        reply(x, 400, error("Invalid signature", "INVALID_SIGNATURE"));
        return;
      }
      signedCalls.add(method + " " + path);
      String prefix = "/cloud/project/" + PROJECT + "/instance";
      if (path.equals(prefix) && method.equals("GET")) {
        ArrayNode list = JSON.createArrayNode();
        instances.values().forEach(list::add);
        reply(x, 200, list);
      } else if (path.equals(prefix) && method.equals("POST")) {
        JsonNode req = JSON.readTree(body);
        String id = String.format("%08d-aaaa-bbbb-cccc-%012d", ids.incrementAndGet(), 7);
        ObjectNode i = JSON.createObjectNode();
        i.put("id", id);
        i.put("name", req.path("name").asText());
        i.put("flavorId", req.path("flavorId").asText());
        i.put("imageId", req.path("imageId").asText());
        i.put("region", req.path("region").asText());
        i.put("status", "BUILD");
        i.put("created", "2026-11-27T03:00:00Z");
        i.putArray("ipAddresses");
        i.put("monthlyBilling", (String) null);
        i.put("planCode", "d2-2.consumption");
        instances.put(id, i);
        pollsUntilActive.put(id, new AtomicInteger(2));
        reply(x, 200, i);
      } else if (path.startsWith(prefix + "/") && method.equals("GET")) {
        ObjectNode i = instances.get(path.substring(prefix.length() + 1));
        if (i == null) {
          reply(x, 404, error("The requested object (instanceId = x) does not exist", ""));
          return;
        }
        if (pollsUntilActive.get(i.get("id").asText()).decrementAndGet() <= 0) {
          i.put("status", "ACTIVE");
          ArrayNode ips = i.putArray("ipAddresses");
          ObjectNode v4 = ips.addObject();
          v4.put("ip", "192.0.2." + ids.get());
          v4.put("type", "public");
          v4.put("version", 4);
          v4.put("networkId", "ext-net");
          v4.putNull("gatewayIp");
          ObjectNode v6 = ips.addObject();
          v6.put("ip", "2001:db8::" + ids.get());
          v6.put("type", "public");
          v6.put("version", 6);
        }
        reply(x, 200, i);
      } else if (path.startsWith(prefix + "/") && method.equals("DELETE")) {
        if (instances.remove(path.substring(prefix.length() + 1)) == null) {
          reply(x, 404, error("The requested object does not exist", ""));
          return;
        }
        reply(x, 200, JSON.nullNode());
      } else {
        reply(x, 404, error("Got an invalid (or empty) URL", ""));
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static ObjectNode error(String message, String code) {
    ObjectNode n = JSON.createObjectNode();
    n.put("message", message);
    if (!code.isEmpty()) {
      n.put("errorCode", code);
    }
    n.put("httpCode", "400 Bad Request");
    return n;
  }

  static void reply(HttpExchange x, int status, JsonNode body) throws IOException {
    byte[] b = JSON.writeValueAsBytes(body);
    x.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    x.sendResponseHeaders(status, b.length);
    x.getResponseBody().write(b);
  }

  OvhCloudProvider provider(String secret, int capacity) {
    OvhClient c = new OvhClient(base, AK, Secret.of(secret), Secret.of(CK));
    return new OvhCloudProvider(c, new OvhCloudProvider.Settings(PROJECT, "GRA11", "flavor-d2-2", "image-debian12", "key-1", "byop-", "debian",
        SecretRef.value("not-a-real-key"), "/tmp/byop-ovh-test-known_hosts", true, capacity, Duration.ofSeconds(10), Duration.ofMillis(10)));
  }

  @Test
  void theClockOffsetIsReadAgainWhenOvhRefusesTheTimestamp() {
    OvhClient c = new OvhClient(base, AK, Secret.of(AS), Secret.of(CK));
    c.call("GET", "/cloud/project/" + PROJECT + "/instance", null);
    assertEquals(1, timeCalls.get());
    skew = 4000; // OVH's clock jumped (or ours did): the cached offset is now 3000 s off
    c.call("GET", "/cloud/project/" + PROJECT + "/instance", null);
    assertEquals(2, timeCalls.get(), "QUERY_TIME_OUT made the client read /auth/time again");
    assertEquals(2, signedCalls.size(), "both calls went through signed: " + signedCalls);
  }

  @Test
  void signatureMatchesOvhsFormula() {
    // sha1("AS+CK+GET+https://eu.api.ovh.com/1.0/auth/details++1700000000"), computed independently
    assertEquals("$1$" + sha1("AS+CK+GET+https://eu.api.ovh.com/1.0/auth/details++1700000000"),
        OvhClient.signature("AS", "CK", "GET", "https://eu.api.ovh.com/1.0/auth/details", "", 1700000000L));
  }

  static String sha1(String s) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void createsWaitsForActiveReusesByCapacityAndDeletesOnLastRelease() {
    try (OvhCloudProvider p = provider(AS, 2)) {
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertTrue(a.host().address().startsWith("192.0.2."), a.host().toString());
      assertEquals("debian", a.host().user());
      assertTrue(a.host().acceptNewHostKey());
      assertEquals("byop-pa", instances.get(a.host().id()).get("name").asText());
      assertEquals("ACTIVE", instances.get(a.host().id()).get("status").asText());
      CloudProvider.HostLease b = p.acquire("pb", Duration.ofSeconds(5));
      assertEquals(a.host().id(), b.host().id(), "capacity 2: the second preview shares the instance");
      CloudProvider.HostLease c = p.acquire("pc", Duration.ofSeconds(5));
      assertTrue(!c.host().id().equals(a.host().id()), "a third preview gets a new instance");
      assertEquals(2, instances.size());
      p.release("pa");
      assertEquals(2, instances.size(), "instance kept while pb uses it");
      p.release("pb");
      p.release("pb");
      assertEquals(1, instances.size(), "deleted with its last preview");
      p.release("pc");
      assertTrue(instances.isEmpty());
    }
    assertEquals(1, timeCalls.get(), "the time delta is read once");
    assertTrue(signedCalls.contains("POST /cloud/project/" + PROJECT + "/instance"), signedCalls.toString());
    assertTrue(signedCalls.stream().anyMatch(s -> s.startsWith("DELETE /cloud/project/" + PROJECT + "/instance/")), signedCalls.toString());
  }

  @Test
  void restoredLeasesKeepTheirInstanceCountedUntilTheLastPreviewGoes() {
    String id;
    try (OvhCloudProvider p = provider(AS, 1)) {
      id = p.acquire("px", Duration.ofSeconds(5)).host().id();
    }
    try (OvhCloudProvider again = provider(AS, 1)) {
      assertEquals(java.util.Set.of("p-gone"), again.restore(Map.of("px", id, "p-gone", "no-such-instance")));
      assertEquals(List.of("px"), again.hosts().get(0).previews(), "the restored slot counts");
      String other = again.acquire("py", Duration.ofSeconds(5)).host().id();
      assertTrue(!other.equals(id), "the restored instance is full (capacity 1): a new one is made");
      again.release("px");
      assertTrue(signedCalls.contains("DELETE /cloud/project/" + PROJECT + "/instance/" + id), signedCalls.toString());
    }
  }

  @Test
  void adoptsItsActiveInstancesAfterARestart() {
    String id;
    try (OvhCloudProvider p = provider(AS, 1)) {
      id = p.acquire("px", Duration.ofSeconds(5)).host().id();
    }
    try (OvhCloudProvider again = provider(AS, 2)) {
      assertEquals(id, again.acquire("py", Duration.ofSeconds(5)).host().id());
    }
  }

  @Test
  void wrongSecretFailsWithOvhsErrorAndCreatesNothing() {
    try (OvhCloudProvider p = provider("wrong-secret", 1)) {
      OvhApiException e = assertThrows(OvhApiException.class, () -> p.acquire("pz", Duration.ofSeconds(1)));
      assertEquals(400, e.status());
      assertEquals("INVALID_SIGNATURE", e.errorCode());
      assertTrue(e.getMessage().contains("Invalid signature") && !e.getMessage().contains("wrong-secret"), e.getMessage());
    }
    assertTrue(instances.isEmpty());
  }

  @Test
  void instanceThatNeverBecomesActiveIsDeletedAndReported() {
    OvhClient c = new OvhClient(base, AK, Secret.of(AS), Secret.of(CK));
    OvhCloudProvider p = new OvhCloudProvider(c, new OvhCloudProvider.Settings(PROJECT, "GRA11", "f", "i", "k", "byop-", "debian",
        SecretRef.value("k"), "/tmp/kh", false, 1, Duration.ofMillis(50), Duration.ofMillis(200)));
    PreviewException e = assertThrows(PreviewException.class, () -> p.acquire("slow", Duration.ZERO));
    assertTrue(e.getMessage().contains("not ACTIVE within"), e.getMessage());
    assertTrue(instances.isEmpty(), "the half-made instance was deleted");
  }
}
