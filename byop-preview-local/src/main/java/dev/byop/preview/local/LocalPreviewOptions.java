package dev.byop.preview.local;

import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.core.PreviewHostnames;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.preview.compose.PlainRouter;
import dev.byop.preview.compose.PreviewRouter;
import dev.byop.preview.compose.TraefikRouter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Options of local previews, from the {@code preview} configuration section (what users configure; the deployer is
 * the {@link ComposeDeployer} on {@link LocalHost} through {@link LocalPlacement}):
 *
 * <pre>{@code
 * preview:
 *   provider: local
 *   domain: byop.local          # previews are <app>-<token>.byop.local
 *   router: caddy               # traefik (default), caddy or plain
 *   readyTimeout: 2m            # until the URL answers through the router
 *   commandTimeout: 5m          # one compose or docker command
 *   stopTimeout: 5s             # components get this long to stop on tear-down and when a redeploy replaces them
 *   instance: default           # label value separating byop installations on one engine
 *   docker: /usr/bin/docker     # the docker CLI
 *   compose: [docker-compose]   # default: docker compose (v2) when present, else docker-compose (v1)
 *   dockerHost: unix:///var/run/docker.sock
 *   dockerConfig: /etc/byop/docker   # DOCKER_CONFIG for every command, e.g. where the CLI finds its plugins
 *   publishAddress: 127.0.0.1  # where the engine publishes ports as this machine reaches them (plain router,
 *                              # and Caddy's default upstreamHost): an engine in a network namespace of its own
 *                              # publishes on that namespace's address
 *   caddy: { admin: http://127.0.0.1:2019, server: byop, listener: http://127.0.0.1:8088, publicPort: 8088,
 *            routeIdPrefix: byop- }
 *   traefik: { image: traefik:v2.11, network: byop-traefik, port: 80 }
 * }</pre>
 *
 * <p>Images a build pushed to the top-level {@code registry} and that the engine lacks are pulled with that
 * section's credentials ({@link LocalPlacement}).
 *
 * @param domain the preview domain
 * @param router {@code traefik}, {@code caddy} or {@code plain}
 * @param readyTimeout how long a deployment may take to answer
 * @param commandTimeout how long one compose or docker command may take
 * @param stopTimeout how long components get to stop on tear-down and when a redeploy replaces them
 * @param instance the instance label value
 * @param docker the docker CLI command
 * @param compose the compose command, or null to detect
 * @param dockerHost DOCKER_HOST for every command, or null to inherit
 * @param dockerConfig DOCKER_CONFIG for every command (the CLI's config and plugin dirs), or null to inherit
 * @param publishAddress the IPv4 address the engine publishes ports on, as this machine reaches it
 * @param workDir where compose files are written
 * @param caddy Caddy settings (used when router is caddy)
 * @param traefik Traefik settings (used when router is traefik)
 */
public record LocalPreviewOptions(String domain, String router, Duration readyTimeout, Duration commandTimeout,
    Duration stopTimeout, String instance, List<String> docker, @Nullable List<String> compose,
    @Nullable String dockerHost, @Nullable Path dockerConfig, String publishAddress, Path workDir,
    CaddyRouter.Settings caddy,
    TraefikRouter.Settings traefik) {

  /** The keys this deployer reads in the {@code preview} section (others belong to the preview manager). */
  public static final List<String> KEYS = List.of("provider", "domain", "router", "readyTimeout", "commandTimeout",
      "stopTimeout", "instance", "docker", "compose", "dockerHost", "dockerConfig", "publishAddress", "workDir", "caddy",
      "traefik");

  public LocalPreviewOptions {
    PreviewHostnames.checkDomain(domain);
    if (!List.of("traefik", "caddy", "plain").contains(router)) {
      throw new ValidationException("preview.router", Checks.printable(router), "must be traefik, caddy or plain");
    }
    Checks.notBlank("preview.instance", instance);
    docker = List.copyOf(docker);
    if (docker.isEmpty()) throw new ValidationException("preview.docker", "[]", "needs a command");
    if (compose != null) compose = List.copyOf(compose);
    checkPublishAddress(publishAddress);
  }

  private static String checkPublishAddress(@Nullable String address) {
    if (address == null || !address.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      throw new ValidationException("preview.publishAddress", Checks.printable(String.valueOf(address)),
          "must be an IPv4 address such as 127.0.0.1");
    }
    return address;
  }

  /** Reads the options from the {@code preview} section; {@code dataDir} is the default parent of the work dir. */
  public static LocalPreviewOptions from(Settings s, Path dataDir) {
    String instance = s.string("instance", "default");
    List<String> docker = s.has("docker") ? s.strings("docker") : List.of("docker");
    String publish = checkPublishAddress(s.string("publishAddress", LocalHost.ADDRESS));
    Settings c = s.section("caddy");
    c.allowOnly("admin", "server", "listener", "publicPort", "upstreamHost", "routeIdPrefix");
    CaddyRouter.Settings caddy = new CaddyRouter.Settings(
        CaddyRouter.httpUrl("preview.caddy.admin", c.string("admin", "http://127.0.0.1:2019")),
        c.string("server", "byop"), CaddyRouter.httpUrl("preview.caddy.listener", c.string("listener", "http://127.0.0.1:80")),
        c.integer("publicPort", 0), c.string("upstreamHost", publish), c.string("routeIdPrefix", "byop-"));
    TraefikRouter.Settings traefik = TraefikRouter.Settings.from(s.section("traefik"), instance);
    return new LocalPreviewOptions(s.string("domain", PreviewHostnames.DEFAULT_DOMAIN), s.string("router", "traefik"),
        s.duration("readyTimeout", Duration.ofMinutes(2)), s.duration("commandTimeout", Duration.ofMinutes(5)),
        s.duration("stopTimeout", Duration.ofSeconds(5)), instance, docker,
        s.has("compose") ? s.strings("compose") : null, s.string("dockerHost").orElse(null),
        s.string("dockerConfig").map(Path::of).orElse(null), publish,
        Path.of(s.string("workDir", dataDir.resolve("previews").toString())), caddy, traefik);
  }

  /** The environment every command gets. */
  Map<String, String> environment() {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    if (dockerHost != null) env.put("DOCKER_HOST", dockerHost);
    if (dockerConfig != null) env.put("DOCKER_CONFIG", dockerConfig.toString());
    return Map.copyOf(env);
  }

  /** This machine as these options describe it: the docker CLI, its environment and the work directory. */
  public LocalHost host() {
    return new LocalHost(docker, workDir, environment());
  }

  /** The configured router. */
  public PreviewRouter previewRouter() {
    return switch (router) {
      case "caddy" -> new CaddyRouter(caddy);
      case "plain" -> new PlainRouter(publishAddress);
      default -> new TraefikRouter(traefik);
    };
  }

  /** What the compose deployer needs of these options. */
  public ComposeDeployer.Options deployerOptions() {
    return new ComposeDeployer.Options(instance, readyTimeout, commandTimeout, stopTimeout, compose, null);
  }
}
