package dev.byop.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.AppStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An unexpected error whose message quotes one of the host's secrets (a store error quoting a password) reaches the
 * server's log masked, through {@code ApiServer.Builder.masking(byop::masked)}, and never reaches the client.
 */
class ApiServerMaskingTest {
  private static final String CANARY = "canary-" + Long.toHexString(System.nanoTime()) + "-pw";

  @TempDir Path dir;

  @Test
  void anUnexpectedErrorQuotingASecretIsLoggedMasked() throws Exception {
    ByopConfig config = ByopConfig.of(Map.of("dataDir", dir.toString(),
        "builder", Map.of("git", Map.of("token", SecretRef.value(CANARY)))));
    AppStore failing = new AppStore() {
      @Override
      public App saveApp(App app) {
        throw new IllegalStateException("unused");
      }

      @Override
      public Optional<App> findApp(String appId) {
        return Optional.empty();
      }

      @Override
      public List<App> listApps() {
        throw new IllegalStateException("connection to db failed, password=" + CANARY,
            new RuntimeException("cause quotes it too: " + CANARY));
      }

      @Override
      public void deleteApp(String appId) {}

      @Override
      public Optional<AppState> appState(String appId) {
        return Optional.empty();
      }
    };
    PrintStream err = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    try (Byop byop = Byop.builder().config(config).discover(getClass().getClassLoader()).build();
         ApiServer server = ApiServer.builder().apps(failing).gitPolicy(byop.config().gitPolicy()).unauthenticated()
             .masking(byop::masked).address(new InetSocketAddress("127.0.0.1", 0)).start()) {
      System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri().resolve("/apps"))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(500, r.statusCode());
      assertFalse(r.body().contains(CANARY), r.body());
    } finally {
      System.setErr(err);
    }
    String log = logged.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("connection to db failed") && log.contains("cause quotes it too"), log);
    assertFalse(log.contains(CANARY), log);
  }
}
