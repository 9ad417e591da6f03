package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.CloudProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OVH provider against a local server that checks every request as OVH's API v1 documents it (signature
 * {@code "$1$" + sha1(AS+CK+METHOD+URL+BODY+TS)}, X-Ovh-* headers, timestamp within OVH's clock, JSON body fields of
 * {@code POST /cloud/project/{serviceName}/instance}) and answers like it, with real SSH-banner ports on loopback.
 */
class OvhCloudProviderTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String AK = "appKey123";
  static final String AS = "appSecret456";
  static final String CK = "consumer789";
  static final String PROJECT = "proj0001";
  static final String KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  static final Set<String> CREATE_FIELDS = Set.of("name", "flavorId", "imageId", "region", "sshKeyId", "monthlyBilling", "userData");

  /** The fake server's clock runs ahead of ours: requests pass only if the client corrects for it. */
  volatile long skew = 1000;

  @TempDir
  Path dir;
  HttpServer server;
  URI base;
  SshBanner banner;
  Path knownHosts;
  final TestClock clock = new TestClock();
  final Map<String, ObjectNode> instances = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> pollsUntilActive = new ConcurrentHashMap<>();
  final List<String> signedCalls = new CopyOnWriteArrayList<>();
  final List<JsonNode> createBodies = new CopyOnWriteArrayList<>();
  final List<String> problems = new CopyOnWriteArrayList<>();
  /** How the next creates misbehave: "500" makes the instance and answers 500; "429" refuses with Retry-After. */
  final ConcurrentLinkedDeque<String> createFaults = new ConcurrentLinkedDeque<>();
  final AtomicInteger timeCalls = new AtomicInteger();
  final AtomicInteger ids = new AtomicInteger();
  final List<Duration> waits = new CopyOnWriteArrayList<>();
  final List<CloudProvider.RemoteHost> readied = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/1.0/", this::handle);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/1.0");
    banner = new SshBanner();
    banner.listen(banner.reserve());
    knownHosts = dir.resolve("known_hosts");
    Files.writeString(knownHosts, "10.0.0.9 " + KEY_LINE + "\n");
  }

  @AfterEach
  void stop() throws IOException {
    server.stop(0);
    banner.close();
    assertTrue(problems.isEmpty(), "requests not in OVH's format: " + problems);
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
        if (x.getRequestHeaders().containsKey("X-Ovh-Signature")) {
          problems.add("/auth/time is not signed");
        }
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
      if (!body.isEmpty() && !"application/json".equals(x.getRequestHeaders().getFirst("Content-Type"))) {
        problems.add(method + " " + path + " body without Content-Type: application/json");
      }
      String fullUrl = base + path + (x.getRequestURI().getRawQuery() == null ? "" : "?" + x.getRequestURI().getRawQuery());
      // recomputed independently of the client's helper
      String expected = "$1$" + sha1(AS + "+" + CK + "+" + method + "+" + fullUrl + "+" + body + "+" + ts);
      if (!CK.equals(consumer) || !expected.equals(sig)) {
        // OVH's message does not echo the consumer key; this one does, so that masking is tested
        reply(x, 400, error("Invalid signature for consumer " + consumer, "INVALID_SIGNATURE"));
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
        createBodies.add(req);
        req.fieldNames().forEachRemaining(f -> {
          if (!CREATE_FIELDS.contains(f)) {
            problems.add("POST instance has field " + f + ", not in OVH's cloud.ProjectInstanceCreation");
          }
        });
        for (String f : List.of("name", "flavorId", "region")) {
          if (!req.path(f).isTextual()) {
            problems.add("POST instance lacks the required " + f);
          }
        }
        String fault = createFaults.pollFirst();
        if ("429".equals(fault)) {
          x.getResponseHeaders().set("Retry-After", "2");
          reply(x, 429, error("Too many requests", ""));
          return;
        }
        ObjectNode i = instance(String.format("%08d-aaaa-bbbb-cccc-%012d", ids.incrementAndGet(), 7), req.path("name").asText(),
            req.path("sshKeyId").asText(), "BUILD");
        pollsUntilActive.put(i.get("id").asText(), new AtomicInteger(2));
        if ("500".equals(fault)) {
          reply(x, 500, error("Internal server error", ""));
          return;
        }
        reply(x, 200, i);
      } else if (path.startsWith(prefix + "/") && method.equals("GET")) {
        ObjectNode i = instances.get(path.substring(prefix.length() + 1));
        if (i == null) {
          reply(x, 404, error("The requested object (instanceId = x) does not exist", ""));
          return;
        }
        AtomicInteger polls = pollsUntilActive.get(i.get("id").asText());
        if (polls == null || polls.decrementAndGet() <= 0) {
          activate(i);
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
    }
  }

  ObjectNode instance(String id, String name, String sshKeyId, String status) {
    ObjectNode i = JSON.createObjectNode();
    i.put("id", id);
    i.put("name", name);
    i.put("flavorId", "flavor-d2-2");
    i.put("imageId", "image-debian12");
    i.put("region", "GRA11");
    i.put("sshKeyId", sshKeyId);
    i.put("status", status);
    i.put("created", "2026-11-27T03:00:00Z");
    i.putArray("ipAddresses");
    i.putNull("monthlyBilling");
    i.put("planCode", "d2-2.consumption");
    instances.put(id, i);
    if (status.equals("ACTIVE")) {
      activate(i);
    }
    return i;
  }

  static void activate(ObjectNode i) {
    i.put("status", "ACTIVE");
    ArrayNode ips = i.putArray("ipAddresses");
    ObjectNode v4 = ips.addObject();
    v4.put("ip", "127.0.0.1");
    v4.put("type", "public");
    v4.put("version", 4);
    v4.put("networkId", "ext-net");
    v4.putNull("gatewayIp");
    ObjectNode v6 = ips.addObject();
    v6.put("ip", "2001:db8::1");
    v6.put("type", "public");
    v6.put("version", 6);
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

  static String sha1(String s) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  Provisioning settings(int capacity, int max, Duration idle) {
    return Provisioning.of("ci", "debian", SecretRef.value("not-a-real-key"), knownHosts.toString()).withAcceptNewHostKey(true)
        .withLimits(capacity, max, idle).withTimes(Duration.ofSeconds(10), Duration.ofMillis(10), banner.port(), Duration.ofSeconds(5),
            Duration.ofSeconds(5))
        .withRetry(new CloudRetry(4, Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(5)));
  }

  /** Readiness as accept-new does it: records the first-seen key for the host. */
  HostReadiness readiness() {
    return (host, timeout) -> {
      readied.add(host);
      try {
        Files.writeString(knownHosts, "[" + host.address() + "]:" + host.port() + " " + KEY_LINE + "\n",
            java.nio.file.StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  OvhClient client(String secret) {
    CloudHttp http = new CloudHttp("ovh", HttpClient.newHttpClient(), new CloudRetry(4, Duration.ofMillis(50), Duration.ofSeconds(1),
        Duration.ofMinutes(1), Duration.ofSeconds(5)), new Redactor(), waits::add, java.time.Clock.systemUTC(), new SplittableRandom(3));
    return new OvhClient(base, AK, Secret.of(secret), Secret.of(CK), () -> System.currentTimeMillis() / 1000, http);
  }

  OvhCloudProvider provider(String secret, Provisioning p, HostReadiness readiness) {
    return new OvhCloudProvider(client(secret), new OvhCloudProvider.Settings(PROJECT, "GRA11", "flavor-d2-2", "image-debian12",
        "key-1", p), new Redactor(), readiness, InstancePool::awaitSshBanner, clock);
  }

  OvhCloudProvider provider(int capacity, int max, Duration idle) {
    return provider(AS, settings(capacity, max, idle), readiness());
  }

  long posts() {
    return signedCalls.stream().filter(c -> c.startsWith("POST ")).count();
  }

  @Test
  void aCreateAnswered500AfterMakingTheInstanceIsFoundByItsMarkerAndMakesExactlyOne() {
    createFaults.add("500");
    try (OvhCloudProvider p = provider(1, 3, Duration.ZERO)) {
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertEquals(1, instances.size(), "one instance made: " + instances.keySet());
      assertEquals(1, posts(), "the create was not sent again: " + signedCalls);
      assertEquals(instances.keySet().iterator().next(), a.host().id());
    }
  }

  @Test
  void aCreateRefusedWith429WaitsRetryAfterAndMakesOne() {
    createFaults.add("429");
    try (OvhCloudProvider p = provider(1, 3, Duration.ZERO)) {
      p.acquire("pa", Duration.ofSeconds(5));
    }
    assertEquals(1, instances.size());
    assertEquals(2, posts());
    assertTrue(waits.contains(Duration.ofSeconds(2)), "Retry-After: 2 honoured: " + waits);
  }

  @Test
  void anInstanceWithThePrefixButNotTheMarkerIsNeverAdoptedCountedOrDeleted() {
    instance("f1", "byop-web-1", "key-1", "ACTIVE");                 // the prefix only
    instance("f2", "byop-ci-notatoken", "key-1", "ACTIVE");          // prefix and owner, no token
    instance("f3", "byop-ci-0123456789abcdef", "someone-elses-key", "ACTIVE"); // the right shape, another key
    instance("f4", "byop-other-0123456789abcdef", "key-1", "ACTIVE"); // another installation's owner
    try (OvhCloudProvider p = provider(1, 1, Duration.ofMinutes(10))) {
      assertTrue(p.ownInstances().isEmpty(), "none of them is ours");
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertFalse(Set.of("f1", "f2", "f3", "f4").contains(a.host().id()), "a foreign instance was used: " + a.host());
      assertEquals(1, p.hosts().size(), "cap 1 reached by byop's own instance only");
      p.release("pa");
      clock.advance(Duration.ofMinutes(11));
      assertEquals(List.of(a.host().id()), p.reapIdle(), "only byop's own idle instance is deleted");
    }
    assertEquals(Set.of("f1", "f2", "f3", "f4"), instances.keySet());
    assertTrue(signedCalls.stream().noneMatch(c -> c.startsWith("DELETE") && c.matches(".*/f[1-4]$")), signedCalls.toString());
  }

  @Test
  void theCapOnInstancesIsATypedErrorNamingIt() {
    try (OvhCloudProvider p = provider(1, 1, Duration.ZERO)) {
      p.acquire("pa", Duration.ofSeconds(5));
      CloudCapException e = assertThrows(CloudCapException.class, () -> p.acquire("pb", Duration.ofMillis(200)));
      assertEquals(1, e.cap());
      assertTrue(e.getMessage().contains("cloud.maxInstances is 1") && e.getMessage().contains("pb"), e.getMessage());
      p.release("pa");
      assertEquals("pc", p.acquire("pc", Duration.ofSeconds(5)).previewId(), "room again once the instance is gone");
    }
    assertEquals(1, instances.size());
    assertEquals(2, posts());
  }

  @Test
  void createsWithOvhsFieldsThenActiveThenSshThenReadinessAndSharesByCapacity() throws IOException {
    try (OvhCloudProvider p = provider(2, 3, Duration.ZERO)) {
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertEquals("127.0.0.1", a.host().address());
      assertEquals(banner.port(), a.host().port());
      assertEquals("debian", a.host().user());
      assertEquals(knownHosts.toString(), a.host().knownHosts());
      assertFalse(a.host().acceptNewHostKey(), "after the first login the key is pinned: no accept-new any more");
      assertEquals(1, readied.size());
      assertFalse(readied.get(0).acceptNewHostKey(), "even the first login of a host byop just made needs the pinned key");
      assertTrue(banner.connections.get() >= 1, "the SSH port was probed");
      JsonNode body = createBodies.get(0);
      assertTrue(body.path("name").asText().matches("byop-ci-[0-9a-f]{16}"), body.toString());
      assertEquals("flavor-d2-2", body.path("flavorId").asText());
      assertEquals("image-debian12", body.path("imageId").asText());
      assertEquals("GRA11", body.path("region").asText());
      assertEquals("key-1", body.path("sshKeyId").asText());
      assertTrue(body.path("monthlyBilling").isBoolean() && !body.path("monthlyBilling").asBoolean());
      CloudUserDataTest.assertPinned(body.path("userData").asText(), "debian", knownHosts, "[127.0.0.1]:" + banner.port());
      assertEquals(a.host().id(), p.acquire("pb", Duration.ofSeconds(5)).host().id(), "capacity 2: shared");
      assertNotEquals(a.host().id(), p.acquire("pc", Duration.ofSeconds(5)).host().id(), "a third preview gets a new instance");
      p.release("pa");
      assertEquals(2, instances.size(), "kept while pb uses it");
      p.release("pb");
      p.release("pb");
      assertEquals(1, instances.size(), "idle time 0: deleted with its last preview");
      p.release("pc");
      assertTrue(instances.isEmpty());
    }
    assertEquals("10.0.0.9 " + KEY_LINE + "\n", Files.readString(knownHosts), "the deleted instances' lines are gone, the other kept");
    assertEquals(1, timeCalls.get(), "the time offset is read once");
  }

  @Test
  void anEmptyInstanceIsKeptForTheIdleTimeThenDeletedWithItsKnownHostsLine() throws IOException {
    try (OvhCloudProvider p = provider(1, 3, Duration.ofMinutes(10))) {
      String id = p.acquire("pa", Duration.ofSeconds(5)).host().id();
      assertTrue(Files.readString(knownHosts).contains("[127.0.0.1]:" + banner.port()));
      p.release("pa");
      clock.advance(Duration.ofMinutes(5));
      assertTrue(p.reapIdle().isEmpty());
      assertEquals(id, p.acquire("pb", Duration.ofSeconds(5)).host().id(), "an idle instance is reused");
      p.release("pb");
      clock.advance(Duration.ofMinutes(9));
      assertTrue(p.reapIdle().isEmpty(), "idle counts from its last release");
      clock.advance(Duration.ofMinutes(2));
      assertEquals(List.of(id), p.reapIdle());
      assertTrue(instances.isEmpty());
    }
    assertFalse(Files.readString(knownHosts).contains("127.0.0.1"), Files.readString(knownHosts));
  }

  @Test
  void afterARestartOnlyMarkedInstancesAreAdoptedWithTheirPinnedKeyAndRecordedLeasesCount() {
    String id;
    try (OvhCloudProvider p = provider(1, 3, Duration.ofMinutes(10))) {
      id = p.acquire("px", Duration.ofSeconds(5)).host().id();
    }
    instance("f1", "byop-px", "key-1", "ACTIVE"); // what the old naming made: prefix only
    try (OvhCloudProvider again = provider(1, 3, Duration.ofMinutes(10))) {
      assertEquals(Set.of("p-gone"), again.restore(Map.of("px", id, "p-gone", "no-such-instance")));
      assertEquals(1, again.hosts().size(), again.hosts().toString());
      CloudProvider.HostStatus h = again.hosts().get(0);
      assertEquals(List.of("px"), h.previews(), "the restored slot counts");
      assertFalse(h.host().acceptNewHostKey(), "an adopted instance needs the key recorded when byop made it");
      String other = again.acquire("py", Duration.ofSeconds(5)).host().id();
      assertNotEquals(id, other, "the restored instance is full (capacity 1)");
      assertNotEquals("f1", other);
    }
  }

  @Test
  void aHostThatIsNotReadyIsDeletedAndTheErrorNamesWhatIsMissing() throws IOException {
    HostReadiness failing = (host, timeout) -> {
      throw new HostNotReadyException(host.id(), List.of("docker", "router"), "docker info not found; caddy version not found");
    };
    try (OvhCloudProvider p = provider(AS, settings(1, 3, Duration.ofMinutes(10)), failing)) {
      HostNotReadyException e = assertThrows(HostNotReadyException.class, () -> p.acquire("pa", Duration.ofSeconds(5)));
      assertEquals(List.of("docker", "router"), e.missing());
      assertTrue(e.getMessage().contains("missing docker, router"), e.getMessage());
      assertTrue(p.hosts().isEmpty());
    }
    assertTrue(instances.isEmpty(), "the half-made instance was deleted");
  }

  @Test
  void anActiveInstanceWhoseSshdListensLateIsWaitedForAndOneThatNeverDoesIsDeleted() throws Exception {
    SshBanner late = new SshBanner();
    int port = late.reserve();
    Provisioning s = settings(1, 3, Duration.ZERO).withTimes(Duration.ofSeconds(10), Duration.ofMillis(10), port, Duration.ofSeconds(5),
        Duration.ofSeconds(5));
    Thread starter = new Thread(() -> {
      try {
        Thread.sleep(800); // ACTIVE is answered at once; sshd comes up a little later
        late.listen(port);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    starter.start();
    String pa;
    try (OvhCloudProvider p = provider(AS, s, readiness())) {
      CloudProvider.HostLease lease = p.acquire("pa", Duration.ofSeconds(5));
      assertEquals(port, lease.host().port());
      pa = lease.host().id();
    } finally {
      starter.join();
      late.close();
    }
    Provisioning never = s.withTimes(Duration.ofSeconds(10), Duration.ofMillis(10), port, Duration.ofMillis(600), Duration.ofSeconds(5));
    try (OvhCloudProvider p = provider(AS, never, readiness())) {
      p.restore(Map.of("pa", pa)); // pa's instance is full: pb needs a new one
      HostNotReadyException e = assertThrows(HostNotReadyException.class, () -> p.acquire("pb", Duration.ofSeconds(5)));
      assertEquals(List.of("ssh"), e.missing());
      assertTrue(e.getMessage().contains("no SSH banner"), e.getMessage());
    }
    assertEquals(1, instances.size(), "only pa's instance is left");
  }

  @Test
  void wrongSecretFailsWithOvhsErrorAndNoSecretInAnyMessage() {
    try (OvhCloudProvider p = provider("wrong-secret", settings(1, 3, Duration.ZERO), readiness())) {
      OvhApiException e = assertThrows(OvhApiException.class, () -> p.acquire("pz", Duration.ofSeconds(1)));
      assertEquals(400, e.status());
      assertEquals("INVALID_SIGNATURE", e.errorCode());
      assertTrue(e.getMessage().contains("Invalid signature"), e.getMessage());
      assertFalse(e.getMessage().contains("wrong-secret") || e.getMessage().contains(CK), "no secret in " + e.getMessage());
    }
    assertTrue(instances.isEmpty());
  }

  @Test
  void instanceThatNeverBecomesActiveIsDeletedAndReported() {
    Provisioning s = settings(1, 3, Duration.ZERO).withTimes(Duration.ofMillis(50), Duration.ofMillis(200), banner.port(),
        Duration.ofSeconds(1), Duration.ofSeconds(1));
    try (OvhCloudProvider p = provider(AS, s, readiness())) {
      PreviewException e = assertThrows(PreviewException.class, () -> p.acquire("slow", Duration.ZERO));
      assertTrue(e.getMessage().contains("not ACTIVE within"), e.getMessage());
    }
    assertTrue(instances.isEmpty(), "the half-made instance was deleted");
  }

  @Test
  void theClockOffsetIsReadAgainWhenOvhRefusesTheTimestamp() {
    OvhClient c = client(AS);
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
}
