package dev.byop.preview.compose;

import dev.byop.core.App;
import dev.byop.core.ByopLabels;
import dev.byop.core.CancelledException;
import dev.byop.core.Component;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.PreviewHostnames;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.PreviewDeployer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs previews with Docker Compose on the hosts a {@link Placement} hands out, whatever kind of host they are (this
 * machine, an SSH host): one project {@code byop-<previewId>} per preview, one service per component on a network of
 * its own, every resource labelled as byop's (and this installation's), the entry component routed by the
 * {@link PreviewRouter}. {@link #deploy} returns once every container runs (healthy where a health path is set) and
 * the URL answers through the router with the route's own marker; a failure says what is wrong, with the
 * components' logs.
 *
 * <pre>{@code
 * PreviewDeployer d = new ComposeDeployer(placement, new CaddyRouter(caddySettings),
 *     ComposeDeployer.Options.of("shop-prod").withReadyTimeout(Duration.ofMinutes(3)));
 * Deployment dep = d.deploy(new DeployRequest(preview, app, images), context);
 * }</pre>
 *
 * <p>Compose runs as an argument list: {@code docker compose} (v2) when the host's CLI has it, else
 * {@code docker-compose} (v1), found once per host; its output goes line by line into the preview's log. The
 * compose file holds env values: it is written {@code 0600} in {@code 0700} directories.
 */
public final class ComposeDeployer implements PreviewDeployer {
  private static final Logger LOG = LoggerFactory.getLogger(ComposeDeployer.class);
  private static final Pattern PREVIEW_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,62}");
  private static final String NETWORK = "preview";
  private static final String COMPOSE_FILE = "docker-compose.yml";
  /** Readiness polls start this soon after compose up and back off (doubling) to {@link #POLL}. */
  private static final Duration FIRST_POLL = Duration.ofMillis(25);
  private static final Duration POLL = Duration.ofMillis(250);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  /** At most this many bytes of component logs are read into one answer (lines are cut by the host). */
  static final int MAX_LOG_BYTES = 256 * 1024;

  /**
   * How the deployer runs previews.
   *
   * @param instance the {@code dev.byop.instance} label value: byop installations sharing an engine only see and
   *     sweep their own resources
   * @param readyTimeout how long a deployment may take to answer after {@code up}
   * @param commandTimeout how long one compose or docker command may take
   * @param stopTimeout how long components get to stop before they are killed, on tear-down and when a redeploy
   *     replaces them
   * @param compose the compose command, or null to find it per host ({@code docker compose}, else
   *     {@code docker-compose})
   * @param domain the domain previews are served under on these hosts (the first label of the preview's host name
   *     under it), or null to serve the preview's own host name
   */
  public record Options(String instance, Duration readyTimeout, Duration commandTimeout, Duration stopTimeout,
      @Nullable List<String> compose, @Nullable String domain) {
    public Options {
      Checks.notBlank("preview.instance", instance);
      positive("preview.readyTimeout", readyTimeout);
      positive("preview.commandTimeout", commandTimeout);
      Checks.notNull("preview.stopTimeout", stopTimeout);
      if (stopTimeout.isNegative()) throw new ValidationException("preview.stopTimeout", stopTimeout, "must not be negative");
      if (compose != null) {
        compose = List.copyOf(compose);
        if (compose.isEmpty()) throw new ValidationException("preview.compose", "[]", "needs a command");
      }
      if (domain != null) PreviewHostnames.checkDomain(domain);
    }

    /** 2 minutes to answer, 5 minutes a command, 10 seconds to stop, compose found per host, the preview's own name. */
    public static Options of(String instance) {
      return new Options(instance, Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofSeconds(10), null, null);
    }

    public Options withReadyTimeout(Duration d) {
      return new Options(instance, d, commandTimeout, stopTimeout, compose, domain);
    }

    public Options withCommandTimeout(Duration d) {
      return new Options(instance, readyTimeout, d, stopTimeout, compose, domain);
    }

    public Options withStopTimeout(Duration d) {
      return new Options(instance, readyTimeout, commandTimeout, d, compose, domain);
    }

    public Options withCompose(@Nullable List<String> command) {
      return new Options(instance, readyTimeout, commandTimeout, stopTimeout, command, domain);
    }

    public Options withDomain(@Nullable String d) {
      return new Options(instance, readyTimeout, commandTimeout, stopTimeout, compose, d);
    }

    private static void positive(String field, Duration d) {
      Checks.notNull(field, d);
      if (d.isNegative() || d.isZero()) throw new ValidationException(field, d, "must be positive");
    }
  }

  private final Placement placement;
  private final PreviewRouter router;
  private final Options options;
  private final Map<String, List<String>> composeByHost = new ConcurrentHashMap<>();

  public ComposeDeployer(Placement placement, PreviewRouter router, Options options) {
    this.placement = Objects.requireNonNull(placement, "placement");
    this.router = Objects.requireNonNull(router, "router");
    this.options = Objects.requireNonNull(options, "options");
  }

  /** The router in use. */
  public PreviewRouter router() {
    return router;
  }

  /** Where previews go. */
  public Placement placement() {
    return placement;
  }

  /** How previews are run. */
  public Options options() {
    return options;
  }

  /** The compose project name of a preview. */
  public static String projectName(String previewId) {
    return "byop-" + checkId(previewId).toLowerCase(Locale.ROOT);
  }

  /** The preview id, when it can name a directory and a compose project. */
  public static String checkId(String previewId) {
    if (previewId == null || !PREVIEW_ID.matcher(previewId).matches()) {
      throw new ValidationException("preview.id", Checks.printable(previewId),
          "must be 1-63 letters, digits, '_' or '-' (it names a directory and a compose project)");
    }
    return previewId;
  }

  /**
   * The compose command on {@code host}: the configured one, else {@code docker compose} when the host's CLI has it,
   * else {@code docker-compose}; found once per host.
   */
  public List<String> composeCommand(PreviewHost host) {
    if (options.compose() != null) return options.compose();
    List<String> known = composeByHost.get(host.id());
    if (known != null) return known;
    List<String> v2 = cmd(host.docker(), "compose");
    String v2Says = answer(host, cmd(v2, "version"));
    List<String> found;
    if (v2Says == null) {
      found = v2;
    } else {
      String v1Says = answer(host, List.of("docker-compose", "version"));
      if (v1Says != null) {
        throw new PreviewException("host " + host.id() + " has neither 'docker compose' (" + v2Says
            + ") nor 'docker-compose' (" + v1Says + "); install Compose or set preview.compose");
      }
      found = List.of("docker-compose");
    }
    LOG.debug("compose command on {}: {}", host.id(), found);
    composeByHost.put(host.id(), found);
    return found;
  }

  /** How the log names a compose command: {@code docker compose (v2)} or {@code docker-compose (v1)}. */
  static String composeName(List<String> compose) {
    boolean v2 = compose.size() > 1 && compose.get(compose.size() - 1).equals("compose");
    return v2 ? "docker compose (v2)" : String.join(" ", compose) + (compose.size() == 1 ? " (v1)" : "");
  }

  /** Null when {@code argv} ran and exited 0, else what it said. */
  private @Nullable String answer(PreviewHost host, List<String> argv) {
    try {
      CommandResult r = host.run(argv, LogSink.discard(), options.commandTimeout());
      return r.ok() ? null : "exit code " + r.exitCode() + (r.output().isEmpty() ? "" : ": " + r.tail(2));
    } catch (PreviewException e) {
      return e.getMessage();
    }
  }

  /**
   * The compose file of a deployment before the router adds its part.
   *
   * @param images the image to run per component, as the host's engine names it
   */
  public ComposeFile composeFile(DeployRequest request, Map<String, String> images) {
    Preview p = request.preview();
    App app = request.app();
    ComposeFile f = ComposeFile.of(projectName(p.id()))
        .withNetwork(NETWORK, ComposeNetwork.owned(ByopLabels.forPreview(options.instance(), app.id(), p.id())));
    for (Component c : app.components()) {
      String image = images.get(c.name());
      if (image == null) throw new PreviewException("no image for component " + c.name() + " of preview " + p.id());
      ComposeService s = ComposeService.of(image)
          .withEnvironment(c.env())
          .withRestart(RestartPolicy.UNLESS_STOPPED)
          .withLabels(ByopLabels.forComponent(options.instance(), app.id(), p.id(), c.name()))
          .withNetworks(List.of(NETWORK));
      if (c.healthPath() != null && c.port() > 0) s = s.withHealthcheck(HealthCheck.httpGet(c.port(), c.healthPath()));
      f = f.withService(c.name(), s);
    }
    return f;
  }

  /** The route of a deployment: the preview's host name (under {@link Options#domain} when set) to the entry port. */
  public Route route(DeployRequest request) {
    Component entry = request.app().entryComponent().filter(c -> c.port() > 0).orElseThrow(() -> new PreviewException(
        "app " + request.app().id() + " has no component with a port to route the preview URL to"));
    String hostname = request.preview().hostname();
    if (hostname == null) throw new PreviewException("preview " + request.preview().id() + " has no host name");
    if (options.domain() != null) hostname = hostname.split("\\.", 2)[0] + "." + options.domain();
    return new Route(request.preview().id(), hostname, entry.name(), entry.port());
  }

  @Override
  public Deployment deploy(DeployRequest request, JobContext context) {
    Preview p = request.preview();
    String id = checkId(p.id());
    LogSink log = context.log();
    Cancellation cancel = context.cancellation();
    Route route = route(request);
    // the model is checked before a host is taken: a request that cannot run takes nothing
    Map<String, String> requested = new LinkedHashMap<>();
    request.images().forEach((component, image) -> requested.put(component, image.familiar()));
    router.prepare(composeFile(request, requested), route);
    cancel.throwIfCancelled();

    Placement.Placed placed = placement.place(request, context);
    PreviewHost host = placed.host();
    ComposeFile file = router.prepare(composeFile(request, placed.images()), route);
    EngineContainers engine = host.engine().map(e -> new EngineContainers(e, host.id(), options.instance())).orElse(null);
    if (engine != null) {
      engine.checkImageLabels(request.app().id(), placed.images());
    } else {
      checkImageLabels(host, request.app().id(), placed.images(), cancel);
    }
    router.ensureReady(host, log);
    String project = file.projectName();
    String composeFile = dir(host, id) + "/" + COMPOSE_FILE;
    byte[] previous = engine == null ? null : host.read(composeFile, 1024 * 1024).orElse(null);
    List<EngineContainers.Container> running = engine == null ? List.of() : engine.containers(id);
    host.write(composeFile, file.toYaml().getBytes(StandardCharsets.UTF_8), 0600);
    Set<String> imagesBefore = engine != null ? imagesOf(running) : images(host, id, cancel);
    Set<String> volumesBefore = engine != null ? volumesOf(running) : volumes(host, id, cancel);
    cancel.throwIfCancelled();
    if (!(engine != null && replacedInPlace(engine, host, file, previous, running, log))) {
      log.line("compose up " + project + " on " + host.id() + " with " + composeName(composeCommand(host)) + " ("
          + String.join(", ", file.services().keySet()) + ")");
      // a redeploy replaces running containers: they get the same time to stop as on tear-down, not Compose's 10 s
      // (an app that ignores TERM, e.g. a PID 1 without a handler, held every redeploy for those 10 s)
      CommandResult up = host.run(compose(host, project, composeFile, "up", "-d", "--remove-orphans", "--timeout",
          Long.toString(options.stopTimeout().toSeconds())), log, options.commandTimeout(), cancel);
      if (!up.ok()) {
        throw fail(host, id, "compose up on " + host.id() + " failed with exit code " + up.exitCode() + ": "
            + up.tail(10), log);
      }
    }
    Integer published = null;
    if (router.needsPublishedPort()) {
      published = publishedPort(host, id, project, composeFile, route, log, cancel);
    }
    RouteEndpoint endpoint = router.activate(host, route, published, log);
    waitUntilAnswering(host, id, request.app(), endpoint, log, cancel);
    log.line("preview " + id + " answers at " + endpoint.url());
    // a redeploy: what the replaced containers ran is no longer needed unless another preview runs it
    List<EngineContainers.Container> now = engine == null ? List.of() : engine.containers(id);
    imagesBefore.removeAll(engine != null ? imagesOf(now) : images(host, id, cancel));
    for (String image : imagesBefore) {
      if (engine != null ? engine.removeImageIfUnused(image) : removeImageIfUnused(host, image, cancel)) {
        log.line("removed image " + image + " from " + host.id());
      }
    }
    // compose v1 removes a replaced container without its anonymous volumes; the engine refuses while one is in use
    volumesBefore.removeAll(engine != null ? volumesOf(now) : volumes(host, id, cancel));
    for (String v : volumesBefore) {
      if (host.run(cmd(host.docker(), "volume", "rm", v), LogSink.discard(), options.commandTimeout(), cancel).ok()) {
        log.line("removed volume " + v + " of a replaced container");
      }
    }
    return new Deployment(host.id(), host.address(), endpoint.url());
  }

  /**
   * A redeploy whose compose file differs from the running one only in images replaces just the containers whose
   * image changed, through the engine's API ({@link EngineContainers#replace}), without starting compose: compose
   * would do the same (stop, create, start, remove), after starting itself (about 1.3 s for Compose v1 on the bed's
   * small hosts, measured by the push-to-URL bench). Anything else (a first deploy, a changed file, a missing,
   * extra or stopped container, a replacement that fails) goes to {@code compose up}, which converges whatever it
   * finds. True when the running containers are now the file's.
   */
  private boolean replacedInPlace(EngineContainers engine, PreviewHost host, ComposeFile file, byte @Nullable [] previous,
      List<EngineContainers.Container> running, LogSink log) {
    if (previous == null || running.size() != file.services().size()) return false;
    Map<String, EngineContainers.Container> byService = new LinkedHashMap<>();
    for (EngineContainers.Container c : running) {
      if (!c.state().status().equals("running") || byService.put(c.component(), c) != null) return false;
    }
    ComposeFile asRunning = file;
    for (Map.Entry<String, ComposeService> e : file.services().entrySet()) {
      EngineContainers.Container c = byService.get(e.getKey());
      if (c == null || c.image().isEmpty()) return false;
      ComposeService s = e.getValue();
      asRunning = asRunning.withService(e.getKey(), new ComposeService(c.image(), s.environment(), s.restart(),
          s.healthcheck(), s.labels(), s.networks(), s.ports()));
    }
    // the file on the host is the one these containers were made from (compose's own labels say nothing of env etc.)
    if (!asRunning.toYaml().equals(new String(previous, StandardCharsets.UTF_8))) return false;
    Map<String, ComposeService> changed = new LinkedHashMap<>();
    for (Map.Entry<String, ComposeService> e : file.services().entrySet()) {
      EngineContainers.Container c = byService.get(e.getKey());
      String wanted = engine.imageId(e.getValue().image());
      if (wanted == null) return false;
      if (!wanted.equals(c.imageId()) || !c.image().equals(e.getValue().image())) changed.put(e.getKey(), e.getValue());
    }
    log.line("redeploy of " + file.projectName() + " on " + host.id() + ": only images changed; replacing "
        + (changed.isEmpty() ? "nothing" : String.join(", ", changed.keySet())) + " through the engine");
    try {
      engine.replace(byService, changed, options.stopTimeout(), log);
      return true;
    } catch (PreviewException e) {
      log.line("replacing through the engine failed (" + e.getMessage() + "); compose takes over");
      return false;
    }
  }

  private static Set<String> imagesOf(List<EngineContainers.Container> containers) {
    Set<String> out = new LinkedHashSet<>();
    for (EngineContainers.Container c : containers) if (!c.image().isEmpty()) out.add(c.image());
    return out;
  }

  private static Set<String> volumesOf(List<EngineContainers.Container> containers) {
    Set<String> out = new LinkedHashSet<>();
    for (EngineContainers.Container c : containers) out.addAll(c.volumes());
    return out;
  }

  /**
   * Refuses images carrying router or byop labels, before anything runs (a container inherits its image's labels);
   * one {@code docker image inspect} for all of them.
   */
  private void checkImageLabels(PreviewHost host, String appId, Map<String, String> images, Cancellation cancel) {
    List<Map.Entry<String, String>> order = List.copyOf(images.entrySet());
    if (order.isEmpty()) return;
    CommandResult r = host.run(cmd(cmd(host.docker(), "image", "inspect", "--format", "{{json .Config.Labels}}"),
        order.stream().map(Map.Entry::getValue).toList()), LogSink.discard(), options.commandTimeout(), cancel);
    // one line per image, in the order given (the CLI may print warnings around them)
    List<String> labels = r.output().stream().map(String::trim).filter(t -> t.startsWith("{") || t.equals("null"))
        .toList();
    if (!r.ok() || labels.size() != order.size()) {
      throw new PreviewException("images " + order.stream().map(e -> e.getValue() + " (component '" + e.getKey() + "')")
          .toList() + " are not all in the engine of " + host.id() + ": " + r.tail(3));
    }
    for (int i = 0; i < order.size(); i++) {
      ByopLabels.checkImageLabelsJson(order.get(i).getValue(), appId, order.get(i).getKey(), labels.get(i));
    }
  }

  /**
   * The host port the entry service's container port is published on. Asked of the engine ({@code docker ps} for
   * the service's one container, then {@code docker port}): two quick CLI calls, where {@code compose port} starts
   * Compose again (about a second for v1 on a small host, measured by the push-to-URL bench). When the engine's
   * answer is not one container with one port (a replacement still in flight), Compose is asked as before.
   */
  Integer publishedPort(PreviewHost host, String previewId, String project, String composeFile, Route route, LogSink log,
      Cancellation cancel) {
    String port = Integer.toString(route.containerPort());
    var engine = host.engine();
    if (engine.isPresent()) {
      List<EngineContainers.Container> entry = new EngineContainers(engine.get(), host.id(), options.instance())
          .containers(previewId).stream().filter(c -> c.component().equals(route.service())).toList();
      Integer p = entry.size() == 1 ? entry.get(0).publishedPort(route.containerPort()) : null;
      if (p != null) return p;
    }
    CommandResult ps = host.run(cmd(host.docker(), "ps", "-q", "--no-trunc",
        "--filter", "label=" + ByopLabels.MANAGED + "=true", "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(),
        "--filter", "label=" + ByopLabels.PREVIEW + "=" + previewId, "--filter", "label=" + ByopLabels.COMPONENT + "=" + route.service()),
        LogSink.discard(), options.commandTimeout(), cancel);
    List<String> ids = ps.ok() ? ps.output().stream().map(String::trim).filter(t -> t.matches("[0-9a-f]{12,64}")).toList()
        : List.of();
    if (ids.size() == 1) {
      Integer p = parsePort(host.run(cmd(host.docker(), "port", ids.get(0), port + "/tcp"), LogSink.discard(),
          options.commandTimeout(), cancel));
      if (p != null) return p;
    }
    CommandResult r = host.run(compose(host, project, composeFile, "port", route.service(), port), LogSink.discard(),
        options.commandTimeout(), cancel);
    Integer p = parsePort(r);
    if (p == null) {
      throw fail(host, previewId, "cannot read the published port of " + route.service() + ":" + route.containerPort()
          + " on " + host.id() + ": " + r.tail(5), log);
    }
    return p;
  }

  static @Nullable Integer parsePort(CommandResult r) {
    if (!r.ok()) return null;
    for (String line : r.output()) {
      String t = line.trim();
      int colon = t.lastIndexOf(':');
      if (colon > 0) {
        try {
          int port = Integer.parseInt(t.substring(colon + 1));
          if (port > 0 && port < 65536) return port;
        } catch (NumberFormatException e) {
          // not the port line (compose v1 may print warnings first)
        }
      }
    }
    return null;
  }

  private void waitUntilAnswering(PreviewHost host, String id, App app, RouteEndpoint endpoint, LogSink log,
      Cancellation cancel) {
    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
    long pause = FIRST_POLL.toMillis();
    while (true) {
      if (cancel.isCancelled()) throw new CancelledException(cancel.reason());
      List<ContainerState> states;
      try {
        states = states(host, id, cancel);
      } catch (PreviewException e) {
        throw fail(host, id, "cannot read the state of its containers: " + e.getMessage(), log);
      }
      for (ContainerState s : states) {
        if (s.failed()) throw fail(host, id, "component " + s.component() + " " + s.describe(), log);
      }
      String last = describe(app, states);
      if (last.isEmpty()) {
        // the entry's health path when it has one (2xx/3xx), else its root (any answer below 500 through the route)
        String health = app.entryComponent().map(Component::healthPath).orElse(null);
        HttpProbe.Response r = endpoint.probe(host, health, PROBE_TIMEOUT);
        if (endpoint.answered(r, health != null)) return;
        last = "every container runs; " + (health == null ? endpoint.probe() : endpoint.probe().resolve(health))
            + " with Host " + endpoint.hostHeader() + " answers " + endpoint.describe(r);
      }
      if (System.nanoTime() - deadline > 0) {
        throw fail(host, id, "did not answer at " + endpoint.url() + " within " + options.readyTimeout() + " ("
            + last + ")", log);
      }
      try {
        Thread.sleep(pause);
        pause = Math.min(pause * 2, POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancelledException("interrupted while waiting for preview " + id);
      }
    }
  }

  /** Empty when every component has one container that runs (healthy where it has a health check), else what not. */
  private static String describe(App app, List<ContainerState> states) {
    Set<String> seen = new LinkedHashSet<>();
    List<String> notReady = new ArrayList<>();
    for (ContainerState s : states) {
      seen.add(s.component());
      if (!s.ready()) notReady.add(s.component() + " " + s.describe());
    }
    List<String> missing = new ArrayList<>();
    for (Component c : app.components()) if (!seen.contains(c.name())) missing.add(c.name());
    if (!missing.isEmpty()) {
      notReady.add((states.isEmpty() ? "no containers" : "no container") + " for " + String.join(", ", missing));
    }
    return String.join(", ", notReady);
  }

  /** Writes the components' logs into the preview log and returns the failure, with the logs in its message. */
  private PreviewException fail(PreviewHost host, String id, String why, LogSink log) {
    log.line("preview " + id + " failed: " + why);
    List<String> logs = componentLogs(host, id, 50, Cancellation.none());
    logs.forEach(log::line);
    String tail = String.join("\n", logs.subList(Math.max(0, logs.size() - 40), logs.size()));
    return new PreviewException("preview " + id + " " + why + (tail.isEmpty() ? "" : "\ncomponent logs:\n" + tail));
  }

  /** One container's state as {@code docker container inspect} reports it. */
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

  // the CLI renders the state as a map: a container without a healthcheck has no Health key and ".State.Health"
  // fails the whole template (a component without a health path was never seen running); "index" does not fail
  static final String STATE_FORMAT = "{{.Id}}|{{index .Config.Labels \"" + ByopLabels.COMPONENT + "\"}}|"
      + "{{.State.Status}}|{{.RestartCount}}|{{with index .State \"Health\"}}{{.Status}}{{end}}|{{.State.ExitCode}}";

  private List<String> containerIds(PreviewHost host, String previewId, Cancellation cancel) {
    List<String> argv = cmd(host.docker(), "ps", "-aq", "--no-trunc", "--filter", "label=" + ByopLabels.MANAGED + "=true",
        "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(),
        "--filter", "label=" + ByopLabels.PREVIEW + "=" + previewId);
    CommandResult r = host.run(argv, LogSink.discard(), options.commandTimeout(), cancel);
    if (!r.ok()) throw new PreviewException("docker ps on " + host.id() + " failed: " + r.tail(5));
    return r.output().stream().map(String::trim).filter(s -> s.matches("[0-9a-f]{12,64}")).toList();
  }

  /**
   * The states of the preview's containers. A container removed between {@code ps} and {@code inspect} (compose
   * replacing it) makes inspect exit 1: the containers are listed again then; inspect failing on the same list is
   * an error that says what inspect said.
   */
  List<ContainerState> states(PreviewHost host, String previewId, Cancellation cancel) {
    var engine = host.engine();
    if (engine.isPresent()) {
      return new EngineContainers(engine.get(), host.id(), options.instance()).containers(previewId).stream()
          .map(EngineContainers.Container::state).toList();
    }
    List<String> ids = containerIds(host, previewId, cancel);
    for (int attempt = 0; ; attempt++) {
      if (ids.isEmpty()) return List.of();
      CommandResult r = host.run(cmd(cmd(host.docker(), "container", "inspect", "--format", STATE_FORMAT), ids),
          LogSink.discard(), options.commandTimeout(), cancel);
      List<ContainerState> out = new ArrayList<>();
      for (String line : r.output()) {
        String[] f = line.trim().split("\\|", -1);
        if (f.length != 6 || !ids.contains(f[0])) continue;
        out.add(new ContainerState(f[0], f[1], f[2], parseInt(f[3]), f[4], parseInt(f[5])));
      }
      if (r.ok() && out.size() == ids.size()) return out;
      List<String> again = containerIds(host, previewId, cancel);
      if (!again.equals(ids) && attempt < 3) {
        ids = again;
        continue;
      }
      throw new PreviewException("docker container inspect of " + ids.size() + " container(s) on " + host.id()
          + (r.ok() ? " answered " + out.size() + " readable state line(s)" : " exited with code " + r.exitCode())
          + ": " + Checks.printable(r.tail(3)));
    }
  }

  private static int parseInt(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private List<String> componentLogs(PreviewHost host, String previewId, int tail, Cancellation cancel) {
    List<String> out = new ArrayList<>();
    int lines = Math.max(1, Math.min(tail, BoundedReads.MAX_LINES / 2));
    long bytes = 0;
    try {
      for (ContainerState s : states(host, previewId, cancel)) {
        CommandResult r = host.run(cmd(host.docker(), "logs", "--tail", Integer.toString(lines), s.id()),
            LogSink.discard(), options.commandTimeout(), cancel);
        for (String line : r.output()) {
          bytes += line.length();
          if (bytes > MAX_LOG_BYTES) {
            out.add("…[component logs cut at " + MAX_LOG_BYTES + " bytes]");
            return out;
          }
          out.add("[" + s.component() + "] " + line);
        }
      }
    } catch (CancelledException e) {
      throw e;
    } catch (RuntimeException e) {
      out.add("(component logs unavailable: " + e.getMessage() + ")");
    }
    return out;
  }

  @Override
  public void tearDown(Preview preview, JobContext context) {
    String id = checkId(preview.id());
    LogSink log = context.log();
    Cancellation cancel = context.cancellation();
    PreviewHost host = placement.hostOf(preview).orElse(null);
    if (host == null) {
      log.line("preview " + id + " holds no host; nothing to stop");
      placement.release(id);
      return;
    }
    router.remove(host, id, log);
    String project = projectName(id);
    String composeFile = dir(host, id) + "/" + COMPOSE_FILE;
    Set<String> images = new LinkedHashSet<>(preview.images().values());
    images.addAll(images(host, id, cancel));
    if (host.read(composeFile, 1024 * 1024).isPresent()) {
      CommandResult down = host.run(compose(host, project, composeFile, "down", "--volumes", "--remove-orphans",
          "--timeout", Long.toString(options.stopTimeout().toSeconds())), log, options.commandTimeout(), cancel);
      if (!down.ok()) log.line("compose down exited with " + down.exitCode() + "; removing by label");
    }
    removeByLabel(host, id, log, cancel);
    for (String image : images) {
      if (removeImageIfUnused(host, image, cancel)) log.line("removed image " + image + " from " + host.id());
    }
    host.delete(dir(host, id));
    placement.release(id);
    log.line("preview " + id + " torn down on " + host.id());
  }

  /** Removes a preview's containers (with their anonymous volumes), networks and labelled volumes by label. */
  private List<String> removeByLabel(PreviewHost host, String previewId, LogSink log, Cancellation cancel) {
    // the router lets go of the preview first (Traefik leaves its route network, which the engine cannot remove else)
    router.remove(host, previewId, log);
    List<String> removed = new ArrayList<>();
    List<String> ids = containerIds(host, previewId, cancel);
    if (!ids.isEmpty()) {
      CommandResult r = host.run(cmd(cmd(host.docker(), "rm", "-f", "-v"), ids), log, options.commandTimeout(), cancel);
      if (!r.ok()) throw new PreviewException("cannot remove containers of preview " + previewId + " on " + host.id()
          + ": " + r.tail(5));
      ids.forEach(c -> removed.add("container " + c.substring(0, 12) + " of preview " + previewId));
    }
    for (String kind : List.of("network", "volume")) {
      CommandResult ls = host.run(cmd(host.docker(), kind, "ls", "-q", "--filter", "label=" + ByopLabels.MANAGED + "=true",
          "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(),
          "--filter", "label=" + ByopLabels.PREVIEW + "=" + previewId), LogSink.discard(), options.commandTimeout(), cancel);
      if (!ls.ok()) throw new PreviewException("docker " + kind + " ls on " + host.id() + " failed: " + ls.tail(5));
      for (String name : ls.output()) {
        String n = name.trim();
        if (n.isEmpty() || n.startsWith("WARNING")) continue;
        CommandResult r = host.run(cmd(host.docker(), kind, "rm", n), log, options.commandTimeout(), cancel);
        if (!r.ok()) throw new PreviewException("cannot remove " + kind + " " + n + " on " + host.id() + ": " + r.tail(5));
        removed.add(kind + " " + n + " of preview " + previewId);
      }
    }
    return removed;
  }

  /** The volumes mounted into the preview's containers. */
  private Set<String> volumes(PreviewHost host, String previewId, Cancellation cancel) {
    return inspectEach(host, previewId, "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}{{\"\\n\"}}{{end}}{{end}}",
        cancel);
  }

  /** The images the preview's containers run, as their configuration names them. */
  private Set<String> images(PreviewHost host, String previewId, Cancellation cancel) {
    return inspectEach(host, previewId, "{{.Config.Image}}", cancel);
  }

  private Set<String> inspectEach(PreviewHost host, String previewId, String format, Cancellation cancel) {
    Set<String> out = new LinkedHashSet<>();
    List<String> ids = containerIds(host, previewId, cancel);
    if (ids.isEmpty()) return out;
    CommandResult r = host.run(cmd(cmd(host.docker(), "container", "inspect", "--format", format), ids),
        LogSink.discard(), options.commandTimeout(), cancel);
    // a container removed meanwhile makes inspect exit 1; the others are still listed
    for (String line : r.output()) {
      String t = line.trim();
      if (!t.isEmpty() && !t.startsWith("Error") && !t.contains(" ")) out.add(t);
    }
    return out;
  }

  private boolean removeImageIfUnused(PreviewHost host, String image, Cancellation cancel) {
    CommandResult users = host.run(cmd(host.docker(), "ps", "-aq", "--filter", "ancestor=" + image), LogSink.discard(),
        options.commandTimeout(), cancel);
    if (!users.ok() || users.output().stream().anyMatch(s -> !s.isBlank())) return false;
    // without -f: the engine refuses while any container (of another preview) still uses the image
    return host.run(cmd(host.docker(), "image", "rm", image), LogSink.discard(), options.commandTimeout(), cancel).ok();
  }

  @Override
  public Health status(Preview preview) {
    String id = checkId(preview.id());
    PreviewHost host = placement.hostOf(preview).orElse(null);
    if (host == null) return new Health(false, Map.of());
    Map<String, String> components = new LinkedHashMap<>();
    for (ContainerState s : states(host, id, Cancellation.none())) components.put(s.component(), s.describe());
    boolean answers = false;
    if (preview.url() != null && preview.hostname() != null) {
      String hostname = options.domain() == null ? preview.hostname()
          : preview.hostname().split("\\.", 2)[0] + "." + options.domain();
      // the stored preview does not carry the app's health path: its root, any answer below 500 through the route
      answers = router.endpoint(host, id, hostname, preview.url()).ready(host, null, PROBE_TIMEOUT);
    }
    return new Health(answers, components);
  }

  @Override
  public List<String> logs(Preview preview, int tail) {
    String id = checkId(preview.id());
    return placement.hostOf(preview).map(h -> componentLogs(h, id, tail, Cancellation.none())).orElse(List.of());
  }

  /**
   * On every host of the placement, removes what carries this installation's instance label but belongs to no
   * preview in {@code knownPreviewIds} nor holds a slot there: containers, networks, volumes, the route and the
   * directory; and routes of previews nobody knows.
   */
  @Override
  public List<String> sweep(Set<String> knownPreviewIds, JobContext context) {
    List<String> removed = new ArrayList<>();
    Cancellation cancel = context.cancellation();
    for (Map.Entry<PreviewHost, Set<String>> e : placement.hosts().entrySet()) {
      PreviewHost host = e.getKey();
      // knownPreviewIds may answer contains() live (the manager asks its store again): never copy it
      Set<String> slotted = e.getValue();
      java.util.function.Predicate<String> keep = id -> knownPreviewIds.contains(id) || slotted.contains(id);
      Set<String> orphans = new TreeSet<>();
      for (String kind : List.of("container", "network", "volume")) {
        List<String> argv = kind.equals("container") ? cmd(host.docker(), "ps", "-a") : cmd(host.docker(), kind, "ls");
        argv.addAll(List.of("--format", "{{.Label \"" + ByopLabels.PREVIEW + "\"}}",
            "--filter", "label=" + ByopLabels.MANAGED + "=true",
            "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(), "--filter", "label=" + ByopLabels.PREVIEW));
        CommandResult r = host.run(argv, LogSink.discard(), options.commandTimeout(), cancel);
        if (!r.ok()) throw new PreviewException("docker " + kind + " listing on " + host.id() + " failed: " + r.tail(5));
        r.output().stream().map(String::trim).filter(id -> PREVIEW_ID.matcher(id).matches() && !keep.test(id))
            .forEach(orphans::add);
      }
      // routes first: removing a preview's resources lets the router go of it too, and the route would go unreported
      for (String id : router.routedPreviewIds(host)) {
        if (!keep.test(id)) {
          router.remove(host, id, context.log());
          removed.add("route of preview " + id);
        }
      }
      for (String id : orphans) {
        context.log().line("sweeping orphaned preview " + id + " on " + host.id());
        removed.addAll(removeByLabel(host, id, context.log(), cancel));
        host.delete(dir(host, id));
      }
    }
    return removed;
  }

  private static String dir(PreviewHost host, String previewId) {
    return host.workDir() + "/" + projectName(previewId);
  }

  private List<String> compose(PreviewHost host, String project, String file, String... args) {
    List<String> argv = new ArrayList<>(composeCommand(host));
    argv.addAll(List.of("--project-name", project, "--file", file));
    argv.addAll(List.of(args));
    return argv;
  }

  private static List<String> cmd(List<String> prefix, String... args) {
    return cmd(prefix, List.of(args));
  }

  private static List<String> cmd(List<String> prefix, List<String> args) {
    List<String> l = new ArrayList<>(prefix);
    l.addAll(args);
    return l;
  }

  @Override
  public void close() {
    placement.close();
  }
}
