package dev.byop.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.examples.SampleApp;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example API under attack, on the real bed and started as a host starts it (a real {@link Byop}, then
 * {@link ApiServer} with a token from {@link ApiToken}): requests without or with a wrong token, a foreign
 * {@code Host} (DNS rebinding), form posts (cross-site requests), slow clients holding connections, secrets in a
 * component's env, and one preview too many.
 */
@RequiresTestbed
class ApiServerHostileIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String run = UUID.randomUUID().toString().substring(0, 6);
  private final String appId = "examples-h-" + run;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final List<Socket> sockets = new ArrayList<>();
  @TempDir Path dir;
  private Testbed bed;
  private Byop byop;
  private ApiServer server;
  private String token;

  @BeforeEach
  void start(Testbed bed) throws Exception {
    this.bed = bed;
    Map<String, Object> caddy = new LinkedHashMap<>();
    caddy.put("admin", bed.caddy().adminUri().toString());
    caddy.put("server", bed.caddy().serverName());
    caddy.put("listener", bed.caddy().httpUri().toString());
    caddy.put("publicPort", bed.caddy().httpUri().getPort());
    caddy.put("routeIdPrefix", "examples-h-" + run + "-");
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "caddy");
    preview.put("caddy", caddy);
    preview.put("instance", "examples-h-" + run);
    preview.put("docker", bed.dockerCli().toString());
    preview.put("dockerHost", bed.dockerHost());
    preview.put("readyTimeout", "90s");
    preview.put("imageRepository", "byop-it-examples-h");
    preview.put("sweepInterval", "0s");
    preview.put("maxPerApp", 1);
    // The test host keeps file:// on for its own temporary repositories (the API's own git policy is the host's).
    byop = Byop.builder()
        .config(ByopConfig.of(Map.of("dataDir", dir.resolve("data").toString(), "git", Map.of("allowFile", true),
            "store", Map.of("provider", "jdbc"), "preview", preview)))
        .discover(getClass().getClassLoader())
        .build();
    ApiToken t = ApiToken.loadOrCreate(dir.resolve("data"));
    token = t.value();
    server = ApiServer.builder().apps(byop.store()).gitPolicy(byop.config().gitPolicy())
        .builds(byop.orchestrator()).previews(byop.previews())
        .token(t)
        .address(new InetSocketAddress("127.0.0.1", 0)).heartbeat(Duration.ofSeconds(1)).start();
  }

  @AfterEach
  void stop() {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed by the server
      }
    }
    if (server != null) server.close();
    if (byop != null) byop.close();
    List<String> mine = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stream()
        .filter(i -> i.startsWith("byop/" + appId + "/") || i.startsWith("byop-it-examples-h/" + appId + "/"))
        .toList();
    if (!mine.isEmpty()) {
      List<String> rmi = new ArrayList<>(List.of("rmi", "-f"));
      rmi.addAll(mine);
      docker(rmi.toArray(String[]::new));
    }
  }

  @Test
  void requestsWithoutOrWithAWrongTokenGet401AndChangeNothing() throws Exception {
    for (String auth : new String[] {null, "Bearer wrong-" + token.substring(6), "Bearer " + token + "x",
        "Basic " + token, "Bearer", "bearer  "}) {
      Raw r = raw("GET", "/apps", hostHeader(), auth, null, null);
      assertEquals(401, r.status(), "Authorization " + auth + ": " + r);
      assertTrue(r.header("WWW-Authenticate").startsWith("Bearer"), r.toString());
      assertEquals("unauthorized", JSON.readTree(r.body()).get("code").asText(), r.body());
      assertFalse(r.body().contains(token), "the token is never echoed");
    }
    Raw post = raw("POST", "/apps", hostHeader(), null, "application/json", appJson(appId, Map.of()));
    assertEquals(401, post.status(), post.toString());
    assertEquals(0, call("GET", "/apps", null).body().get("apps").size(), "nothing was created");
    assertEquals(200, raw("GET", "/apps", hostHeader(), "bearer " + token, null, null).status(),
        "the scheme is case-insensitive");
  }

  @Test
  void aForeignHostHeaderIsRefused() throws Exception {
    int port = server.uri().getPort();
    for (String host : new String[] {"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port,
        "localhost:" + (port + 1), ""}) {
      Raw r = raw("GET", "/apps", host, "Bearer " + token, null, null);
      assertEquals(421, r.status(), "Host " + host + ": " + r);
      assertTrue(JSON.readTree(r.body()).get("error").asText().contains("Host"), r.body());
    }
    Raw post = raw("POST", "/apps", "evil.example:" + port, "Bearer " + token, "application/json",
        appJson(appId, Map.of()));
    assertEquals(421, post.status(), post.toString());
    assertEquals(0, call("GET", "/apps", null).body().get("apps").size(), "nothing was created");
    for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port}) {
      assertEquals(200, raw("GET", "/apps", host, "Bearer " + token, null, null).status(), host);
    }
  }

  @Test
  void aFormPostOrABodyWithoutJsonContentTypeIsRefusedBeforeAnythingHappens() throws Exception {
    assertEquals(201, call("POST", "/apps", appJson(appId, Map.of())).status());
    // An HTML form on any web page can send these; an empty form has no body at all.
    Raw build = raw("POST", "/apps/" + appId + "/build", hostHeader(), "Bearer " + token,
        "application/x-www-form-urlencoded", "");
    assertEquals(415, build.status(), build.toString());
    Raw build2 = raw("POST", "/apps/" + appId + "/build", hostHeader(), "Bearer " + token, "text/plain",
        "{\"component\":\"api\"}");
    assertEquals(415, build2.status(), build2.toString());
    Raw preview = raw("POST", "/previews", hostHeader(), "Bearer " + token, "multipart/form-data; boundary=x",
        "--x\r\n\r\n{\"appId\":\"" + appId + "\"}\r\n--x--\r\n");
    assertEquals(415, preview.status(), preview.toString());
    Raw app = raw("POST", "/apps", hostHeader(), "Bearer " + token, null, appJson(appId + "-2", Map.of()));
    assertEquals(415, app.status(), "a body without Content-Type: " + app);
    Raw prefix = raw("POST", "/apps", hostHeader(), "Bearer " + token, "application/jsonx", appJson(appId + "-3",
        Map.of()));
    assertEquals(415, prefix.status(), prefix.toString());
    assertEquals("unsupported_media_type", JSON.readTree(prefix.body()).get("code").asText());

    assertEquals(0, call("GET", "/apps/" + appId + "/builds", null).body().get("builds").size(), "no build");
    assertEquals(404, call("GET", "/apps/" + appId + "/preview", null).status(), "no preview");
    assertEquals(1, call("GET", "/apps", null).body().get("apps").size(), "no other app");
    assertEquals(202, call("POST", "/apps/" + appId + "/build", "{\"component\":\"web\"}").status(),
        "JSON still works");
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void slowClientsCannotHoldEveryWorker() throws Exception {
    int port = server.uri().getPort();
    // 50 clients sending their headers a byte a second, 10 sending a declared body a byte a second.
    List<OutputStream> slow = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Socket s = new Socket("127.0.0.1", port);
      sockets.add(s);
      String head = i < 50 ? "GET /apps HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-Slow: "
          : "POST /apps HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + token
              + "\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{";
      s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      slow.add(s.getOutputStream());
    }
    Thread dripper = new Thread(() -> {
      for (int second = 0; second < 60 && !Thread.currentThread().isInterrupted(); second++) {
        for (OutputStream o : slow) {
          try {
            o.write('a');
            o.flush();
          } catch (IOException closedByServer) {
            // what the fix does
          }
        }
        try {
          Thread.sleep(1000); // the attack's own pace, not a wait for a condition
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "slowloris");
    dripper.setDaemon(true);
    dripper.start();
    try {
      long t0 = System.nanoTime();
      HttpResponse<String> r = http.send(authorized("/apps").timeout(Duration.ofSeconds(40)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      System.out.println("ApiServerHostileIT: an authorised GET /apps among 60 slow clients took " + took.toMillis()
          + " ms (request time limit " + ApiServer.requestTimeLimit().toSeconds() + " s)");
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(took.compareTo(ApiServer.requestTimeLimit().plusSeconds(8)) < 0, "took " + took);
      // A slow body and slow headers are cut off by the server, not left to hold their threads.
      for (int i : new int[] {0, 49, 50, 59}) {
        assertTrue(endedByServer(sockets.get(i), ApiServer.requestTimeLimit().plusSeconds(5)), "slow client " + i);
      }
    } finally {
      dripper.interrupt();
    }
  }

  @Test
  void aServerWithoutFileGitNeitherBuildsNorPreviewsAStoredFileApp() throws Exception {
    // As `serve` runs: the API's git policy is byop's default (no file://), and the store holds an app with a file://
    // source that the main job saved, which the API must not fetch for a token holder.
    SampleApp.Repo repo = SampleApp.ensureRepository(dir.resolve("git"));
    byop.store().saveApp(SampleApp.app(appId, repo, bed.baseImage()));
    ApiServer lenient = server;
    try (ApiServer strict = ApiServer.builder().apps(byop.store()).builds(byop.orchestrator())
        .previews(byop.previews()).token(token).address(new InetSocketAddress("127.0.0.1", 0)).start()) {
      server = strict;
      Reply build = call("POST", "/apps/" + appId + "/build", "{\"component\":\"api\"}");
      assertEquals(400, build.status(), build.raw().body());
      assertTrue(build.body().get("error").asText().contains("file://"), build.raw().body());
      Reply preview = call("POST", "/previews", "{\"appId\":\"" + appId + "\"}");
      assertEquals(400, preview.status(), preview.raw().body());
      Reply create = call("POST", "/apps", ApiServerIT.appJson(SampleApp.app(appId + "-2", repo, bed.baseImage())));
      assertEquals(400, create.status(), create.raw().body());
      assertEquals(0, call("GET", "/apps/" + appId + "/builds", null).body().get("builds").size(), "no build job");
      assertEquals(404, call("GET", "/apps/" + appId + "/preview", null).status(), "no preview");
    } finally {
      server = lenient;
    }
  }

  @Test
  void secretEnvValuesAreNeverShown() throws Exception {
    String canary = "canary-" + UUID.randomUUID();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DB_PASSWORD", canary + "-1");
    env.put("STRIPE_API_KEY", canary + "-2");
    env.put("GITHUB_TOKEN", canary + "-3");
    env.put("DATABASE_URL", "env:DATABASE_URL_" + canary.substring(7, 15).toUpperCase(Locale.ROOT));
    env.put("CERT", "file:/run/secrets/" + canary);
    env.put("GREETING", "hello");
    Reply created = call("POST", "/apps", appJson(appId, env));
    assertEquals(201, created.status(), created.raw().body());
    for (String text : List.of(created.raw().body(), call("GET", "/apps/" + appId, null).raw().body(),
        call("GET", "/apps", null).raw().body())) {
      assertFalse(text.contains(canary) || text.contains(canary.substring(7, 15).toUpperCase(Locale.ROOT)), text);
    }
    JsonNode shown = created.body().at("/components/0/env");
    assertEquals("hello", shown.get("GREETING").asText(), shown.toString());
    assertTrue(shown.get("DB_PASSWORD").get("secret").asBoolean(), shown.toString());
    assertEquals("env", shown.get("DATABASE_URL").get("ref").asText(), shown.toString());
    assertEquals("file", shown.get("CERT").get("ref").asText(), shown.toString());
  }

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void onePreviewTooManyIsA409AndALogStreamOutlivesTheRequestTimeLimit() throws Exception {
    SampleApp.Repo repo = SampleApp.ensureRepository(dir.resolve("git"));
    assertEquals(201, call("POST", "/apps", ApiServerIT.appJson(SampleApp.app(appId, repo, bed.baseImage()))).status());
    Reply first = call("POST", "/previews", "{\"appId\":\"" + appId + "\"}");
    assertEquals(202, first.status(), first.raw().body());
    String previewId = first.body().get("id").asText();
    try {
      Reply second = call("POST", "/previews", "{\"appId\":\"" + appId + "\"}");
      assertEquals(409, second.status(), second.raw().body());
      assertTrue(second.body().get("error").asText().contains("preview.maxPerApp"), second.raw().body());
      assertEquals("conflict", second.body().get("code").asText(), second.raw().body());

      // A build whose log runs longer than the request time limit streams to its end.
      String slow = slowRepo(ApiServer.requestTimeLimit().toSeconds() + 4);
      String slowApp = "{\"id\":\"" + appId + "-s\",\"components\":[{\"name\":\"slow\",\"source\":{\"url\":\"" + slow
          + "\"},\"port\":8080}]}";
      assertEquals(201, call("POST", "/apps", slowApp).status());
      Reply build = call("POST", "/apps/" + appId + "-s/build", "{\"noCache\":true}");
      assertEquals(202, build.status(), build.raw().body());
      long t0 = System.nanoTime();
      List<String> lines = stream("/builds/" + build.body().get("id").asText() + "/logs/stream");
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      assertTrue(took.compareTo(ApiServer.requestTimeLimit()) > 0, "streamed for " + took);
      assertTrue(lines.contains("event: end"), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> l.contains("\"status\":\"SUCCESS\"")), lines.toString());
      assertTrue(lines.stream().anyMatch(l -> l.contains("tick 3")), lines.toString());
    } finally {
      waitFor(() -> !call("GET", "/previews/" + previewId, null).body().get("status").asText()
          .matches("BUILDING|DEPLOYING"), Duration.ofMinutes(5));
      assertEquals(200, call("DELETE", "/previews/" + previewId, null).status());
      removeImages(appId + "-s");
    }
  }

  // ------------------------------------------------------------------------------------------------------- helpers

  record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

  record Raw(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), "");
    }
  }

  private String hostHeader() {
    return "127.0.0.1:" + server.uri().getPort();
  }

  private HttpRequest.Builder authorized(String path) {
    return HttpRequest.newBuilder(server.uri().resolve(path)).header("Authorization", "Bearer " + token);
  }

  private Reply call(String method, String path, @Nullable String body) {
    try {
      HttpRequest.Builder b = authorized(path).timeout(Duration.ofMinutes(2));
      if (body != null) b.header("Content-Type", "application/json");
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body()), r);
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }

  /** One request on a raw socket: the JDK client refuses to send a foreign Host header. */
  private Raw raw(String method, String path, String host, @Nullable String auth, @Nullable String contentType,
      @Nullable String body) throws IOException {
    try (Socket s = new Socket("127.0.0.1", server.uri().getPort())) {
      s.setSoTimeout(20_000);
      StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
      if (!host.isEmpty()) req.append("Host: ").append(host).append("\r\n");
      if (auth != null) req.append("Authorization: ").append(auth).append("\r\n");
      if (contentType != null) req.append("Content-Type: ").append(contentType).append("\r\n");
      byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      if (body != null) req.append("Content-Length: ").append(bytes.length).append("\r\n");
      req.append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.write(bytes);
      out.flush();
      String text = readAll(s.getInputStream());
      int split = text.indexOf("\r\n\r\n");
      String[] head = text.substring(0, split).split("\r\n");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < head.length; i++) {
        int c = head[i].indexOf(':');
        headers.put(head[i].substring(0, c).trim().toLowerCase(Locale.ROOT), head[i].substring(c + 1).trim());
      }
      return new Raw(Integer.parseInt(head[0].split(" ")[1]), headers, text.substring(split + 4));
    }
  }

  /** Whether the server ends the connection (EOF, reset, or an error status and EOF) within the time given. */
  private static boolean endedByServer(Socket s, Duration within) throws IOException {
    s.setSoTimeout((int) within.toMillis());
    InputStream in = s.getInputStream();
    try {
      while (in.read() != -1) {
        // an error status line may come first; the end of the stream is what counts
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException reset) {
      return true;
    }
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try {
      in.transferTo(buf);
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // what arrived is what there is
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  private List<String> stream(String path) throws Exception {
    HttpRequest req = authorized(path).header("Accept", "text/event-stream").build();
    HttpResponse<Stream<String>> r = http.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).get(2, TimeUnit.MINUTES);
    assertEquals(200, r.statusCode());
    return CompletableFuture.supplyAsync(() -> r.body().toList()).get(4, TimeUnit.MINUTES);
  }

  private static String appJson(String id, Map<String, String> env) throws Exception {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("name", "web");
    c.put("source", Map.of("url", "file:///nowhere/repo.git"));
    c.put("port", 8080);
    c.put("env", env);
    return JSON.writeValueAsString(Map.of("id", id, "components", List.of(c)));
  }

  /** A repository whose one Dockerfile logs a line a second for the given number of seconds. */
  private String slowRepo(long seconds) throws Exception {
    Path repo = dir.resolve("slow");
    Files.createDirectories(repo);
    Files.writeString(repo.resolve("Dockerfile"), "FROM " + bed.baseImage() + "\n"
        + "RUN i=0; while [ $i -lt " + seconds + " ]; do i=$((i+1)); echo tick $i; sleep 1; done\n");
    git(repo, "init", "--quiet");
    git(repo, "add", "Dockerfile");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@byop.invalid", "-c", "commit.gpgsign=false", "commit",
        "--quiet", "-m", "slow");
    return repo.toUri().toString().replaceFirst("^file:/+", "file:///");
  }

  private static void git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(1, TimeUnit.MINUTES) && p.exitValue() == 0, cmd + ": " + out);
  }

  interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check check, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out");
      Thread.sleep(200);
    }
  }

  private void removeImages(String app) {
    List<String> mine = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stream()
        .filter(i -> i.startsWith("byop/" + app + "/")).toList();
    if (mine.isEmpty()) return;
    List<String> rmi = new ArrayList<>(List.of("rmi", "-f"));
    rmi.addAll(mine);
    docker(rmi.toArray(String[]::new));
  }

  private List<String> docker(String... args) {
    List<String> cmd = new ArrayList<>(List.of(bed.dockerCli().toString()));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("DOCKER_HOST", bed.dockerHost());
      Process p = pb.start();
      List<String> out;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        out = r.lines().filter(l -> !l.isBlank()).toList();
      }
      p.waitFor(2, TimeUnit.MINUTES);
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(String.join(" ", cmd), e);
    }
  }
}
