package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.byop.core.Credentials;
import dev.byop.core.RegistryException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import dev.byop.testing.RequiresTestbed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bearer-token flow against a real registry: a second distribution 2.8 instance of this test's own, on its own
 * loopback port, configured with {@code auth: token}; the token endpoint is a small JDK HTTP server in this test that
 * checks the credentials and signs JWTs (RS256, {@code x5c}) with a key whose certificate is the registry's root
 * bundle. The instance is stopped by its own process handle afterwards.
 */
@RequiresTestbed
class TokenAuthIT {
  private static final String USER = "tok-user";
  private static final String PASSWORD = "tok-pw-" + Long.toString(System.nanoTime(), 36);
  private static final String REFRESH = "refresh-" + Long.toString(System.nanoTime(), 36);
  private static final String SERVICE = "byop-it-registry";
  private static final String ISSUER = "byop-it-issuer";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  private static Process registryProcess;
  private static HttpServer tokenServer;
  private static String registry;
  private static PrivateKey key;
  private static X509Certificate cert;
  private static final Map<String, AtomicInteger> tokensByScope = new ConcurrentHashMap<>();
  private static final List<String> tokenRequests = Collections.synchronizedList(new ArrayList<>());

  @BeforeAll
  static void start() throws Exception {
    Path ks = dir.resolve("token.p12");
    Process kt = new ProcessBuilder(List.of("keytool", "-genkeypair", "-alias", "token", "-keyalg", "RSA",
        "-keysize", "2048", "-dname", "CN=byop-it-token", "-validity", "2", "-keystore", ks.toString(),
        "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit"))
        .redirectErrorStream(true).redirectOutput(dir.resolve("keytool.log").toFile()).start();
    assertTrue(kt.waitFor(60, TimeUnit.SECONDS) && kt.exitValue() == 0, "keytool failed");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(ks)) {
      store.load(in, "changeit".toCharArray());
    }
    key = (PrivateKey) store.getKey("token", "changeit".toCharArray());
    cert = (X509Certificate) store.getCertificate("token");
    Path bundle = dir.resolve("bundle.pem");
    Files.writeString(bundle, "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
        + "\n-----END CERTIFICATE-----\n");

    tokenServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    tokenServer.createContext("/token", TokenAuthIT::token);
    tokenServer.start();
    int port = freePort();
    registry = "127.0.0.1:" + port;
    Path config = dir.resolve("registry.yml");
    Files.writeString(config, String.join("\n",
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        "    rootdirectory: " + dir.resolve("data"),
        "  delete:",
        "    enabled: true",
        "http:",
        "  addr: " + registry,
        "auth:",
        "  token:",
        "    realm: http://127.0.0.1:" + tokenServer.getAddress().getPort() + "/token",
        "    service: " + SERVICE,
        "    issuer: " + ISSUER,
        "    rootcertbundle: " + bundle,
        ""));
    registryProcess = new ProcessBuilder(List.of("docker-registry", "serve", config.toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
    Instant deadline = Instant.now().plusSeconds(20);
    while (true) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        break;
      } catch (IOException notYet) {
        if (!registryProcess.isAlive() || Instant.now().isAfter(deadline)) {
          throw new IllegalStateException("token registry did not start: " + Files.readString(dir.resolve("registry.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (registryProcess != null) {
      registryProcess.destroy();
      if (!registryProcess.waitFor(10, TimeUnit.SECONDS)) registryProcess.destroyForcibly();
    }
    if (tokenServer != null) tokenServer.stop(0);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** GET with basic credentials, or POST with a refresh token; grants every scope asked for. */
  private static void token(HttpExchange ex) throws IOException {
    try (ex) {
      List<String> scopes = new ArrayList<>();
      boolean authorized;
      String query = ex.getRequestURI().getRawQuery();
      String form = ex.getRequestMethod().equals("POST")
          ? new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8) : "";
      Map<String, List<String>> params = new java.util.HashMap<>();
      for (String src : List.of(query == null ? "" : query, form)) {
        for (String pair : src.split("&")) {
          if (pair.isEmpty()) continue;
          int eq = pair.indexOf('=');
          String k = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
          String v = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
          params.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
      }
      for (String s : params.getOrDefault("scope", List.of())) scopes.addAll(List.of(s.split(" ")));
      if (ex.getRequestMethod().equals("POST")) {
        authorized = List.of("refresh_token").equals(params.get("grant_type"))
            && List.of(REFRESH).equals(params.get("refresh_token"));
      } else {
        String expected = "Basic " + Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        authorized = expected.equals(ex.getRequestHeaders().getFirst("Authorization"));
      }
      tokenRequests.add(ex.getRequestMethod() + " " + scopes);
      if (!authorized || !List.of(SERVICE).equals(params.get("service"))) {
        byte[] b = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}".getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(401, b.length);
        ex.getResponseBody().write(b);
        return;
      }
      for (String s : scopes) tokensByScope.computeIfAbsent(s, k -> new AtomicInteger()).incrementAndGet();
      ObjectNode body = JSON.createObjectNode();
      body.put("token", jwt(scopes));
      body.put("expires_in", 300);
      byte[] b = JSON.writeValueAsBytes(body);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  private static String jwt(List<String> scopes) throws Exception {
    Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
    ObjectNode header = JSON.createObjectNode();
    header.put("typ", "JWT");
    header.put("alg", "RS256");
    header.putArray("x5c").add(Base64.getEncoder().encodeToString(cert.getEncoded()));
    ObjectNode claims = JSON.createObjectNode();
    long now = Instant.now().getEpochSecond();
    claims.put("iss", ISSUER);
    claims.put("sub", USER);
    claims.put("aud", SERVICE);
    claims.put("iat", now - 5);
    claims.put("nbf", now - 5);
    claims.put("exp", now + 300);
    claims.put("jti", Long.toString(System.nanoTime(), 36));
    ArrayNode access = claims.putArray("access");
    for (String s : scopes) {
      int first = s.indexOf(':');
      int last = s.lastIndexOf(':');
      ObjectNode a = access.addObject();
      a.put("type", s.substring(0, first));
      a.put("name", s.substring(first + 1, last));
      ArrayNode actions = a.putArray("actions");
      for (String act : s.substring(last + 1).split(",")) actions.add(act);
    }
    String signingInput = url.encodeToString(JSON.writeValueAsBytes(header)) + "."
        + url.encodeToString(JSON.writeValueAsBytes(claims));
    Signature sig = Signature.getInstance("SHA256withRSA");
    sig.initSign(key);
    sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
    return signingInput + "." + url.encodeToString(sig.sign());
  }

  private static DistributionClient client(Credentials c) {
    return DistributionClient.builder(registry).credentials(c)
        .retry(new RetryPolicy(3, Duration.ofMillis(100), Duration.ofMillis(400), Duration.ofSeconds(5))).build();
  }

  @Test
  void pushPullMountListAndDeleteWithBearerTokens() {
    DistributionClient c = client(Credentials.basic(USER, PASSWORD));
    assertEquals("registry/2.0", c.checkApiVersion());
    byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    Descriptor cfg = c.uploadBlob("registry/tok-a", MediaTypes.OCI_CONFIG, config);
    Descriptor layer = c.uploadBlob("registry/tok-a", MediaTypes.OCI_LAYER, new byte[] {1, 2, 3});
    Manifest m = Manifest.image(MediaTypes.OCI_MANIFEST, cfg, List.of(layer));
    assertEquals(m.digest(), c.putManifest("registry/tok-a", "v1", m));
    assertEquals(m.digest(), c.getManifest("registry/tok-a", "v1").digest());

    // the mount's challenge names pull on the source repository as well: a new token with both scopes
    assertTrue(c.mountBlob("registry/tok-b", layer.digest(), "registry/tok-a"));
    assertTrue(c.blobExists("registry/tok-b", layer.digest()));
    // the actions come in the order the registry's challenge names them (pull,push or push,pull)
    assertTrue(tokenRequests.stream().anyMatch(r -> r.contains("repository:registry/tok-a:pull")
        && (r.contains("repository:registry/tok-b:pull,push") || r.contains("repository:registry/tok-b:push,pull"))),
        tokenRequests.toString());

    assertEquals(List.of("v1"), c.listTags("registry/tok-a"));
    c.deleteManifest("registry/tok-a", m.digest());
    assertTrue(c.headManifest("registry/tok-a", m.digest()).isEmpty());
  }

  @Test
  void tokensAreCachedPerScope() {
    DistributionClient c = client(Credentials.basic(USER, PASSWORD));
    c.uploadBlob("registry/tok-cache", MediaTypes.OCI_LAYER, new byte[] {9});
    int pullBefore = count("repository:registry/tok-cache:pull");
    int pushBefore = count("repository:registry/tok-cache:pull,push");
    for (int i = 0; i < 5; i++) {
      c.headBlob("registry/tok-cache", Digests.sha256(new byte[] {9}));
      c.uploadBlob("registry/tok-cache", MediaTypes.OCI_LAYER, new byte[] {(byte) i});
    }
    assertTrue(count("repository:registry/tok-cache:pull") - pullBefore <= 1, tokenRequests.toString());
    assertEquals(pushBefore, count("repository:registry/tok-cache:pull,push"), tokenRequests.toString());
  }

  private static int count(String scope) {
    AtomicInteger n = tokensByScope.get(scope);
    return n == null ? 0 : n.get();
  }

  @Test
  void identityTokenUsesTheRefreshTokenGrant() {
    DistributionClient c = client(Credentials.identityToken(REFRESH));
    c.uploadBlob("registry/tok-refresh", MediaTypes.OCI_LAYER, new byte[] {7});
    assertTrue(tokenRequests.stream().anyMatch(r -> r.startsWith("POST ")), tokenRequests.toString());
  }

  @Test
  void wrongPasswordAtTheTokenEndpointIsA401WithoutThePassword() {
    String canary = "canary-" + Long.toString(System.nanoTime(), 36);
    DistributionClient c = client(Credentials.basic(USER, canary));
    RegistryException e = assertThrows(RegistryException.class, () -> c.headManifest("registry/tok-a", "v1"));
    assertEquals(401, e.status());
    assertEquals(registry, e.registry());
    assertTrue(e.getMessage().contains(registry) && e.getMessage().contains("401"), e.getMessage());
    StringWriter all = new StringWriter();
    e.printStackTrace(new PrintWriter(all));
    assertFalse(all.toString().contains(canary), all.toString());
  }

  @Test
  void anonymousAccessIsRefusedWithTheRegistryCodes() {
    DistributionClient c = DistributionClient.builder(registry).retry(RetryPolicy.none()).build();
    RegistryException e = assertThrows(RegistryException.class, () -> c.getManifest("registry/tok-a", "v1"));
    assertEquals(401, e.status());
    assertTrue(e.errorCodes().contains("UNAUTHORIZED"), e.errorCodes().toString());
  }
}
