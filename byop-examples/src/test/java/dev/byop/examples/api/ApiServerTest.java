package dev.byop.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives the API over real HTTP against a real {@link Byop} with the JDBC store (H2 in a temporary directory). */
class ApiServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Byop byop;
  private ApiServer server;
  private ApiToken token;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    byop = Byop.builder()
        .config(ByopConfig.of(Map.of("dataDir", dir.toString(), "git", Map.of("allowFile", true))))
        .discover(getClass().getClassLoader())
        .build();
    token = ApiToken.loadOrCreate(dir);
    server = ApiServer.builder().apps(byop.store()).gitPolicy(byop.config().gitPolicy()).token(token)
        .address(new InetSocketAddress("127.0.0.1", 0)).maxBodyBytes(4096).start();
  }

  @AfterEach
  void stop() {
    server.close();
    byop.close();
  }

  record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

  private Reply call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + token.value());
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body()), r);
  }

  private static String app(String id) {
    return """
        {"id":"%s","name":"Shop","components":[
          {"name":"web","source":{"url":"file:///srv/git/shop.git","ref":"main"},"contextDir":"web","port":8080,
           "env":{"QUOTE":"a \\"b\\" $c\\nd"},"healthPath":"/"},
          {"name":"api","source":{"url":"https://git.example/shop.git",
           "credentials":{"username":"ci","token":{"file":"git-token"}}},"port":8081}]}
        """.formatted(id);
  }

  @Test
  void createListAndGetApps() throws Exception {
    Reply created = call("POST", "/apps", app("shop"));
    assertEquals(201, created.status(), created.body().toString());
    assertEquals("/apps/shop", created.raw().headers().firstValue("Location").orElseThrow());
    assertEquals("shop", created.body().get("id").asText());
    assertEquals("a \"b\" $c\nd", created.body().at("/components/0/env/QUOTE").asText());
    // the app's own git credentials come back as the reference they are
    assertEquals("ci", created.body().at("/components/1/source/credentials/username").asText());
    assertEquals("git-token", created.body().at("/components/1/source/credentials/token/file").asText());
    // a token in a git URL is refused and never comes back out; a token may not point at the server's env or files
    String withToken = app("tok").replace("https://git.example/shop.git", "https://tok:s3cr%40t@git.example/shop.git");
    Reply refused = call("POST", "/apps", withToken);
    assertEquals(400, refused.status());
    assertEquals("git.url", refused.body().get("field").asText());
    assertFalse(refused.raw().body().contains("s3cr"), refused.raw().body());
    for (String token : new String[] {"{\"env\":\"REGISTRY_PASSWORD\"}", "{\"file\":\"/etc/shadow\"}",
        "{\"file\":\"../other/git-token\"}"}) {
      Reply ref = call("POST", "/apps", app("ref").replace("{\"file\":\"git-token\"}", token));
      assertEquals(400, ref.status(), token);
      assertEquals("source.credentials.token", ref.body().get("field").asText());
    }

    assertEquals(201, call("POST", "/apps", app("blog")).status());
    Reply list = call("GET", "/apps", null);
    assertEquals(200, list.status());
    assertEquals(2, list.body().get("apps").size());

    Reply one = call("GET", "/apps/shop", null);
    assertEquals(200, one.status());
    assertEquals("web", one.body().at("/components/0/name").asText());
    assertEquals("web", one.body().at("/components/0/contextDir").asText());
    assertTrue(one.body().get("currentImage").isNull());

    Reply again = call("POST", "/apps", app("shop"));
    assertEquals(409, again.status());
    assertEquals("id", again.body().get("field").asText());
  }

  @Test
  void badInputGetsA400NamingTheField() throws Exception {
    Reply badId = call("POST", "/apps", app("Not_A_Label"));
    assertEquals(400, badId.status());
    assertEquals("app.id", badId.body().get("field").asText());
    assertTrue(badId.body().get("error").asText().contains("Not_A_Label"), badId.body().toString());

    Reply injected = call("POST", "/apps",
        "{\"id\":\"x\",\"components\":[{\"name\":\"web\",\"source\":{\"url\":\"--upload-pack=touch /tmp/pwned\"}}]}");
    assertEquals(400, injected.status());
    assertEquals("git.url", injected.body().get("field").asText());

    Reply unknown = call("POST", "/apps", "{\"id\":\"x\",\"colour\":\"red\"}");
    assertEquals(400, unknown.status());
    assertEquals("colour", unknown.body().get("field").asText());

    Reply wrongType = call("POST", "/apps", "{\"id\":\"x\",\"components\":[{\"name\":\"web\",\"port\":\"eighty\"}]}");
    assertEquals(400, wrongType.status());
    assertEquals("components[0].port", wrongType.body().get("field").asText());

    Reply port = call("POST", "/apps",
        "{\"id\":\"x\",\"components\":[{\"name\":\"web\",\"source\":{\"url\":\"https://h/r.git\"},\"port\":70000}]}");
    assertEquals(400, port.status());
    assertEquals("component.port", port.body().get("field").asText());

    Reply broken = call("POST", "/apps", "{\"id\":");
    assertEquals(400, broken.status());
    assertTrue(broken.body().get("error").asText().startsWith("invalid JSON"), broken.body().toString());
    assertNull(broken.body().get("field").textValue());

    Reply noComponents = call("POST", "/apps", "{\"id\":\"x\",\"components\":[]}");
    assertEquals(400, noComponents.status());
    assertEquals("app.components", noComponents.body().get("field").asText());
  }

  @Test
  void fileUrlsFollowTheHostsGitPolicy() throws Exception {
    server.close();
    server = ApiServer.builder().apps(byop.store()).token(token).address(new InetSocketAddress("127.0.0.1", 0)).start();
    Reply r = call("POST", "/apps", app("shop"));
    assertEquals(400, r.status());
    assertTrue(r.body().get("error").asText().contains("file://"), r.body().toString());
  }

  @Test
  void limitsUnknownPathsAndMethods() throws Exception {
    Reply big = call("POST", "/apps", "{\"id\":\"x\",\"name\":\"" + "a".repeat(5000) + "\"}");
    assertEquals(413, big.status());

    Reply missing = call("GET", "/apps/nope", null);
    assertEquals(404, missing.status());
    assertEquals("app 'nope' not found", missing.body().get("error").asText());

    assertEquals(404, call("GET", "/nothing/here", null).status());
    Reply method = call("DELETE", "/apps", null);
    assertEquals(405, method.status());
    assertEquals("GET, POST", method.raw().headers().firstValue("Allow").orElseThrow());

    Reply type = http(HttpRequest.newBuilder(server.uri().resolve("/apps")).header("Content-Type", "text/plain")
        .header("Authorization", "Bearer " + token.value())
        .POST(HttpRequest.BodyPublishers.ofString(app("x"))).build());
    assertEquals(415, type.status());
  }

  @Test
  void buildAndPreviewEndpointsSay503WithoutAnOrchestratorOrPreviewManager() throws Exception {
    assertEquals(201, call("POST", "/apps", app("shop")).status());
    Reply build = call("POST", "/apps/shop/build", null);
    assertEquals(503, build.status());
    assertFalse(build.raw().body().contains("Exception"), build.raw().body());
    assertEquals(503, call("POST", "/previews", "{\"appId\":\"shop\"}").status());
  }

  @Test
  void noServerWithoutATokenUnlessTheHostSaysSo() throws Exception {
    var b = ApiServer.builder().apps(byop.store()).address(new InetSocketAddress("127.0.0.1", 0));
    IllegalStateException e = assertThrows(IllegalStateException.class, b::start);
    assertTrue(e.getMessage().contains("token"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.token("too-short"));
    try (ApiServer open = b.unauthenticated().start()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(open.uri().resolve("/apps")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), "the host's explicit choice");
    }
    Reply none = http(HttpRequest.newBuilder(server.uri().resolve("/apps")).build());
    assertEquals(401, none.status());
    assertEquals("unauthorized", none.body().get("code").asText());
  }

  @Test
  void envValuesThatAreSecretsAreShownAsSecrets() {
    assertEquals("a \"b\"", JsonViews.envValue("QUOTE", "a \"b\""));
    assertEquals("http://api:8081", JsonViews.envValue("API_URL", "http://api:8081"));
    assertEquals("8081", JsonViews.envValue("API_PORT", "8081"));
    assertEquals(Map.of("secret", true), JsonViews.envValue("DB_PASSWORD", "hunter2"));
    assertEquals(Map.of("secret", true), JsonViews.envValue("api_key", "k"));
    assertEquals(Map.of("secret", true), JsonViews.envValue("AWS_SECRET_ACCESS_KEY", "k"));
    assertEquals(Map.of("secret", true), JsonViews.envValue("GITHUB_TOKEN", "k"));
    assertEquals(Map.of("secret", true, "ref", "env"), JsonViews.envValue("DATABASE_URL", "env:DATABASE_URL"));
    assertEquals(Map.of("secret", true, "ref", "file"), JsonViews.envValue("CERT", "file:/run/secrets/cert"));
    assertEquals("KEYBOARD", JsonViews.envValue("LAYOUT", "KEYBOARD"));
    assertEquals("us", JsonViews.envValue("KEYBOARD_LAYOUT", "us"));
  }

  private Reply http(HttpRequest req) throws Exception {
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), JSON.readTree(r.body()), r);
  }
}
