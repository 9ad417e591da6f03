package dev.byop.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.ImageReference;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * What the main job needs from the machine, found out rather than assumed: a Docker Engine, a base image for the
 * sample (pulled, or made from the host's busybox-static when it cannot be pulled), and a router for the preview URL
 * (Traefik where its image can be had, else a running Caddy, else published ports). Every program runs as an argument
 * list.
 */
final class HostEnvironment {
  /** The image the example makes from busybox-static when the sample's base cannot be pulled. */
  static final String IMPORTED_BASE = "byop-example/busybox:1";
  static final String DEFAULT_BASE = "busybox:1.36";
  static final String DEFAULT_TRAEFIK = "traefik:v2.11";

  private final List<String> docker;
  private final boolean pull;
  private final Progress progress;

  /**
   * @param docker the docker CLI command
   * @param pull whether pulling from a registry may be tried at all (off: the example never leaves the machine)
   */
  HostEnvironment(List<String> docker, boolean pull, Progress progress) {
    this.docker = List.copyOf(docker);
    this.pull = pull;
    this.progress = progress;
  }

  /** The docker CLI to use: {@code BYOP_DOCKER_CLI}, else {@code docker}. */
  static List<String> dockerCli() {
    String cli = System.getenv("BYOP_DOCKER_CLI");
    return List.of(cli == null || cli.isBlank() ? "docker" : cli);
  }

  private List<String> docker(String... args) {
    List<String> cmd = new ArrayList<>(docker);
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The engine's version, or a message saying what is missing and how to get it. */
  String requireDocker() {
    Commands.Result r = Commands.run(docker("version", "--format", "{{.Server.Version}}"), null, Duration.ofSeconds(30));
    if (r.exitCode() == 127) {
      throw new MissingException("the Docker CLI ('" + docker.get(0) + "') is not installed. Install Docker Engine "
          + "(apt-get install -y docker.io docker-compose) or run scripts/example, which does it for you.");
    }
    if (!r.ok() || r.output().isBlank()) {
      throw new MissingException("Docker Engine does not answer (" + firstLine(r.output()) + "). Start it "
          + "(e.g. scripts/testbed start, or systemctl start docker) and run the example again.");
    }
    return firstLine(r.output());
  }

  boolean hasImage(String ref) {
    return Commands.run(docker("image", "inspect", "--format", "{{.Id}}", ref), null, Duration.ofSeconds(30)).ok();
  }

  /**
   * Tries to pull an image. Before asking the engine, the registry's name is resolved here, so an offline machine
   * answers at once instead of after the engine's own timeouts.
   */
  @Nullable String tryPull(String ref, Duration timeout) {
    if (!pull) return "pulling is switched off (--pull never)";
    String registry = ImageReference.parse(ref).registry();
    String host = registry.equals("docker.io") ? "registry-1.docker.io" : registry.replaceFirst(":\\d+$", "");
    try {
      InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      return "the registry " + host + " cannot be resolved (offline?)";
    }
    progress.activity("pulling " + ref);
    Commands.Result r = Commands.run(docker("pull", "--quiet", ref), null, timeout);
    progress.activity(null);
    return r.ok() ? null : firstLine(r.output());
  }

  /** Picks the sample's base image, making one from busybox-static when nothing else can be had. */
  String baseImage(Path dataDir) {
    if (hasImage(DEFAULT_BASE)) {
      progress.info("base image: " + DEFAULT_BASE + " (already in the engine, reused)");
      return DEFAULT_BASE;
    }
    if (hasImage(IMPORTED_BASE)) {
      progress.info("base image: " + IMPORTED_BASE + " (made from busybox-static by an earlier run, reused)");
      return IMPORTED_BASE;
    }
    String why = tryPull(DEFAULT_BASE, Duration.ofMinutes(3));
    if (why == null) {
      progress.info("base image: " + DEFAULT_BASE + " (pulled)");
      return DEFAULT_BASE;
    }
    progress.info("base image: " + DEFAULT_BASE + " cannot be pulled: " + why);
    importBusybox(dataDir);
    progress.info("base image: " + IMPORTED_BASE + " made from the host's busybox-static (docker import), "
        + "as the test bed does");
    return IMPORTED_BASE;
  }

  /** Builds a root file system of busybox and its applet links, and imports it as {@link #IMPORTED_BASE}. */
  private void importBusybox(Path dataDir) {
    Path busybox = Path.of("/bin/busybox");
    Commands.Result pkg = Commands.run(List.of("dpkg-query", "-W", "-f=${Status}", "busybox-static"), null,
        Duration.ofSeconds(30));
    // The dynamic busybox would not run in an empty image; only busybox-static is self-contained.
    if (!pkg.ok() || !pkg.output().contains("install ok installed") || !Files.isExecutable(busybox)) {
      throw new MissingException("the sample's base image cannot be pulled and busybox-static is not installed to "
          + "make one. Install it (apt-get install -y busybox-static) or make " + DEFAULT_BASE + " available.");
    }
    Path work = dataDir.resolve("base-image");
    try {
      deleteTree(work);
      Path bin = Files.createDirectories(work.resolve("root/bin"));
      Files.createDirectories(work.resolve("root/tmp"));
      Files.copy(busybox, bin.resolve("busybox"));
      Commands.Result list = Commands.run(List.of(busybox.toString(), "--list"), null, Duration.ofSeconds(30));
      if (!list.ok()) throw new MissingException("/bin/busybox --list failed: " + firstLine(list.output()));
      for (String applet : list.output().split("\n")) {
        applet = applet.strip();
        if (applet.isEmpty() || applet.equals("busybox") || applet.contains("/")) continue;
        Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
      }
      Path tar = work.resolve("rootfs.tar");
      Commands.Result t = Commands.run(List.of("tar", "-C", work.resolve("root").toString(), "-cf", tar.toString(), "."),
          null, Duration.ofMinutes(2));
      if (!t.ok()) throw new MissingException("tar failed: " + firstLine(t.output()));
      Commands.Result imp = Commands.run(docker("import", tar.toString(), IMPORTED_BASE), null, Duration.ofMinutes(2));
      if (!imp.ok()) throw new MissingException("docker import failed: " + firstLine(imp.output()));
    } catch (IOException e) {
      throw new MissingException("cannot prepare the base image under " + work + ": " + e.getMessage());
    } finally {
      try {
        deleteTree(work);
      } catch (IOException ignored) {
        // a leftover work directory is harmless; the next run replaces it
      }
    }
  }

  /** Whether containers of a preview are up (byop labels every container with its preview id). */
  boolean previewContainersRunning(String previewId) {
    Commands.Result r = Commands.run(docker("ps", "-q", "--filter", "label=dev.byop.preview=" + previewId), null,
        Duration.ofSeconds(30));
    return r.ok() && !r.output().isBlank();
  }

  /** The router settings chosen for this machine, and why. */
  record Router(String kind, Map<String, Object> settings, String why) {}

  /**
   * Traefik where its image is in the engine or can be pulled; else a Caddy whose admin API answers (at
   * {@code BYOP_CADDY_ADMIN}, default {@code http://127.0.0.1:2019}); else published ports on 127.0.0.1.
   */
  Router router(String wanted) {
    return router(wanted, System.getenv().getOrDefault("BYOP_CADDY_ADMIN", "http://127.0.0.1:2019"));
  }

  Router router(String wanted, String caddyAdmin) {
    List<String> notes = new ArrayList<>();
    if (wanted.equals("auto") || wanted.equals("traefik")) {
      if (hasImage(DEFAULT_TRAEFIK)) {
        return new Router("traefik", Map.of("router", "traefik", "traefik", Map.of("image", DEFAULT_TRAEFIK)),
            DEFAULT_TRAEFIK + " is in the engine");
      }
      String why = tryPull(DEFAULT_TRAEFIK, Duration.ofMinutes(3));
      if (why == null) {
        return new Router("traefik", Map.of("router", "traefik", "traefik", Map.of("image", DEFAULT_TRAEFIK)),
            DEFAULT_TRAEFIK + " was pulled");
      }
      notes.add("Traefik: " + why);
      if (wanted.equals("traefik")) throw new MissingException("--router traefik, but " + why);
    }
    if (wanted.equals("auto") || wanted.equals("caddy")) {
      Router caddy = caddy(caddyAdmin, notes);
      if (caddy != null) return caddy;
      if (wanted.equals("caddy")) throw new MissingException("--router caddy, but " + String.join("; ", notes));
    }
    return new Router("plain", Map.of("router", "plain"),
        (notes.isEmpty() ? "" : String.join("; ", notes) + "; ") + "so the preview publishes its port on 127.0.0.1");
  }

  private @Nullable Router caddy(String admin, List<String> notes) {
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(admin + "/config/apps/http/servers"))
          .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        notes.add("Caddy: admin API at " + admin + " answered " + r.statusCode());
        return null;
      }
      JsonNode servers = new ObjectMapper().readTree(r.body());
      if (servers == null || !servers.isObject() || servers.isEmpty()) {
        notes.add("Caddy: admin API at " + admin + " has no HTTP server to add routes to");
        return null;
      }
      String name = servers.has("byop") ? "byop" : servers.fieldNames().next();
      JsonNode listen = servers.get(name).path("listen");
      String addr = listen.isArray() && listen.size() > 0 ? listen.get(0).asText() : ":80";
      int port = Integer.parseInt(addr.substring(addr.lastIndexOf(':') + 1));
      String host = addr.substring(0, addr.lastIndexOf(':'));
      if (host.isEmpty() || host.equals("0.0.0.0")) host = "127.0.0.1";
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("admin", admin);
      c.put("server", name);
      c.put("listener", "http://" + host + ":" + port);
      c.put("publicPort", port);
      return new Router("caddy", Map.of("router", "caddy", "caddy", c),
          "Caddy's admin API answers at " + admin + " (server '" + name + "' on " + host + ":" + port + ")");
    } catch (IOException | RuntimeException e) {
      notes.add("Caddy: no admin API at " + admin + " (" + e.getClass().getSimpleName() + ")");
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      notes.add("Caddy: interrupted");
      return null;
    }
  }

  static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  /** Something the main job needs is missing; the message says what and how to get it. */
  static final class MissingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MissingException(String message) {
      super(message);
    }
  }
}
