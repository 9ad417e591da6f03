package dev.byop.preview.local;

import dev.byop.core.App;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.core.PreviewHostnames;
import dev.byop.preview.compose.TraefikRouter;
import dev.byop.core.spi.LogSink;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The two-component test app (web + api, both busybox httpd from the bed's base image) and helpers to build it and
 * to read the engine's state. Web's {@code /cgi-bin/api} fetches {@code http://api:8081/} by service name.
 */
public final class TestApps {
  public static final String WEB_DOCKERFILE = """
      FROM %s
      COPY www /www
      RUN chmod 755 /www/cgi-bin/api
      CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
      """;
  public static final String API_DOCKERFILE = """
      FROM %s
      COPY www /www
      VOLUME /data
      CMD ["httpd", "-f", "-p", "8081", "-h", "/www"]
      """;
  public static final String CGI = """
      #!/bin/sh
      echo "Content-Type: text/plain"
      echo ""
      wget -qO- http://api:8081/
      """;

  private TestApps() {}

  /** Writes the web sources under {@code dir}. */
  public static void writeWeb(Path dir, String base, String marker) throws IOException {
    Files.createDirectories(dir.resolve("www/cgi-bin"));
    Files.writeString(dir.resolve("Dockerfile"), WEB_DOCKERFILE.formatted(base));
    Files.writeString(dir.resolve("www/index.html"), "web " + marker + "\n");
    Path cgi = dir.resolve("www/cgi-bin/api");
    Files.writeString(cgi, CGI);
    Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** Writes the api sources under {@code dir}. */
  public static void writeApi(Path dir, String base, String marker) throws IOException {
    Files.createDirectories(dir.resolve("www"));
    Files.writeString(dir.resolve("Dockerfile"), API_DOCKERFILE.formatted(base));
    Files.writeString(dir.resolve("www/index.html"), "api-ok " + marker + "\n");
    Files.writeString(dir.resolve("www/health"), "ok\n");
  }

  /** Builds {@code dir} as {@code image} with the bed's 20.10 CLI (argument list, BuildKit). */
  public static void dockerBuild(Testbed bed, Path dir, String image) {
    dockerBuild(bed.docker20(), dir, image);
  }

  /** Builds {@code dir} as {@code image} on an engine of the matrix with its own CLI. */
  public static void dockerBuild(Testbed.Engine engine, Path dir, String image) {
    LocalHost r = runner(engine);
    var res = r.run(List.of(engine.cli().toString(), "build", "-q", "-t", image, dir.toString()), LogSink.discard(),
        Duration.ofMinutes(3));
    if (!res.ok()) throw new AssertionError("docker build " + image + " failed:\n" + res.tail(20));
  }

  /** The local host with the bed's 20.10 engine, for commands of the tests themselves. */
  public static LocalHost runner(Testbed bed) {
    return runner(bed.docker20());
  }

  /**
   * The {@code preview} section a host would write for local previews behind the bed's Caddy (instance and route
   * prefix of the test's own), as a mutable map the test adds to.
   */
  public static Map<String, Object> caddyPreview(Testbed bed, String instance) {
    return caddyPreview(bed, bed.docker20(), instance);
  }

  /** The same on an engine of the matrix: its CLI, socket, CLI config and the address its ports are published on. */
  public static Map<String, Object> caddyPreview(Testbed bed, Testbed.Engine engine, String instance) {
    Map<String, Object> preview = new java.util.LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "caddy");
    preview.put("instance", instance);
    preview.put("docker", engine.cli().toString());
    preview.put("dockerHost", engine.dockerHost());
    if (engine.cliConfig() != null) preview.put("dockerConfig", engine.cliConfig().toString());
    preview.put("publishAddress", engine.address());
    preview.put("readyTimeout", "60s");
    preview.put("imageRepository", "byop-it-preview");
    preview.put("sweepInterval", "0s");
    preview.put("caddy", Map.of("admin", bed.caddy().adminUri().toString(), "server", bed.caddy().serverName(),
        "listener", bed.caddy().httpUri().toString(), "publicPort", Integer.toString(bed.caddy().httpUri().getPort()),
        "routeIdPrefix", routePrefix(instance)));
    return preview;
  }

  /** The local host with an engine of the matrix (its socket and CLI), for commands of the tests themselves. */
  public static LocalHost runner(Testbed.Engine engine) {
    Map<String, String> env = new java.util.HashMap<>(engine.environment());
    env.put("DOCKER_BUILDKIT", "1");
    return new LocalHost(List.of(engine.cli().toString()), Path.of(System.getProperty("java.io.tmpdir")), env);
  }

  /** Runs a docker command and returns its non-blank output lines. */
  public static List<String> docker(Testbed bed, String... args) {
    return docker(bed.docker20(), args);
  }

  /** Runs a docker command on an engine of the matrix and returns its non-blank output lines. */
  public static List<String> docker(Testbed.Engine engine, String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(engine.cli().toString());
    argv.addAll(List.of(args));
    var res = runner(engine).run(argv, LogSink.discard(), Duration.ofMinutes(1));
    if (!res.ok()) throw new AssertionError(String.join(" ", argv) + " failed:\n" + res.tail(20));
    return res.output().stream().filter(s -> !s.isBlank()).toList();
  }

  public static App app(String appId, Map<String, String> apiEnv) {
    GitSource src = GitSource.of("https://example.invalid/unused.git");
    Component web = Component.of("web", src, 8080).withHealthPath("/index.html");
    Component api = Component.of("api", src, 8081).withHealthPath("/health").withEnv(apiEnv);
    return new App(appId, appId, List.of(web, api));
  }

  public static String newId() {
    return "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  public static Preview preview(String id, String appId, Map<String, String> images) {
    Instant now = Instant.now();
    return new Preview(id, appId, PreviewStatus.DEPLOYING, "local", null,
        PreviewHostnames.hostname(appId, id, "byop.local"), null, null, null, images, now, now, null, 1, null);
  }

  public static Preview withUrl(Preview p, String url) {
    return new Preview(p.id(), p.appId(), p.status(), p.deployer(), p.commit(), p.hostname(), p.host(), p.address(),
        url, p.images(), p.createdAt(), p.updatedAt(), p.expiresAt(), p.attempt(), p.error());
  }

  /** Local deployer options for the bed: its CLI and engine, compose v1 detection, a router and a unique instance. */
  public static LocalPreviewOptions options(Testbed bed, String router, String instance, Path workDir, Duration ready) {
    return options(bed, bed.docker20(), router, instance, workDir, ready);
  }

  /**
   * The same on an engine of the matrix: its CLI, socket and CLI config (where Compose v2 is found), compose detected,
   * and Caddy dialling the address where that engine publishes ports.
   */
  public static LocalPreviewOptions options(Testbed bed, Testbed.Engine engine, String router, String instance,
      Path workDir, Duration ready) {
    Testbed.Caddy c = bed.caddy();
    List<String> docker = List.of(engine.cli().toString());
    return new LocalPreviewOptions("byop.local", router, ready, Duration.ofMinutes(3), Duration.ofSeconds(5), instance,
        docker, null, engine.dockerHost(), engine.cliConfig(), engine.address(), workDir,
        new CaddyRouter.Settings(c.adminUri(), c.serverName(), c.httpUri(), c.httpUri().getPort(), engine.address(),
            routePrefix(instance)),
        new TraefikRouter.Settings("byop-it-preview/no-such-traefik:1", "byop-pl-traefik", "byop-pl-traefik", "web",
            "127.0.0.1", 18080, instance, null));
  }

  /**
   * Caddy route ids of one test run: the bed's Caddy is shared (also with other runs of these tests), and a sweep
   * removes every route with its prefix that it does not know.
   */
  public static String routePrefix(String instance) {
    return "byop-" + instance + "-";
  }

  /** The deployer of local previews for these options (the one the factory makes). */
  public static ComposeDeployer deployer(LocalPreviewOptions options) {
    return LocalPreviewDeployerFactory.deployer(options, null);
  }

  public static Map<String, ImageReference> images(String web, String api) {
    return Map.of("web", ImageReference.parse(web), "api", ImageReference.parse(api));
  }
}
