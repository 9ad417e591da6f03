package dev.byop.preview.local;

import dev.byop.core.App;
import dev.byop.core.CancelledException;
import dev.byop.core.Component;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.Checks;
import dev.byop.core.ByopLabels;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.CommandRunner;
import dev.byop.preview.compose.ComposeFile;
import dev.byop.preview.compose.ComposeNetwork;
import dev.byop.preview.compose.ComposeService;
import dev.byop.preview.compose.HealthCheck;
import dev.byop.preview.compose.HttpProbe;
import dev.byop.preview.compose.PlainRouter;
import dev.byop.preview.compose.PreviewRouter;
import dev.byop.preview.compose.RestartPolicy;
import dev.byop.preview.compose.Route;
import dev.byop.preview.compose.RouteEndpoint;
import dev.byop.preview.compose.TraefikRouter;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.preview.local.internal.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs previews on the local Docker Engine with Docker Compose: one project {@code byop-<previewId>} per preview,
 * one service per component on a per-preview network, every resource labelled as byop's, the entry component routed
 * by the configured {@link PreviewRouter}. {@link #deploy} returns once the URL answers through the router.
 *
 * <p>Compose runs as an argument list: {@code docker compose} (v2) when the CLI has it, else {@code docker-compose}
 * (v1); its output goes line by line into the preview's log.
 */
public final class LocalPreviewDeployer implements PreviewDeployer {
  private static final Logger LOG = LoggerFactory.getLogger(LocalPreviewDeployer.class);
  /** The host recorded on local previews, as the seed does. */
  public static final String HOST = "byop.local";
  public static final String ADDRESS = "127.0.0.1";
  private static final String NETWORK = "preview";
  private static final Duration POLL = Duration.ofMillis(250);

  private final LocalPreviewOptions options;
  private final ProcessRunner runner;
  private final PreviewRouter router;
  private volatile @Nullable List<String> compose;

  public LocalPreviewDeployer(LocalPreviewOptions options) {
    this.options = options;
    this.runner = new ProcessRunner(options.environment(), null, Cancellation.none());
    this.router = switch (options.router()) {
      case "caddy" -> new CaddyRouter(options.caddy());
      case "plain" -> new PlainRouter(ADDRESS);
      default -> new TraefikRouter(options.traefik(), runner);
    };
    this.compose = options.compose();
  }

  /** The router in use. */
  public PreviewRouter router() {
    return router;
  }

  /** The compose project name of a preview. */
  public static String projectName(String previewId) {
    return "byop-" + previewId.toLowerCase(java.util.Locale.ROOT);
  }

  /** The compose command: configured, else {@code docker compose} when the CLI has it, else {@code docker-compose}. */
  public List<String> composeCommand() {
    List<String> c = compose;
    if (c != null) return c;
    List<String> v2 = new ArrayList<>(options.docker());
    v2.add("compose");
    List<String> probe = new ArrayList<>(v2);
    probe.add("version");
    CommandRunner.Result r;
    try {
      r = runner.run(probe, LogSink.discard(), Duration.ofSeconds(30));
    } catch (PreviewException e) {
      r = new CommandRunner.Result(127, List.of());
    }
    c = r.ok() ? v2 : List.of("docker-compose");
    LOG.debug("compose command: {}", c);
    compose = c;
    return c;
  }

  /** The compose file byop runs for a deployment, before the router adds its part. */
  public ComposeFile composeFile(DeployRequest request) {
    Preview p = request.preview();
    App app = request.app();
    ComposeFile f = ComposeFile.of(projectName(p.id()))
        .withNetwork(NETWORK, ComposeNetwork.owned(ByopLabels.forPreview(options.instance(), app.id(), p.id())));
    for (Component c : app.components()) {
      ImageReference image = request.images().get(c.name());
      if (image == null) throw new PreviewException("no image for component " + c.name() + " of preview " + p.id());
      ComposeService s = ComposeService.of(image.familiar())
          .withEnvironment(c.env())
          .withRestart(RestartPolicy.UNLESS_STOPPED)
          .withLabels(ByopLabels.forComponent(options.instance(), app.id(), p.id(), c.name()))
          .withNetworks(List.of(NETWORK));
      if (c.healthPath() != null && c.port() > 0) s = s.withHealthcheck(HealthCheck.httpGet(c.port(), c.healthPath()));
      f = f.withService(c.name(), s);
    }
    return f;
  }

  private Route route(DeployRequest request) {
    Component entry = request.app().entryComponent().orElseThrow(() -> new PreviewException(
        "app " + request.app().id() + " has no component with a port to route the preview URL to"));
    String hostname = request.preview().hostname();
    if (hostname == null) throw new PreviewException("preview " + request.preview().id() + " has no host name");
    return new Route(request.preview().id(), hostname, entry.name(), entry.port());
  }

  @Override
  public Deployment deploy(DeployRequest request, JobContext context) {
    Preview p = request.preview();
    LogSink log = context.log();
    ProcessRunner run = runner.with(context.cancellation());
    Route route = route(request);
    ComposeFile file = router.prepare(composeFile(request), route);
    checkImageLabels(request, run);
    Path dir = options.workDir().resolve(file.projectName());
    Path composeFile = dir.resolve("docker-compose.yml");
    // the compose file holds env values: 0600 in 0700 directories (the work dir too, it lists every preview)
    ComposeFile.privateDirectory(options.workDir());
    ComposeFile.privateDirectory(dir);
    file.write(composeFile);
    router.ensureReady(log);
    Set<String> before = images(p.id(), run);
    Set<String> volumesBefore = volumes(p.id(), run);
    log.line("compose up " + file.projectName() + " (" + String.join(", ", file.services().keySet()) + ")");
    CommandRunner.Result up = run.run(compose(file.projectName(), composeFile, "up", "-d", "--remove-orphans"), log,
        options.commandTimeout());
    if (!up.ok()) {
      throw fail(p, "compose up failed with exit code " + up.exitCode() + ": " + up.tail(10), log, run);
    }
    Integer published = null;
    if (router.needsPublishedPort()) {
      CommandRunner.Result port = run.run(compose(file.projectName(), composeFile, "port", route.service(),
          Integer.toString(route.containerPort())), LogSink.discard(), options.commandTimeout());
      published = parsePort(port);
      if (published == null) {
        throw fail(p, "cannot read the published port of " + route.service() + ": " + port.tail(5), log, run);
      }
    }
    RouteEndpoint endpoint = router.activate(route, published, log);
    waitUntilAnswering(p, request.app(), endpoint, log, run, context.cancellation());
    log.line("preview " + p.id() + " answers at " + endpoint.url());
    // a redeploy: what the replaced containers ran is no longer needed unless another preview runs it
    before.removeAll(images(p.id(), run));
    for (String image : before) removeImageIfUnused(image, log, run);
    // compose v1 removes a replaced container without its anonymous volumes; the engine refuses while one is in use
    volumesBefore.removeAll(volumes(p.id(), run));
    for (String v : volumesBefore) {
      if (run.run(docker("volume", "rm", v), LogSink.discard(), options.commandTimeout()).ok()) {
        log.line("removed volume " + v + " of a replaced container");
      }
    }
    return new Deployment(HOST, ADDRESS, endpoint.url());
  }

  /** Refuses images carrying router or byop labels, before anything runs (a container inherits its image's labels). */
  private void checkImageLabels(DeployRequest request, ProcessRunner run) {
    for (Map.Entry<String, ImageReference> e : request.images().entrySet()) {
      String image = e.getValue().familiar();
      CommandRunner.Result r = run.run(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image),
          LogSink.discard(), options.commandTimeout());
      if (!r.ok()) {
        throw new PreviewException("image " + image + " of component '" + e.getKey() + "' is not in the local engine: "
            + r.tail(3));
      }
      ByopLabels.checkImageLabelsJson(image, request.app().id(), e.getKey(), String.join("\n", r.output()));
    }
  }

  private static @Nullable Integer parsePort(CommandRunner.Result r) {
    if (!r.ok()) return null;
    for (String line : r.output()) {
      int colon = line.trim().lastIndexOf(':');
      if (colon > 0) {
        try {
          int port = Integer.parseInt(line.trim().substring(colon + 1));
          if (port > 0) return port;
        } catch (NumberFormatException e) {
          // not the port line (compose v1 may print warnings first)
        }
      }
    }
    return null;
  }

  private void waitUntilAnswering(Preview p, App app, RouteEndpoint endpoint, LogSink log, ProcessRunner run,
      Cancellation cancellation) {
    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
    String last = "no container state read yet";
    while (true) {
      if (cancellation.isCancelled()) throw new CancelledException(cancellation.reason());
      List<ContainerState> states = states(p.id(), run);
      for (ContainerState s : states) {
        if (s.failed()) {
          throw fail(p, "component " + s.component() + " " + s.describe(), log, run);
        }
      }
      boolean allUp = states.size() >= app.components().size() && states.stream().allMatch(ContainerState::ready);
      String probe = "";
      if (allUp) {
        HttpProbe.Response r = endpoint.probe(Duration.ofSeconds(2));
        if (endpoint.answered(r)) return;
        probe = "; URL does not answer yet (" + (r.error() != null ? r.error() : "HTTP " + r.status()) + ")";
      }
      last = states.isEmpty() ? "no containers" : states.stream().map(s -> s.component() + " " + s.describe())
          .reduce((a, b) -> a + ", " + b).orElse("") + probe;
      if (System.nanoTime() > deadline) {
        throw fail(p, "did not answer at " + endpoint.url() + " within " + options.readyTimeout() + " (" + last + ")",
            log, run);
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancelledException("interrupted while waiting for preview " + p.id());
      }
    }
  }

  /** Writes the components' logs into the preview log and returns the failure, with the logs in its message. */
  private PreviewException fail(Preview p, String why, LogSink log, ProcessRunner run) {
    log.line("preview " + p.id() + " failed: " + why);
    List<String> logs = componentLogs(p.id(), 50, run);
    logs.forEach(log::line);
    String tail = String.join("\n", logs.subList(Math.max(0, logs.size() - 40), logs.size()));
    return new PreviewException("preview " + p.id() + " " + why + (tail.isEmpty() ? "" : "\ncomponent logs:\n" + tail));
  }

  /** One container's state as {@code docker inspect} reports it. */
  record ContainerState(String id, String component, String status, int restarts, String health, int exitCode) {
    boolean failed() {
      return status.equals("exited") || status.equals("dead") || restarts > 0 || health.equals("unhealthy");
    }

    boolean ready() {
      return status.equals("running") && (health.isEmpty() || health.equals("healthy"));
    }

    String describe() {
      return switch (status) {
        case "exited", "dead" -> "exited with code " + exitCode;
        default -> restarts > 0 ? "restarted " + restarts + " times (exit code " + exitCode + ")"
            : health.isEmpty() ? status : status + " (" + health + ")";
      };
    }
  }

  private List<String> containerIds(String filter, ProcessRunner run) {
    List<String> argv = docker("ps", "-aq", "--no-trunc", "--filter", "label=" + ByopLabels.MANAGED + "=true",
        "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(), "--filter", filter);
    CommandRunner.Result r = run.run(argv, LogSink.discard(), options.commandTimeout());
    if (!r.ok()) throw new PreviewException("docker ps failed: " + r.tail(5));
    return r.output().stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  List<ContainerState> states(String previewId, ProcessRunner run) {
    List<String> ids = containerIds("label=" + ByopLabels.PREVIEW + "=" + previewId, run);
    if (ids.isEmpty()) return List.of();
    // the CLI renders the state as a map: a container without a healthcheck has no Health key and ".State.Health"
    // fails the whole template (a component without a health path was never seen running); "index" does not fail
    List<String> argv = docker("container", "inspect", "--format",
        "{{.Id}}|{{index .Config.Labels \"" + ByopLabels.COMPONENT + "\"}}|{{.State.Status}}|{{.RestartCount}}|"
            + "{{with index .State \"Health\"}}{{.Status}}{{end}}|{{.State.ExitCode}}");
    argv.addAll(ids);
    CommandRunner.Result r = run.run(argv, LogSink.discard(), options.commandTimeout());
    List<ContainerState> out = new ArrayList<>();
    for (String line : r.output()) {
      String[] f = line.split("\\|", -1);
      if (f.length != 6) continue;
      out.add(new ContainerState(f[0], f[1], f[2], parseInt(f[3]), f[4], parseInt(f[5])));
    }
    return out;
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** At most this many bytes of component logs are read into one answer (lines are cut by the runner). */
  static final int MAX_LOG_BYTES = 256 * 1024;

  private List<String> componentLogs(String previewId, int tail, ProcessRunner run) {
    List<String> out = new ArrayList<>();
    int lines = Math.max(1, Math.min(tail, BoundedReads.MAX_LINES / 2));
    long bytes = 0;
    try {
      for (ContainerState s : states(previewId, run)) {
        CommandRunner.Result r = run.run(docker("logs", "--tail", Integer.toString(lines), s.id()), LogSink.discard(),
            options.commandTimeout());
        for (String line : r.output()) {
          bytes += line.length();
          if (bytes > MAX_LOG_BYTES) {
            out.add("…[component logs cut at " + MAX_LOG_BYTES + " bytes]");
            return out;
          }
          out.add("[" + s.component() + "] " + line);
        }
      }
    } catch (RuntimeException e) {
      out.add("(component logs unavailable: " + e.getMessage() + ")");
    }
    return out;
  }

  @Override
  public void tearDown(Preview preview, JobContext context) {
    LogSink log = context.log();
    ProcessRunner run = runner.with(context.cancellation());
    router.remove(preview.id(), log);
    String project = projectName(preview.id());
    Path composeFile = options.workDir().resolve(project).resolve("docker-compose.yml");
    Set<String> images = new LinkedHashSet<>(preview.images().values());
    images.addAll(images(preview.id(), run));
    if (Files.exists(composeFile)) {
      CommandRunner.Result down = run.run(compose(project, composeFile, "down", "--volumes", "--remove-orphans",
          "--timeout", "5"), log, options.commandTimeout());
      if (!down.ok()) log.line("compose down exited with " + down.exitCode() + "; removing by label");
    }
    removeByLabel(preview.id(), log, run);
    for (String image : images) removeImageIfUnused(image, log, run);
    deleteDir(options.workDir().resolve(project));
  }

  /** Removes a preview's containers (with their anonymous volumes), networks and labelled volumes by label. */
  private List<String> removeByLabel(String previewId, LogSink log, ProcessRunner run) {
    // the router lets go of the preview first (Traefik leaves its route network, which the engine cannot remove else)
    router.remove(previewId, log);
    List<String> removed = new ArrayList<>();
    String filter = "label=" + ByopLabels.PREVIEW + "=" + previewId;
    List<String> ids = containerIds(filter, run);
    if (!ids.isEmpty()) {
      List<String> rm = docker("rm", "-f", "-v");
      rm.addAll(ids);
      CommandRunner.Result r = run.run(rm, log, options.commandTimeout());
      if (!r.ok()) throw new PreviewException("cannot remove containers of preview " + previewId + ": " + r.tail(5));
      ids.forEach(id -> removed.add("container " + id.substring(0, 12) + " of preview " + previewId));
    }
    for (String kind : List.of("network", "volume")) {
      CommandRunner.Result ls = run.run(docker(kind, "ls", "-q", "--filter", "label=" + ByopLabels.MANAGED + "=true",
          "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(), "--filter", filter), LogSink.discard(),
          options.commandTimeout());
      for (String id : ls.output()) {
        if (id.isBlank()) continue;
        CommandRunner.Result r = run.run(docker(kind, "rm", id.trim()), log, options.commandTimeout());
        if (!r.ok()) throw new PreviewException("cannot remove " + kind + " " + id + ": " + r.tail(5));
        removed.add(kind + " " + id.trim() + " of preview " + previewId);
      }
    }
    return removed;
  }

  /** The volumes mounted into the preview's containers. */
  private Set<String> volumes(String previewId, ProcessRunner run) {
    Set<String> volumes = new LinkedHashSet<>();
    List<String> ids = containerIds("label=" + ByopLabels.PREVIEW + "=" + previewId, run);
    if (ids.isEmpty()) return volumes;
    List<String> argv = docker("inspect", "--format",
        "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}{{\"\\n\"}}{{end}}{{end}}");
    argv.addAll(ids);
    CommandRunner.Result r = run.run(argv, LogSink.discard(), options.commandTimeout());
    if (r.ok()) r.output().stream().map(String::trim).filter(x -> !x.isEmpty()).forEach(volumes::add);
    return volumes;
  }

  /** The images the preview's containers run, as their configuration names them. */
  private Set<String> images(String previewId, ProcessRunner run) {
    Set<String> images = new LinkedHashSet<>();
    List<String> ids = containerIds("label=" + ByopLabels.PREVIEW + "=" + previewId, run);
    if (ids.isEmpty()) return images;
    List<String> argv = docker("inspect", "--format", "{{.Config.Image}}");
    argv.addAll(ids);
    CommandRunner.Result r = run.run(argv, LogSink.discard(), options.commandTimeout());
    if (r.ok()) r.output().stream().map(String::trim).filter(x -> !x.isEmpty()).forEach(images::add);
    return images;
  }

  private void removeImageIfUnused(String image, LogSink log, ProcessRunner run) {
    CommandRunner.Result users = run.run(docker("ps", "-aq", "--filter", "ancestor=" + image), LogSink.discard(),
        options.commandTimeout());
    if (!users.ok() || users.output().stream().anyMatch(s -> !s.isBlank())) return;
    // without -f: the engine refuses while any container (of another preview) still uses the image
    CommandRunner.Result r = run.run(docker("image", "rm", image), LogSink.discard(), options.commandTimeout());
    if (r.ok()) log.line("removed image " + image);
  }

  private static void deleteDir(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // nothing left to clean or not ours to clean
    }
  }

  @Override
  public Health status(Preview preview) {
    Map<String, String> components = new LinkedHashMap<>();
    for (ContainerState s : states(preview.id(), runner)) components.put(s.component(), s.describe());
    boolean answers = false;
    if (preview.url() != null && preview.hostname() != null) {
      answers = router.endpoint(preview.id(), preview.hostname(), preview.url()).answers(Duration.ofSeconds(2));
    }
    return new Health(answers, components);
  }

  @Override
  public List<String> logs(Preview preview, int tail) {
    return componentLogs(preview.id(), tail, runner);
  }

  @Override
  public List<String> sweep(Set<String> knownPreviewIds, JobContext context) {
    ProcessRunner run = runner.with(context.cancellation());
    Set<String> orphans = new TreeSet<>();
    for (String kind : List.of("container", "network", "volume")) {
      List<String> argv = kind.equals("container")
          ? docker("ps", "-a", "--format", "{{.Label \"" + ByopLabels.PREVIEW + "\"}}")
          : docker(kind, "ls", "--format", "{{.Label \"" + ByopLabels.PREVIEW + "\"}}");
      argv.addAll(List.of("--filter", "label=" + ByopLabels.MANAGED + "=true",
          "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(), "--filter", "label=" + ByopLabels.PREVIEW));
      CommandRunner.Result r = run.run(argv, LogSink.discard(), options.commandTimeout());
      if (!r.ok()) throw new PreviewException("docker " + kind + " listing failed: " + r.tail(5));
      r.output().stream().map(String::trim).filter(id -> !id.isEmpty() && !knownPreviewIds.contains(id))
          .forEach(orphans::add);
    }
    List<String> removed = new ArrayList<>();
    // routes first: removing a preview's resources lets the router go of it too, and the route would go unreported
    for (String id : router.routedPreviewIds()) {
      if (!knownPreviewIds.contains(id)) {
        router.remove(id, context.log());
        removed.add("route of preview " + id);
      }
    }
    for (String id : orphans) {
      context.log().line("sweeping orphaned preview " + id);
      removed.addAll(removeByLabel(id, context.log(), run));
      deleteDir(options.workDir().resolve(projectName(id)));
    }
    return removed;
  }

  private List<String> compose(String project, Path file, String... args) {
    List<String> argv = new ArrayList<>(composeCommand());
    argv.addAll(List.of("--project-name", project, "--file", file.toString()));
    argv.addAll(List.of(args));
    return argv;
  }

  private List<String> docker(String... args) {
    List<String> argv = new ArrayList<>(options.docker());
    argv.addAll(List.of(args));
    return argv;
  }

  @Override
  public void close() {
    router.close();
  }

}
