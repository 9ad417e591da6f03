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
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Hetzner Cloud provider against a local server that checks each request against the public API v1 (bearer token,
 * paths, JSON fields of {@code POST /servers}, label selectors, pagination) and answers in its shapes ({@code server},
 * {@code action}, {@code root_password}, {@code error: {code, message}}, 429 with {@code RateLimit-*}).
 */
class HetznerCloudProviderTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "hcloud-T0ken-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRST";
  static final Set<String> CREATE_FIELDS = Set.of("name", "server_type", "image", "location", "datacenter", "ssh_keys", "labels",
      "user_data", "start_after_create", "networks", "volumes", "firewalls", "automount", "placement_group", "public_net");
  static final String KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

  @TempDir
  Path dir;
  HttpServer server;
  URI base;
  SshBanner banner;
  Path knownHosts;
  final TestClock clock = new TestClock();
  final Map<Long, ObjectNode> servers = new ConcurrentSkipListMap<>();
  final Map<Long, AtomicInteger> pollsUntilRunning = new ConcurrentHashMap<>();
  final Map<Long, ObjectNode> actions = new ConcurrentHashMap<>();
  final Map<Long, String> actionOutcome = new ConcurrentHashMap<>();
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<String> selectors = new CopyOnWriteArrayList<>();
  final List<JsonNode> createBodies = new CopyOnWriteArrayList<>();
  final List<String> problems = new CopyOnWriteArrayList<>();
  /** "500": makes the server and answers 500; "429": refuses with RateLimit-Remaining 0; "action-error": its action fails. */
  final ConcurrentLinkedDeque<String> createFaults = new ConcurrentLinkedDeque<>();
  /** "delete-error": the delete action fails and the server stays. */
  final ConcurrentLinkedDeque<String> deleteFaults = new ConcurrentLinkedDeque<>();
  final AtomicInteger ids = new AtomicInteger(40000);
  final List<Duration> waits = new CopyOnWriteArrayList<>();
  final List<CloudProvider.RemoteHost> readied = new CopyOnWriteArrayList<>();
  /** The fake's page size, small so that listing follows meta.pagination.next_page. */
  volatile int pageSize = 2;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/", this::handle);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
    banner = new SshBanner();
    banner.listen(banner.reserve());
    knownHosts = dir.resolve("known_hosts");
    Files.writeString(knownHosts, "10.0.0.9 " + KEY_LINE + "\n");
  }

  @AfterEach
  void stop() throws IOException {
    server.stop(0);
    banner.close();
    assertTrue(problems.isEmpty(), "requests not in Hetzner's format: " + problems);
  }

  static Map<String, String> query(URI uri) {
    Map<String, String> q = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String kv : uri.getRawQuery().split("&")) {
        int eq = kv.indexOf('=');
        q.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  /** Hetzner's label selector: comma-separated {@code k=v}, {@code k==v}, {@code k!=v}, {@code k}, {@code !k}. */
  static boolean matches(String selector, JsonNode labels) {
    for (String e : selector.split(",")) {
      if (e.contains("!=")) {
        String[] kv = e.split("!=", 2);
        if (kv[1].equals(labels.path(kv[0]).asText(null))) {
          return false;
        }
      } else if (e.contains("=")) {
        String[] kv = e.split("==?", 2);
        if (!kv[1].equals(labels.path(kv[0]).asText(null))) {
          return false;
        }
      } else if (e.startsWith("!")) {
        if (labels.has(e.substring(1))) {
          return false;
        }
      } else if (!labels.has(e)) {
        return false;
      }
    }
    return true;
  }

  void handle(HttpExchange x) throws IOException {
    try (x) {
      String method = x.getRequestMethod();
      String path = x.getRequestURI().getPath().substring("/v1".length());
      String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Map<String, String> q = query(x.getRequestURI());
      String auth = x.getRequestHeaders().getFirst("Authorization");
      if (!("Bearer " + TOKEN).equals(auth)) {
        // Hetzner does not echo the token; this one does, so that masking is tested
        reply(x, 401, error("unauthorized", "unable to authenticate with " + (auth == null ? "nothing" : auth)));
        return;
      }
      if (!body.isEmpty() && !"application/json".equals(x.getRequestHeaders().getFirst("Content-Type"))) {
        problems.add(method + " " + path + " body without Content-Type: application/json");
      }
      calls.add(method + " " + path);
      if (path.equals("/servers") && method.equals("GET")) {
        String sel = q.getOrDefault("label_selector", "");
        selectors.add(sel);
        List<JsonNode> all = new ArrayList<>();
        for (ObjectNode s : servers.values()) {
          if (sel.isEmpty() || matches(sel, s.path("labels"))) {
            all.add(s);
          }
        }
        int page = Integer.parseInt(q.getOrDefault("page", "1"));
        int per = Math.min(pageSize, Integer.parseInt(q.getOrDefault("per_page", "25")));
        ObjectNode r = JSON.createObjectNode();
        ArrayNode list = r.putArray("servers");
        all.stream().skip((long) (page - 1) * per).limit(per).forEach(list::add);
        ObjectNode pagination = r.putObject("meta").putObject("pagination");
        pagination.put("page", page);
        pagination.put("per_page", per);
        pagination.put("total_entries", all.size());
        int last = Math.max(1, (all.size() + per - 1) / per);
        pagination.put("last_page", last);
        if (page < last) {
          pagination.put("next_page", page + 1);
        } else {
          pagination.putNull("next_page");
        }
        pagination.put("previous_page", page > 1 ? page - 1 : null);
        reply(x, 200, r);
      } else if (path.equals("/ssh_keys") && method.equals("GET")) {
        ObjectNode r = JSON.createObjectNode();
        ObjectNode k = r.putArray("ssh_keys").addObject();
        k.put("id", 2323);
        k.put("name", "byop-deploy");
        k.put("fingerprint", "b7:2f:30:a0:2f:6c:58:6c:21:04:58:61:ba:06:3b:2f");
        k.put("public_key", KEY_LINE);
        k.putObject("labels");
        r.putObject("meta").putObject("pagination").putNull("next_page");
        reply(x, 200, r);
      } else if (path.equals("/servers") && method.equals("POST")) {
        JsonNode req = JSON.readTree(body);
        createBodies.add(req);
        req.fieldNames().forEachRemaining(f -> {
          if (!CREATE_FIELDS.contains(f)) {
            problems.add("POST /servers has field " + f + ", not in Hetzner's create server request");
          }
        });
        for (String f : List.of("name", "server_type", "image")) {
          if (!req.path(f).isTextual()) {
            problems.add("POST /servers lacks the required " + f);
          }
        }
        if (!req.path("name").asText().matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
          problems.add("server name " + req.path("name") + " is not a valid hostname");
        }
        if (!req.path("ssh_keys").isArray() || !req.path("labels").isObject() || !req.path("start_after_create").isBoolean()) {
          problems.add("POST /servers ssh_keys must be an array, labels an object, start_after_create a boolean: " + req);
        }
        req.path("labels").fields().forEachRemaining(e -> {
          if (!e.getValue().isTextual() || !e.getValue().asText().matches("([a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?)?")) {
            problems.add("label value " + e.getValue() + " is not a valid Hetzner label value");
          }
        });
        String fault = createFaults.pollFirst();
        if ("429".equals(fault)) {
          x.getResponseHeaders().set("RateLimit-Limit", "3600");
          x.getResponseHeaders().set("RateLimit-Remaining", "0");
          x.getResponseHeaders().set("RateLimit-Reset", Long.toString(java.time.Instant.now().getEpochSecond() + 2));
          reply(x, 429, error("rate_limit_exceeded", "limit of 3600 requests per hour reached"));
          return;
        }
        for (ObjectNode s : servers.values()) {
          if (s.path("name").asText().equals(req.path("name").asText())) {
            reply(x, 409, error("uniqueness_error", "server name is already used"));
            return;
          }
        }
        long id = ids.incrementAndGet();
        ObjectNode s = server(id, req.path("name").asText(), (ObjectNode) req.path("labels"), "initializing");
        pollsUntilRunning.put(id, new AtomicInteger(2));
        long actionId = ids.incrementAndGet();
        ObjectNode action = JSON.createObjectNode();
        action.put("id", actionId);
        action.put("command", "create_server");
        action.put("status", "running");
        action.put("progress", 0);
        actions.put(actionId, action);
        actionOutcome.put(actionId, "action-error".equals(fault) ? "error" : "success");
        if ("500".equals(fault)) {
          reply(x, 500, error("server_error", "an internal error occurred"));
          return;
        }
        ObjectNode r = JSON.createObjectNode();
        r.set("server", s);
        r.set("action", action);
        r.putNull("root_password");
        r.putArray("next_actions");
        reply(x, 201, r);
      } else if (path.matches("/servers/\\d+") && method.equals("GET")) {
        ObjectNode s = servers.get(Long.parseLong(path.substring(9)));
        if (s == null) {
          reply(x, 404, error("not_found", "server with ID '" + path.substring(9) + "' not found"));
          return;
        }
        AtomicInteger polls = pollsUntilRunning.get(s.get("id").asLong());
        if (polls == null || polls.decrementAndGet() <= 0) {
          run(s);
        }
        ObjectNode r = JSON.createObjectNode();
        r.set("server", s);
        reply(x, 200, r);
      } else if (path.matches("/actions/\\d+") && method.equals("GET")) {
        long id = Long.parseLong(path.substring(9));
        ObjectNode a = actions.get(id);
        if (a == null) {
          reply(x, 404, error("not_found", "action not found"));
          return;
        }
        String outcome = actionOutcome.get(id);
        a.put("status", outcome);
        a.put("progress", 100);
        if (outcome.equals("error")) {
          ObjectNode e = a.putObject("error");
          e.put("code", "server_create_failed");
          e.put("message", "no capacity left in fsn1-dc14");
        }
        ObjectNode r = JSON.createObjectNode();
        r.set("action", a);
        reply(x, 200, r);
      } else if (path.matches("/servers/\\d+") && method.equals("DELETE")) {
        String fault = deleteFaults.pollFirst();
        long sid = Long.parseLong(path.substring(9));
        if (!servers.containsKey(sid)) {
          reply(x, 404, error("not_found", "server not found"));
          return;
        }
        if (!"delete-error".equals(fault)) {
          servers.remove(sid);
        }
        ObjectNode r = JSON.createObjectNode();
        ObjectNode a = r.putObject("action");
        long actionId = ids.incrementAndGet();
        a.put("id", actionId);
        a.put("command", "delete_server");
        a.put("status", "running");
        actions.put(actionId, a.deepCopy());
        actionOutcome.put(actionId, "delete-error".equals(fault) ? "error" : "success");
        reply(x, 200, r);
      } else {
        problems.add("unknown endpoint " + method + " " + path);
        reply(x, 404, error("not_found", "no such endpoint"));
      }
    }
  }

  ObjectNode server(long id, String name, ObjectNode labels, String status) {
    ObjectNode s = JSON.createObjectNode();
    s.put("id", id);
    s.put("name", name);
    s.put("status", status);
    s.put("created", "2026-12-03T06:00:00+00:00");
    ObjectNode net = s.putObject("public_net");
    net.putNull("ipv4");
    net.putNull("ipv6");
    s.putObject("server_type").put("name", "cx22");
    s.putObject("datacenter").putObject("location").put("name", "fsn1");
    s.set("labels", labels.deepCopy());
    servers.put(id, s);
    if (status.equals("running")) {
      run(s);
    }
    return s;
  }

  static void run(ObjectNode s) {
    s.put("status", "running");
    ObjectNode v4 = ((ObjectNode) s.path("public_net")).putObject("ipv4");
    v4.put("ip", "127.0.0.1");
    v4.put("blocked", false);
    v4.put("dns_ptr", "static.1.0.0.127.clients.your-server.de");
  }

  ObjectNode labels(String... kv) {
    ObjectNode l = JSON.createObjectNode();
    for (int i = 0; i + 1 < kv.length; i += 2) {
      l.put(kv[i], kv[i + 1]);
    }
    return l;
  }

  static ObjectNode error(String code, String message) {
    ObjectNode n = JSON.createObjectNode();
    ObjectNode e = n.putObject("error");
    e.put("code", code);
    e.put("message", message);
    e.putNull("details");
    return n;
  }

  static void reply(HttpExchange x, int status, JsonNode body) throws IOException {
    byte[] b = JSON.writeValueAsBytes(body);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(status, b.length);
    x.getResponseBody().write(b);
  }

  Provisioning settings(int capacity, int max, Duration idle) {
    return Provisioning.of("ci", "root", SecretRef.value("not-a-real-key"), knownHosts.toString()).withAcceptNewHostKey(true)
        .withLimits(capacity, max, idle).withTimes(Duration.ofSeconds(10), Duration.ofMillis(10), banner.port(), Duration.ofSeconds(5),
            Duration.ofSeconds(5));
  }

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

  HetznerCloudProvider provider(String token, Provisioning p, String sshKey) {
    CloudHttp http = new CloudHttp("hetzner", HttpClient.newHttpClient(), new CloudRetry(4, Duration.ofMillis(50), Duration.ofSeconds(1),
        Duration.ofMinutes(1), Duration.ofSeconds(5)), new Redactor(), waits::add, java.time.Clock.systemUTC(), new SplittableRandom(3));
    return new HetznerCloudProvider(new HetznerClient(base, Secret.of(token), http),
        new HetznerCloudProvider.Settings("cx22", "debian-12", "fsn1", sshKey, p), new Redactor(), readiness(),
        InstancePool::awaitSshBanner, clock);
  }

  HetznerCloudProvider provider(int capacity, int max, Duration idle) {
    return provider(TOKEN, settings(capacity, max, idle), "byop-deploy");
  }

  long posts() {
    return calls.stream().filter(c -> c.equals("POST /servers")).count();
  }

  @Test
  void aDeleteWaitsForItsActionAndAFailedOneIsATypedErrorThatKeepsTheServer() {
    deleteFaults.add("delete-error");
    try (HetznerCloudProvider p = provider(1, 3, Duration.ZERO)) {
      p.acquire("pa", Duration.ofSeconds(5));
      CloudApiException e = assertThrows(CloudApiException.class, () -> p.release("pa"));
      assertTrue(e.getMessage().contains("delete action") && e.getMessage().contains("failed"), e.getMessage());
      assertEquals(1, servers.size(), "the server is still there: " + servers.keySet());
      // the next delete succeeds once its action does
      p.acquire("pb", Duration.ofSeconds(5));
      p.release("pb");
      assertTrue(servers.isEmpty(), servers.keySet().toString());
      assertTrue(calls.stream().filter(c -> c.startsWith("GET /actions/")).count() >= 2, "the delete actions were followed: " + calls);
    }
  }

  @Test
  void aCreateAnswered500AfterMakingTheServerIsFoundByItsLabelsAndMakesExactlyOne() {
    createFaults.add("500");
    try (HetznerCloudProvider p = provider(1, 3, Duration.ZERO)) {
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertEquals(1, servers.size(), "one server made: " + servers.keySet());
      assertEquals(1, posts(), "not sent again: " + calls);
      assertEquals(Long.toString(servers.keySet().iterator().next()), a.host().id());
      String token = createBodies.get(0).path("labels").path("byop-token").asText();
      assertTrue(selectors.contains("byop-owner=ci,byop-token=" + token), "looked up by owner and token: " + selectors);
    }
  }

  @Test
  void aCreateRefusedWith429WaitsForRateLimitResetAndMakesOne() {
    createFaults.add("429");
    try (HetznerCloudProvider p = provider(1, 3, Duration.ZERO)) {
      p.acquire("pa", Duration.ofSeconds(5));
    }
    assertEquals(1, servers.size());
    assertEquals(2, posts());
    assertTrue(waits.stream().anyMatch(w -> w.compareTo(Duration.ofSeconds(1)) >= 0 && w.compareTo(Duration.ofSeconds(2)) <= 0),
        "RateLimit-Reset honoured: " + waits);
  }

  @Test
  void aServerWithThePrefixButNotTheLabelsIsNeverAdoptedCountedOrDeleted() {
    server(1, "byop-0123456789abcdef", labels(), "running");                                        // byop's name, no labels
    server(2, "byop-1123456789abcdef", labels("byop-owner", "other", "byop-token", "1123456789abcdef"), "running"); // another owner
    server(3, "byop-2123456789abcdef", labels("byop-owner", "ci"), "running");                      // owner without token
    server(4, "web", labels("role", "web"), "running");
    try (HetznerCloudProvider p = provider(1, 1, Duration.ofMinutes(10))) {
      assertTrue(p.ownInstances().isEmpty(), "none of them is ours");
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertFalse(Set.of("1", "2", "3", "4").contains(a.host().id()), a.host().toString());
      p.release("pa");
      clock.advance(Duration.ofMinutes(11));
      assertEquals(List.of(a.host().id()), p.reapIdle());
    }
    assertEquals(Set.of(1L, 2L, 3L, 4L), servers.keySet());
    assertTrue(calls.stream().noneMatch(c -> c.matches("DELETE /servers/[1-4]")), calls.toString());
    assertTrue(selectors.stream().allMatch(s -> s.startsWith("byop-owner=ci")), "every listing asks for byop's label: " + selectors);
  }

  @Test
  void theCapIsATypedErrorNamingIt() {
    try (HetznerCloudProvider p = provider(1, 1, Duration.ZERO)) {
      p.acquire("pa", Duration.ofSeconds(5));
      CloudCapException e = assertThrows(CloudCapException.class, () -> p.acquire("pb", Duration.ofMillis(200)));
      assertEquals(1, e.cap());
      assertEquals("hetzner", e.provider());
      assertTrue(e.getMessage().contains("cloud.maxInstances is 1"), e.getMessage());
    }
    assertEquals(1, posts());
  }

  @Test
  void createsWithHetznersFieldsFollowsTheActionAndListsEveryPage() throws IOException {
    for (int i = 0; i < 3; i++) {
      server(100 + i, "byop-ci-ok-" + i, labels("byop-owner", "ci"), "off"); // marked but token-less: listed, never used
    }
    try (HetznerCloudProvider p = provider(2, 6, Duration.ZERO)) {
      CloudProvider.HostLease a = p.acquire("pa", Duration.ofSeconds(5));
      assertEquals("127.0.0.1", a.host().address());
      assertEquals("root", a.host().user());
      assertFalse(a.host().acceptNewHostKey());
      assertFalse(readied.get(0).acceptNewHostKey(), "the first login needs the key pinned from the user data");
      JsonNode body = createBodies.get(0);
      String token = body.path("labels").path("byop-token").asText();
      assertTrue(token.matches("[0-9a-f]{16}"), body.toString());
      assertEquals("byop-" + token, body.path("name").asText());
      assertEquals("cx22", body.path("server_type").asText());
      assertEquals("debian-12", body.path("image").asText());
      assertEquals("fsn1", body.path("location").asText());
      assertEquals("[\"byop-deploy\"]", body.path("ssh_keys").toString());
      assertEquals("ci", body.path("labels").path("byop-owner").asText());
      assertEquals(2, body.path("labels").size());
      assertTrue(body.path("start_after_create").asBoolean());
      CloudUserDataTest.assertPinned(body.path("user_data").asText(), "root", knownHosts, "[127.0.0.1]:" + a.host().port());
      assertTrue(calls.contains("GET /ssh_keys"), "the SSH key was checked first: " + calls);
      assertTrue(calls.stream().anyMatch(c -> c.startsWith("GET /actions/")), "the create action was followed: " + calls);
      assertEquals(a.host().id(), p.acquire("pb", Duration.ofSeconds(5)).host().id());
      long pageTwo = calls.stream().filter(c -> c.equals("GET /servers")).count();
      assertTrue(pageTwo >= 2, "listing follows next_page: " + calls);
      p.release("pa");
      p.release("pb");
      assertTrue(servers.keySet().stream().allMatch(id -> id >= 100 && id < 103), "deleted with its last preview: " + servers.keySet());
    }
    assertEquals("10.0.0.9 " + KEY_LINE + "\n", Files.readString(knownHosts));
  }

  @Test
  void aCreateActionThatFailsDeletesTheServerAndSaysWhy() {
    createFaults.add("action-error");
    try (HetznerCloudProvider p = provider(1, 3, Duration.ZERO)) {
      PreviewException e = assertThrows(PreviewException.class, () -> p.acquire("pa", Duration.ofSeconds(5)));
      assertTrue(e.getMessage().contains("went to ERROR") && e.getMessage().contains("server_create_failed")
          && e.getMessage().contains("no capacity left"), e.getMessage());
    }
    assertTrue(servers.isEmpty(), "the failed server was deleted");
  }

  @Test
  void anUnknownSshKeyIsRefusedBeforeAnythingIsMade() {
    try (HetznerCloudProvider p = provider(TOKEN, settings(1, 3, Duration.ZERO), "typo-key")) {
      PreviewException e = assertThrows(PreviewException.class, () -> p.acquire("pa", Duration.ofSeconds(5)));
      assertTrue(e.getMessage().contains("typo-key") && e.getMessage().contains("cloud.sshKey") && e.getMessage().contains("byop-deploy"),
          e.getMessage());
    }
    assertEquals(0, posts());
  }

  @Test
  void aWrongTokenIsHetznersTypedErrorWithNoTokenInTheMessage() {
    String wrong = "wrong-token-0000000000000000000000000000000000000000000000000000000";
    try (HetznerCloudProvider p = provider(wrong, settings(1, 3, Duration.ZERO), "byop-deploy")) {
      CloudApiException e = assertThrows(CloudApiException.class, () -> p.acquire("pa", Duration.ofSeconds(5)));
      assertEquals(401, e.status());
      assertEquals("unauthorized", e.errorCode());
      assertTrue(e.getMessage().startsWith("Hetzner Cloud API GET /servers failed with HTTP 401"), e.getMessage());
      assertFalse(e.getMessage().contains(wrong), e.getMessage());
    }
    assertTrue(servers.isEmpty());
  }

  @Test
  void noLogLineAndNoMessageCarriesTheToken() throws Exception {
    // slf4j-simple writes to System.err as it is at each line: every line of these calls is captured
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    List<String> messages = new ArrayList<>();
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      String wrong = "wrong-token-1111111111111111111111111111111111111111111111111111111";
      try (HetznerCloudProvider p = provider(wrong, settings(1, 3, Duration.ZERO), "byop-deploy")) {
        messages.add(assertThrows(CloudApiException.class, () -> p.acquire("pa", Duration.ofSeconds(5))).getMessage());
      }
      createFaults.add("500");
      createFaults.add("action-error");
      try (HetznerCloudProvider p = provider(1, 3, Duration.ZERO)) {
        p.acquire("pb", Duration.ofSeconds(5)); // 500 then found by its labels
        messages.add(assertThrows(PreviewException.class, () -> p.acquire("pc", Duration.ofSeconds(5))).getMessage());
      }
      try (ServerSocketHolder dead = new ServerSocketHolder()) {
        CloudHttp http = new CloudHttp("hetzner", HttpClient.newHttpClient(), new CloudRetry(2, Duration.ofMillis(10), Duration.ofMillis(10),
            Duration.ofSeconds(5), Duration.ofSeconds(1)), new Redactor(), waits::add, java.time.Clock.systemUTC(), new SplittableRandom(1));
        HetznerClient c = new HetznerClient(URI.create("http://127.0.0.1:" + dead.port + "/v1"), Secret.of(TOKEN), http);
        messages.add(assertThrows(CloudApiException.class, () -> c.call("GET", "/servers", null)).getMessage());
      }
      messages.add(assertThrows(CloudApiException.class, () -> new HetznerClient(base, Secret.of(wrong)).call("GET", "/ssh_keys", null))
          .getMessage());
      for (String m : messages) {
        assertFalse(m.contains(TOKEN) || m.contains(wrong) || m.contains("wrong-token"), m);
      }
      System.err.flush();
      String log = captured.toString(StandardCharsets.UTF_8);
      assertTrue(log.contains("POST /servers"), "the capture holds this test's lines: " + log);
      assertFalse(log.contains(TOKEN) || log.contains("wrong-token"), log);
    } finally {
      System.setErr(err);
    }
  }

  /** A loopback port nobody listens on. */
  static final class ServerSocketHolder implements AutoCloseable {
    final int port;

    ServerSocketHolder() throws IOException {
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
    }

    @Override
    public void close() {
      // nothing held
    }
  }

  @Test
  void afterARestartOnlyLabelledRunningServersAreAdoptedWithThePinnedKey() {
    String id;
    try (HetznerCloudProvider p = provider(1, 3, Duration.ofMinutes(10))) {
      id = p.acquire("px", Duration.ofSeconds(5)).host().id();
    }
    try (HetznerCloudProvider again = provider(1, 3, Duration.ofMinutes(10))) {
      assertEquals(Set.of("gone"), again.restore(Map.of("px", id, "gone", "999")));
      CloudProvider.HostStatus h = again.hosts().get(0);
      assertEquals(List.of("px"), h.previews());
      assertFalse(h.host().acceptNewHostKey());
      assertNotEquals(id, again.acquire("py", Duration.ofSeconds(5)).host().id());
    }
  }
}
