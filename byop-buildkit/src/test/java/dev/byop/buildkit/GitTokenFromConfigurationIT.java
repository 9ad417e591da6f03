package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import dev.byop.core.BuildException;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ProviderSelector;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.testing.Testbed;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token from {@code builder.git.token} (scoped to its {@code builder.git.host}) authenticates a fetch over HTTP: a
 * bare repository served with git's dumb HTTP protocol by a server that demands Basic auth, fetched by the real git
 * client through byop's GIT_ASKPASS.
 */
class GitTokenFromConfigurationIT {
  private static final String TOKEN = "tok-canary-7f3a9c";

  @Test
  void configuredTokenFetchesAndAWrongOneFailsWithoutShowingIt(@TempDir Path tmp) throws Exception {
    Path work = Files.createDirectories(tmp.resolve("work"));
    Files.writeString(work.resolve("f.txt"), "over http with a token");
    Cli.ok(work, "git", "init", "-q", "-b", "main");
    Cli.ok(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    Cli.ok(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
    Path bare = tmp.resolve("repo.git");
    Cli.ok(tmp, "git", "clone", "-q", "--bare", work.toString(), bare.toString());
    Cli.ok(bare, "git", "update-server-info");

    String expected = "Basic " + Base64.getEncoder().encodeToString(("ci:" + TOKEN).getBytes(StandardCharsets.UTF_8));
    AtomicInteger unauthorized = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/repo.git/", ex -> {
      try (ex) {
        if (!expected.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
          unauthorized.incrementAndGet();
          ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"byop-test\"");
          ex.sendResponseHeaders(401, -1);
          return;
        }
        Path file = bare.resolve(ex.getRequestURI().getPath().substring("/repo.git/".length())).normalize();
        if (!file.startsWith(bare) || !Files.isRegularFile(file)) {
          ex.sendResponseHeaders(404, -1);
          return;
        }
        byte[] body = Files.readAllBytes(file);
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/repo.git";
      Component web = Component.of("web", GitSource.of(url).withRef("main"), 8080);

      ImageBuilder.SourceCheckout co;
      try (ImageBuilder builder = builder(tmp.resolve("data"), TOKEN, url)) {
        co = builder.fetchSource(new ImageBuilder.FetchRequest("shop", web, null, null), JobContext.of("job-1", l -> { }));
        assertEquals("over http with a token", Files.readString(co.contextDir().resolve("f.txt")));
      }
      try (var files = Files.walk(tmp.resolve("data/buildkit/git-cache"))) {
        List<Path> configs = files.filter(f -> f.endsWith(".git/config")).toList();
        assertEquals(1, configs.size(), configs.toString());
        assertFalse(Files.readString(configs.get(0)).contains(TOKEN), "no token in the cache's .git/config");
      }

      int refusedBefore = unauthorized.get();
      List<String> log = new CopyOnWriteArrayList<>();
      try (ImageBuilder wrong = builder(tmp.resolve("data2"), "not-the-token", url)) {
        BuildException e = assertThrows(BuildException.class, () -> wrong.fetchSource(
            new ImageBuilder.FetchRequest("shop", web, null, null), JobContext.of("job-2", log::add)));
        assertFalse((e.getMessage() + e.logTail() + log).contains("not-the-token"), "the token is shown nowhere");
      }
      assertFalse(unauthorized.get() == refusedBefore, "the server refused the wrong token");
    } finally {
      server.stop(0);
    }
  }

  private static ImageBuilder builder(Path dataDir, String token, String url) throws Exception {
    Path tokenFile = Files.writeString(dataDir.getParent().resolve(dataDir.getFileName() + ".token"), token + "\n");
    ByopConfig config = ByopConfig.of(Map.of(
        "dataDir", dataDir.toString(),
        "git", Map.of("allowHttp", true),
        "builder", Map.of("provider", "buildkit", "endpoint", "docker+" + Testbed.get().dockerHost(),
            "git", Map.of("username", "ci", "token", SecretRef.file(tokenFile), "host", url + "/"))));
    return new ProviderSelector<>("builder", ImageBuilderFactory.class).discover(
        GitTokenFromConfigurationIT.class.getClassLoader()).create(config);
  }
}
