package dev.byop.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.examples.SampleApp;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API end to end over real HTTP: a real {@link Byop} (JDBC store on H2, BuildKit on the test bed's engine, the
 * local preview deployer routing through the bed's Caddy) builds the sample app, streams the build log as
 * Server-Sent Events, cancels a build, and runs and tears down a preview.
 */
@RequiresTestbed
class ApiServerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String appId = "examples-it-" + UUID.randomUUID().toString().substring(0, 6);
  private @Nullable Byop byop;
  private @Nullable ApiServer server;
  private Testbed bed;
  private String token;

  record Event(@Nullable String id, @Nullable String event, String data, Instant received) {}

  private Byop open(Testbed bed, Path dir) {
    Map<String, Object> caddy = new LinkedHashMap<>();
    caddy.put("admin", bed.caddy().adminUri().toString());
    caddy.put("server", bed.caddy().serverName());
    caddy.put("listener", bed.caddy().httpUri().toString());
    caddy.put("publicPort", bed.caddy().httpUri().getPort());
    caddy.put("routeIdPrefix", "examples-");
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "caddy");
    preview.put("caddy", caddy);
    preview.put("instance", "examples-it");
    preview.put("docker", bed.dockerCli().toString());
    preview.put("dockerHost", bed.dockerHost());
    preview.put("readyTimeout", "90s");
    preview.put("imageRepository", "byop-it-examples");
    preview.put("sweepInterval", "0s");
    return Byop.builder()
        .config(ByopConfig.of(Map.of("dataDir", dir.toString(), "git", Map.of("allowFile", true),
            "store", Map.of("provider", "jdbc"), "preview", preview)))
        .discover(getClass().getClassLoader())
        .build();
  }

  @AfterEach
  void cleanUp() {
    if (server != null) server.close();
    if (byop != null) byop.close();
    if (bed != null) {
      // The images this test made: builds and previews share the naming setting (byop-it-examples/<app>/<component>).
      List<String> mine = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stream()
          .filter(i -> i.startsWith("byop/" + appId + "/") || i.startsWith("byop-it-examples/" + appId + "/"))
          .toList();
      if (!mine.isEmpty()) {
        List<String> rmi = new ArrayList<>(List.of("rmi", "-f"));
        rmi.addAll(mine);
        docker(rmi.toArray(String[]::new));
      }
    }
  }

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void buildsStreamsLogsCancelsAndRunsAPreviewOverHttp(Testbed bed, @TempDir Path dir) throws Exception {
    this.bed = bed;
    byop = open(bed, dir);
    token = ApiToken.loadOrCreate(dir).value();
    server = ApiServer.builder().apps(byop.store()).gitPolicy(byop.config().gitPolicy())
        .builds(byop.orchestrator()).previews(byop.previews()).token(token)
        .address(new InetSocketAddress("127.0.0.1", 0)).heartbeat(Duration.ofSeconds(1)).start();

    SampleApp.Repo repo = SampleApp.ensureRepository(dir.resolve("git"));
    JsonNode created = call("POST", "/apps", appJson(SampleApp.app(appId, repo, bed.baseImage()))).body();
    assertEquals(appId, created.get("id").asText(), created.toString());

    // A build: 202 with Location, then its log live as Server-Sent Events until the end event.
    Reply accepted = call("POST", "/apps/" + appId + "/build", "{\"component\":\"api\",\"noCache\":true}");
    assertEquals(202, accepted.status(), accepted.body().toString());
    String jobId = accepted.body().get("id").asText();
    assertEquals("/builds/" + jobId, accepted.raw().headers().firstValue("Location").orElseThrow());
    assertEquals("PENDING", accepted.body().get("status").asText());

    List<Event> events = stream("/builds/" + jobId + "/logs/stream", null);
    Event end = events.get(events.size() - 1);
    assertEquals("end", end.event(), events.toString());
    assertEquals("SUCCESS", JSON.readTree(end.data()).get("status").asText(), end.data());
    List<Event> lines = events.stream().filter(e -> e.id() != null).toList();
    for (int i = 0; i < lines.size(); i++) {
      assertEquals(String.valueOf(i + 1), lines.get(i).id(), "ids are the log's sequence numbers, no gaps");
    }
    assertTrue(lines.stream().anyMatch(e -> e.data().contains("api: warming up 5/5")), events.toString());

    JsonNode job = call("GET", "/builds/" + jobId, null).body();
    assertEquals("SUCCESS", job.get("status").asText());
    // Live, not replayed: the first line reached the client while the build was still running.
    Instant succeeded = Instant.parse(job.at("/statusTimes/SUCCESS").asText());
    assertTrue(lines.get(0).received().isBefore(succeeded), lines.get(0).received() + " vs " + succeeded);
    assertTrue(job.get("image").asText().startsWith("byop-it-examples/" + appId + "/api:"), job.toString());
    assertEquals(repo.commit(), job.get("commit").asText());

    // The same log, read afterwards as JSON, and resumed with Last-Event-ID.
    JsonNode stored = call("GET", "/builds/" + jobId + "/logs?limit=10000", null).body();
    assertEquals(lines.size(), stored.get("lines").size());
    assertEquals(lines.get(2).data(), stored.get("lines").get(2).get("text").asText());
    assertEquals(lines.size(), stored.get("next").asInt());
    List<Event> resumed = stream("/builds/" + jobId + "/logs/stream", String.valueOf(lines.size() - 3));
    assertEquals(List.of(String.valueOf(lines.size() - 2), String.valueOf(lines.size() - 1),
        String.valueOf(lines.size())), resumed.stream().filter(e -> e.id() != null).map(Event::id).toList());
    assertEquals(409, call("POST", "/builds/" + jobId + "/cancel", null).status(), "a finished build");

    // Cancel a running build.
    String second = call("POST", "/apps/" + appId + "/build", "{\"component\":\"api\",\"noCache\":true}")
        .body().get("id").asText();
    waitFor(() -> call("GET", "/builds/" + second, null).body().get("status").asText().equals("BUILDING"),
        Duration.ofMinutes(2), "build " + second + " BUILDING");
    Reply cancelled = call("POST", "/builds/" + second + "/cancel", null);
    assertEquals(200, cancelled.status(), cancelled.body().toString());
    assertEquals("CANCELLED", cancelled.body().get("status").asText());
    assertEquals(2, call("GET", "/apps/" + appId + "/builds", null).body().get("builds").size());
    Event cancelEnd = stream("/builds/" + second + "/logs/stream", null).stream()
        .filter(e -> "end".equals(e.event())).findFirst().orElseThrow();
    assertEquals("CANCELLED", JSON.readTree(cancelEnd.data()).get("status").asText());

    // A preview: pending at once, RUNNING later, reachable through Caddy, web reaching api; then torn down.
    Reply pending = call("POST", "/previews", "{\"appId\":\"" + appId + "\"}");
    assertEquals(202, pending.status(), pending.body().toString());
    assertEquals("BUILDING", pending.body().get("status").asText());
    String previewId = pending.body().get("id").asText();
    assertEquals("/previews/" + previewId, pending.raw().headers().firstValue("Location").orElseThrow());
    waitFor(() -> !call("GET", "/previews/" + previewId, null).body().get("status").asText().matches("BUILDING|DEPLOYING"),
        Duration.ofMinutes(5), "preview " + previewId + " done");
    JsonNode running = call("GET", "/previews/" + previewId, null).body();
    assertEquals("RUNNING", running.get("status").asText(), running.toString());
    assertEquals(previewId, call("GET", "/apps/" + appId + "/preview", null).body().get("id").asText());
    String host = running.get("hostname").asText();
    assertTrue(viaCaddy(bed, host, "/").contains("Hello from the byop sample app"));
    assertTrue(viaCaddy(bed, host, "/cgi-bin/api").contains("hello from the byop sample api"));
    JsonNode previewLog = call("GET", "/previews/" + previewId + "/logs", null).body();
    assertFalse(previewLog.get("lines").isEmpty());
    List<Event> previewEvents = stream("/previews/" + previewId + "/logs/stream", null);
    assertEquals(previewLog.get("lines").size(), previewEvents.stream().filter(e -> e.id() != null).count());
    assertEquals("RUNNING", JSON.readTree(previewEvents.get(previewEvents.size() - 1).data()).get("status").asText());

    Reply deleted = call("DELETE", "/previews/" + previewId, null);
    assertEquals(200, deleted.status(), deleted.body().toString());
    assertEquals("STOPPED", deleted.body().get("status").asText());
    assertEquals(List.of(), docker("ps", "-aq", "--filter", "label=dev.byop.preview=" + previewId));
    assertFalse(routes(bed).contains(previewId), "route removed from Caddy");
  }

  // ------------------------------------------------------------------------------------------------------- helpers

  record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

  private Reply call(String method, String path, @Nullable String body) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofMinutes(2))
          .header("Authorization", "Bearer " + token);
      if (body != null) b.header("Content-Type", "application/json");
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body()), r);
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }

  /** Reads a whole event stream (until the server ends it after the end event). */
  private List<Event> stream(String path, @Nullable String lastEventId) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).header("Accept", "text/event-stream")
        .header("Authorization", "Bearer " + token);
    if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
    CompletableFuture<HttpResponse<Stream<String>>> f = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofLines());
    HttpResponse<Stream<String>> r = f.get(2, TimeUnit.MINUTES);
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    return CompletableFuture.supplyAsync(() -> {
      List<Event> out = new ArrayList<>();
      String id = null;
      String event = null;
      StringBuilder data = null;
      for (String line : (Iterable<String>) r.body()::iterator) {
        if (line.isEmpty()) {
          if (data != null) out.add(new Event(id, event, data.toString(), Instant.now()));
          id = null;
          event = null;
          data = null;
        } else if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = data == null ? new StringBuilder(line.substring(6)) : data.append('\n').append(line.substring(6));
        }
      }
      return out;
    }).get(4, TimeUnit.MINUTES);
  }

  static String appJson(App app) throws Exception {
    ObjectNode root = JSON.createObjectNode().put("id", app.id()).put("name", app.name());
    var components = root.putArray("components");
    for (Component c : app.components()) {
      ObjectNode n = components.addObject().put("name", c.name()).put("contextDir", c.contextDir())
          .put("dockerfile", c.dockerfile()).put("port", c.port()).put("healthPath", c.healthPath());
      n.putObject("source").put("url", c.source().url()).put("commit", c.source().commit());
      n.set("buildArgs", JSON.valueToTree(c.buildArgs()));
      n.set("env", JSON.valueToTree(c.env()));
    }
    return JSON.writeValueAsString(root);
  }

  interface Check {
    boolean ok() throws Exception;
  }

  private static void waitFor(Check check, Duration timeout, String what) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(200);
    }
  }

  private static String viaCaddy(Testbed bed, String host, String path) throws Exception {
    URI base = bed.caddy().httpUri();
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      return r.lines().collect(Collectors.joining("\n"));
    }
  }

  private String routes(Testbed bed) throws Exception {
    return http.send(HttpRequest.newBuilder(bed.caddy().routesUri()).build(), HttpResponse.BodyHandlers.ofString()).body();
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
