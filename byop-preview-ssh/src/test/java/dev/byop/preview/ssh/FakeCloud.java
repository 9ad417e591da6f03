package dev.byop.preview.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fake cloud API, OVH-shaped ({@code /1.0/cloud/project/{p}/instance}, signed requests checked) and Hetzner-shaped
 * ({@code /v1/servers}, bearer checked), whose creates make a real host: {@code scripts/cloudhost start N} gives it
 * its own network namespace, address in 10.203.60.0/22 and sshd; deletes run {@code scripts/cloudhost stop N}.
 */
final class FakeCloud implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String OVH_AK = "it-app-key";
  static final String OVH_AS = "it-app-secret-4711";
  static final String OVH_CK = "it-consumer-key-0815";
  static final String OVH_PROJECT = "itproject";
  static final String HCLOUD_TOKEN = "it-hcloud-token-abcdefghijklmnopqrstuvwxyz0123456789";

  /**
   * How one create behaves: the host's sshd delay, a bare host, a 500 answer after making it, and whether the
   * host's bootstrap brings up a Docker Engine and Caddy (what byop's user data installs).
   */
  record Create(int sshDelaySeconds, boolean bare, boolean answer500, boolean engine, boolean ownHostKey) {
    Create(int sshDelaySeconds, boolean bare, boolean answer500) {
      this(sshDelaySeconds, bare, answer500, false, false);
    }

    Create(int sshDelaySeconds, boolean bare, boolean answer500, boolean engine) {
      this(sshDelaySeconds, bare, answer500, engine, false);
    }

    /** A host that ignores the key in its user data and presents one of its own. */
    static Create presentingItsOwnKey() {
      return new Create(0, false, false, false, true);
    }

    static Create plain() {
      return new Create(0, false, false, false, false);
    }
  }

  /** What a create does when none was queued. */
  volatile Create defaultCreate = Create.plain();

  /** A host made for an instance. */
  record Host(int n, String address, String hostKey) {}

  private final HttpServer server;
  private final Path script;
  private final Map<String, ObjectNode> instances = new ConcurrentHashMap<>();
  private final Map<String, Host> hosts = new ConcurrentHashMap<>();
  private final Map<String, Integer> polls = new ConcurrentHashMap<>();
  final ConcurrentLinkedDeque<Create> creates = new ConcurrentLinkedDeque<>();
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<String> problems = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong(7000);

  FakeCloud(Path repoRoot) throws IOException {
    this.script = repoRoot.resolve("scripts/cloudhost");
    if (!Files.isExecutable(script)) {
      throw new IllegalStateException(script + " is missing or not executable");
    }
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/1.0/", x -> guard(x, this::ovh));
    server.createContext("/v1/", x -> guard(x, this::hetzner));
    server.start();
  }

  URI ovhBase() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/1.0");
  }

  URI hetznerBase() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
  }

  Map<String, Host> hosts() {
    return Map.copyOf(hosts);
  }

  int instanceCount() {
    return instances.size();
  }

  long count(String prefix) {
    return calls.stream().filter(c -> c.startsWith(prefix)).count();
  }

  interface Handler {
    void handle(HttpExchange x, String method, String path, String body) throws IOException;
  }

  private void guard(HttpExchange x, Handler h) {
    try (x) {
      String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = x.getRequestURI().getPath();
      h.handle(x, x.getRequestMethod(), path.substring(path.indexOf('/', 1)), body);
    } catch (IOException | RuntimeException e) {
      problems.add("fake cloud failed: " + e);
    }
  }

  // ------------------------------------------------------------------ hosts

  private synchronized Host make(Create c, String userData) throws IOException {
    for (int n = 1; n <= 62; n++) {
      if (Files.exists(Path.of("/var/run/netns/byop-cloud" + n))) {
        continue;
      }
      Path ud = Files.createTempFile("byop-cloud-user-data", ".yaml");
      try {
        Files.writeString(ud, userData);
        List<String> cmd = new ArrayList<>(List.of(script.toString(), "start", Integer.toString(n), "--user-data", ud.toString()));
        if (c.sshDelaySeconds() > 0) {
          cmd.addAll(List.of("--ssh-delay", Integer.toString(c.sshDelaySeconds())));
        }
        if (c.bare()) {
          cmd.add("--bare");
        }
        if (c.engine()) {
          cmd.add("--engine");
        }
        if (c.ownHostKey()) {
          cmd.add("--own-host-key");
        }
        String out = run(cmd);
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
          int eq = line.indexOf('=');
          if (eq > 0) {
            kv.put(line.substring(0, eq), line.substring(eq + 1).strip());
          }
        }
        return new Host(n, kv.get("address"), kv.get("hostkey"));
      } finally {
        Files.deleteIfExists(ud);
      }
    }
    throw new IllegalStateException("no free cloud host number in 1..62");
  }

  private void destroy(Host h) {
    run(List.of(script.toString(), "stop", Integer.toString(h.n())));
  }

  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      p.getOutputStream().close();
      java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          return e.toString();
        }
      });
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd + " did not finish");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(cmd + " exited " + p.exitValue() + ": " + err.join());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(cmd + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Becomes ACTIVE/running at the second look, whatever its sshd does. */
  private boolean active(String id) {
    return polls.merge(id, 1, Integer::sum) >= 2;
  }

  // ------------------------------------------------------------------ OVH

  private void ovh(HttpExchange x, String method, String path, String body) throws IOException {
    if (path.equals("/auth/time")) {
      reply(x, 200, JSON.getNodeFactory().numberNode(System.currentTimeMillis() / 1000));
      return;
    }
    String ts = x.getRequestHeaders().getFirst("X-Ovh-Timestamp");
    String url = ovhBase() + path;
    String expected = OvhClient.signature(OVH_AS, OVH_CK, method, url, body, ts == null ? 0 : Long.parseLong(ts));
    if (!OVH_AK.equals(x.getRequestHeaders().getFirst("X-Ovh-Application")) || !OVH_CK.equals(x.getRequestHeaders().getFirst("X-Ovh-Consumer"))
        || !expected.equals(x.getRequestHeaders().getFirst("X-Ovh-Signature"))) {
      problems.add("unsigned or badly signed " + method + " " + path);
      reply(x, 400, ovhError("Invalid signature", "INVALID_SIGNATURE"));
      return;
    }
    calls.add("ovh " + method + " " + path);
    String base = "/cloud/project/" + OVH_PROJECT + "/instance";
    if (path.equals(base) && method.equals("GET")) {
      ArrayNode list = JSON.createArrayNode();
      instances.values().stream().filter(i -> i.has("ipAddresses")).forEach(list::add);
      reply(x, 200, list);
    } else if (path.equals(base) && method.equals("POST")) {
      JsonNode req = JSON.readTree(body);
      Create c = creates.isEmpty() ? defaultCreate : creates.pollFirst();
      Host h = make(c, req.path("userData").asText(""));
      String id = "0000" + ids.incrementAndGet() + "-aaaa-bbbb-cccc-000000000001";
      ObjectNode i = JSON.createObjectNode();
      i.put("id", id);
      i.put("name", req.path("name").asText());
      i.put("flavorId", req.path("flavorId").asText());
      i.put("imageId", req.path("imageId").asText());
      i.put("region", req.path("region").asText());
      i.put("sshKeyId", req.path("sshKeyId").asText());
      i.put("status", "BUILD");
      i.putArray("ipAddresses");
      instances.put(id, i);
      hosts.put(id, h);
      if (c.answer500()) {
        reply(x, 500, ovhError("Internal server error", ""));
        return;
      }
      reply(x, 200, i);
    } else if (path.startsWith(base + "/")) {
      String id = path.substring(base.length() + 1);
      ObjectNode i = instances.get(id);
      if (i == null) {
        reply(x, 404, ovhError("The requested object (instanceId = " + id + ") does not exist", ""));
        return;
      }
      if (method.equals("DELETE")) {
        instances.remove(id);
        destroy(hosts.remove(id));
        reply(x, 200, JSON.nullNode());
        return;
      }
      if (active(id) && i.path("status").asText().equals("BUILD")) {
        i.put("status", "ACTIVE");
        ObjectNode v4 = i.putArray("ipAddresses").addObject();
        v4.put("ip", hosts.get(id).address());
        v4.put("type", "public");
        v4.put("version", 4);
      }
      reply(x, 200, i);
    } else {
      problems.add("unknown OVH endpoint " + method + " " + path);
      reply(x, 404, ovhError("Got an invalid (or empty) URL", ""));
    }
  }

  static ObjectNode ovhError(String message, String code) {
    ObjectNode n = JSON.createObjectNode();
    n.put("message", message);
    if (!code.isEmpty()) {
      n.put("errorCode", code);
    }
    return n;
  }

  // ------------------------------------------------------------------ Hetzner

  private void hetzner(HttpExchange x, String method, String path, String body) throws IOException {
    if (!("Bearer " + HCLOUD_TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
      problems.add("no bearer token on " + method + " " + path);
      reply(x, 401, hcloudError("unauthorized", "unable to authenticate"));
      return;
    }
    calls.add("hetzner " + method + " " + path);
    Map<String, String> q = new LinkedHashMap<>();
    if (x.getRequestURI().getRawQuery() != null) {
      for (String kv : x.getRequestURI().getRawQuery().split("&")) {
        int eq = kv.indexOf('=');
        q.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    if (path.equals("/servers") && method.equals("GET")) {
      ObjectNode r = JSON.createObjectNode();
      ArrayNode list = r.putArray("servers");
      for (ObjectNode s : instances.values()) {
        if (s.has("public_net") && HetznerCloudProviderTest.matches(q.getOrDefault("label_selector", ""), s.path("labels"))) {
          list.add(s);
        }
      }
      r.putObject("meta").putObject("pagination").putNull("next_page");
      reply(x, 200, r);
    } else if (path.equals("/ssh_keys") && method.equals("GET")) {
      ObjectNode r = JSON.createObjectNode();
      ObjectNode k = r.putArray("ssh_keys").addObject();
      k.put("id", 11);
      k.put("name", "byop-testbed");
      r.putObject("meta").putObject("pagination").putNull("next_page");
      reply(x, 200, r);
    } else if (path.equals("/servers") && method.equals("POST")) {
      JsonNode req = JSON.readTree(body);
      Create c = creates.isEmpty() ? defaultCreate : creates.pollFirst();
      Host h = make(c, req.path("user_data").asText(""));
      String id = Long.toString(ids.incrementAndGet());
      ObjectNode s = JSON.createObjectNode();
      s.put("id", Long.parseLong(id));
      s.put("name", req.path("name").asText());
      s.put("status", "initializing");
      s.set("labels", req.path("labels"));
      ObjectNode net = s.putObject("public_net");
      net.putNull("ipv4");
      instances.put(id, s);
      hosts.put(id, h);
      if (c.answer500()) {
        reply(x, 500, hcloudError("server_error", "an internal error occurred"));
        return;
      }
      ObjectNode r = JSON.createObjectNode();
      r.set("server", s);
      ObjectNode a = r.putObject("action");
      a.put("id", ids.incrementAndGet());
      a.put("command", "create_server");
      a.put("status", "running");
      r.putNull("root_password");
      reply(x, 201, r);
    } else if (path.matches("/actions/\\d+") && method.equals("GET")) {
      ObjectNode r = JSON.createObjectNode();
      ObjectNode a = r.putObject("action");
      a.put("id", Long.parseLong(path.substring(9)));
      a.put("status", "success");
      reply(x, 200, r);
    } else if (path.matches("/servers/\\d+")) {
      String id = path.substring(9);
      ObjectNode s = instances.get(id);
      if (s == null) {
        reply(x, 404, hcloudError("not_found", "server not found"));
        return;
      }
      if (method.equals("DELETE")) {
        instances.remove(id);
        destroy(hosts.remove(id));
        ObjectNode r = JSON.createObjectNode();
        r.putObject("action").put("id", ids.incrementAndGet()).put("command", "delete_server").put("status", "running");
        reply(x, 200, r);
        return;
      }
      if (active(id) && s.path("status").asText().equals("initializing")) {
        s.put("status", "running");
        ((ObjectNode) s.path("public_net")).putObject("ipv4").put("ip", hosts.get(id).address());
      }
      ObjectNode r = JSON.createObjectNode();
      r.set("server", s);
      reply(x, 200, r);
    } else {
      problems.add("unknown Hetzner endpoint " + method + " " + path);
      reply(x, 404, hcloudError("not_found", "no such endpoint"));
    }
  }

  static ObjectNode hcloudError(String code, String message) {
    ObjectNode n = JSON.createObjectNode();
    ObjectNode e = n.putObject("error");
    e.put("code", code);
    e.put("message", message);
    return n;
  }

  static void reply(HttpExchange x, int status, JsonNode body) throws IOException {
    byte[] b = JSON.writeValueAsBytes(body);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(status, b.length);
    x.getResponseBody().write(b);
  }

  /** Stops the fake and every host it made that is still up (never another run's). */
  @Override
  public void close() {
    server.stop(0);
    for (Host h : new ArrayList<>(hosts.values())) {
      try {
        destroy(h);
      } catch (RuntimeException e) {
        problems.add("could not stop host " + h + ": " + e.getMessage());
      }
    }
    hosts.clear();
  }
}
