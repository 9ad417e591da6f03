package dev.byop.preview.compose;

import dev.byop.core.ByopLabels;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.LogSink;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Routes with Traefik (the seed's choice): router and service labels on the entry service, and a byop-managed Traefik
 * container (docker provider, {@code exposedByDefault=false}) that finds it, run with the host's own docker
 * ({@link PreviewHost#run}), so it works on this machine and on SSH hosts alike. Routes live in the labels, so removing
 * the containers removes the route.
 *
 * <p>Isolation: previews never share a network. Each preview's entry service (and only it) joins a route network of
 * its own, {@code <project>_byop-route}, created by its compose project; {@link #activate} connects the Traefik
 * container to that network and {@link #remove} disconnects it. Traefik is thus a member of every preview's route
 * network, but no two previews are members of one, so one preview's containers cannot reach another's.
 */
public final class TraefikRouter implements PreviewRouter {
  private static final Pattern ROUTER_NAME = Pattern.compile("[A-Za-z0-9_-]{1,100}");
  /** The compose key of a preview's own route network (entry service and Traefik only). */
  static final String ROUTE_KEY = "byop-route";

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Settings settings;

  /**
   * @param image the Traefik image (must be present on the engine or pullable)
   * @param network Traefik's own network (no preview joins it; Traefik joins each preview's route network)
   * @param containerName the Traefik container's name
   * @param entrypoint the Traefik entry point name the routers use
   * @param bindAddress the host address Traefik's entry point is published on
   * @param hostPort the host port of the entry point
   * @param instance the byop instance label value (Traefik only watches containers of this instance)
   * @param dockerSocket the host's engine socket Traefik watches (mounted read-only into its container), or null for
   *     the one the host's own {@code DOCKER_HOST} names (else the default socket)
   */
  public record Settings(String image, String network, String containerName, String entrypoint, String bindAddress,
      int hostPort, String instance, @Nullable String dockerSocket) {
    /** The engine socket Traefik watches when none is configured. */
    public static final String DEFAULT_SOCKET = "/var/run/docker.sock";
    private static final Pattern SOCKET = Pattern.compile("/[A-Za-z0-9._/-]{1,255}");

    public Settings {
      if (dockerSocket != null && (!SOCKET.matcher(dockerSocket).matches() || dockerSocket.contains(".."))) {
        throw new ValidationException("traefik.dockerSocket", Checks.printable(dockerSocket),
            "must be an absolute path of [A-Za-z0-9._/-] without '..' (it is mounted into Traefik's container)");
      }
      Checks.notBlank("traefik.image", image);
      ComposeFile.checkName("traefik.network", network);
      ComposeFile.checkName("traefik.containerName", containerName);
      if (!ROUTER_NAME.matcher(entrypoint).matches()) {
        throw new ValidationException("traefik.entrypoint", Checks.printable(entrypoint), "must match [A-Za-z0-9_-]+");
      }
      new PortMapping(bindAddress, hostPort, 80, "tcp");
      Checks.notBlank("traefik.instance", instance);
    }

    /** Traefik v2.11 on 127.0.0.1:80, network and container {@code byop-traefik}, entry point {@code web}. */
    public static Settings defaults(String instance) {
      return new Settings("traefik:v2.11", "byop-traefik", "byop-traefik", "web", "127.0.0.1", 80, instance, null);
    }

    /**
     * The {@code traefik} section as both deployers read it: {@code image}, {@code network}, {@code containerName},
     * {@code entrypoint}, {@code bindAddress}, {@code port}, {@code dockerSocket} (default: the socket the host's own
     * {@code DOCKER_HOST} names, asked on each host).
     */
    public static Settings from(dev.byop.core.Settings t, String instance) {
      t.allowOnly("image", "network", "containerName", "entrypoint", "bindAddress", "port", "dockerSocket");
      Settings d = defaults(instance);
      return new Settings(t.string("image", d.image()), t.string("network", d.network()),
          t.string("containerName", d.containerName()), t.string("entrypoint", d.entrypoint()),
          t.string("bindAddress", d.bindAddress()), t.integer("port", d.hostPort()), instance,
          t.string("dockerSocket").orElse(null));
    }
  }

  /** The socket path of a {@code unix://} Docker host, else the default socket. */
  static String socketOf(@Nullable String dockerHost) {
    String h = dockerHost == null ? "" : dockerHost.trim();
    return h.startsWith("unix://") && h.length() > "unix://".length() ? h.substring("unix://".length())
        : Settings.DEFAULT_SOCKET;
  }

  /** The engine socket Traefik watches on {@code host}: configured, else what the host's DOCKER_HOST names. */
  String socket(PreviewHost host) {
    if (settings.dockerSocket() != null) return settings.dockerSocket();
    CommandResult r = host.run(List.of("printenv", "DOCKER_HOST"), LogSink.discard(), TIMEOUT);
    String s = socketOf(r.ok() && !r.output().isEmpty() ? r.output().get(0) : null);
    return Settings.SOCKET.matcher(s).matches() && !s.contains("..") ? s : Settings.DEFAULT_SOCKET;
  }

  public TraefikRouter(Settings settings) {
    this.settings = settings;
  }

  @Override
  public String id() {
    return "traefik";
  }

  /** The Traefik router and service name of a preview. */
  public static String routerName(String previewId) {
    String name = "byop-" + previewId;
    if (!ROUTER_NAME.matcher(name).matches()) {
      throw new ValidationException("preview id", Checks.printable(previewId),
          "must be letters, digits, '-' and '_' to name a Traefik router");
    }
    return name;
  }

  /** The engine-level name of a preview's route network: compose names a project's networks {@code <project>_<key>}. */
  public static String routeNetwork(String projectName) {
    return projectName + "_" + ROUTE_KEY;
  }

  /** The labels that route {@code route} through Traefik, reached on the project's own route network. */
  public Map<String, String> labels(Route route, String projectName) {
    String name = routerName(route.previewId());
    Map<String, String> l = new LinkedHashMap<>();
    l.put("traefik.enable", "true");
    l.put("traefik.docker.network", routeNetwork(projectName));
    l.put("traefik.http.routers." + name + ".rule", "Host(`" + route.hostname() + "`)");
    l.put("traefik.http.routers." + name + ".entrypoints", settings.entrypoint());
    l.put("traefik.http.routers." + name + ".service", name);
    l.put("traefik.http.services." + name + ".loadbalancer.server.port", Integer.toString(route.containerPort()));
    return l;
  }

  @Override
  public ComposeFile prepare(ComposeFile file, Route route) {
    ComposeService entry = file.services().get(route.service());
    if (entry == null) throw new ValidationException("route.service", route.service(), "is not a service of the file");
    // the route network carries the preview's labels (those of the file's own network), so tear-down and the sweep
    // find it; only the entry service joins it
    Map<String, String> labels = new LinkedHashMap<>();
    for (ComposeNetwork n : file.networks().values()) {
      if (!n.external()) labels.putAll(n.labels());
    }
    labels.put(ByopLabels.PREVIEW, route.previewId());
    return file.withNetwork(ROUTE_KEY, ComposeNetwork.owned(labels))
        .withService(route.service(), entry.plusLabels(labels(route, file.projectName())).plusNetwork(ROUTE_KEY));
  }

  // synchronized: two previews deploying at once would both create the network and start the container, and the
  // second create fails ("already exists")
  @Override
  public synchronized void ensureReady(PreviewHost host, LogSink log) {
    if (!run(host, LogSink.discard(), "image", "inspect", "--format", "{{.Id}}", settings.image()).ok()) {
      throw new PreviewException("the Traefik image '" + settings.image() + "' is not available to the Docker engine"
          + " of " + host.id() + ": load or pull it (docker pull " + settings.image() + "), or choose preview.router:"
          + " caddy or plain");
    }
    if (!run(host, LogSink.discard(), "network", "inspect", settings.network()).ok()) {
      CommandResult r = run(host, log, "network", "create", "--label", ByopLabels.MANAGED + "=true",
          "--label", ByopLabels.ROUTER + "=traefik", "--label", ByopLabels.INSTANCE + "=" + settings.instance(),
          settings.network());
      // another byop process sharing the engine may have created it meanwhile
      if (!r.ok() && !run(host, LogSink.discard(), "network", "inspect", settings.network()).ok()) {
        throw new PreviewException("cannot create network " + settings.network() + " on " + host.id() + ": "
            + r.tail(5));
      }
    }
    CommandResult running = run(host, LogSink.discard(), "container", "inspect", "--format", "{{.State.Running}}",
        settings.containerName());
    if (running.ok() && running.output().contains("true")) return;
    if (running.ok()) run(host, log, "rm", "-f", settings.containerName());
    log.line("starting Traefik " + settings.image() + " on " + settings.bindAddress() + ":" + settings.hostPort()
        + " of " + host.id());
    CommandResult r = host.run(runCommand(host.docker(), socket(host)), log, TIMEOUT);
    if (!r.ok()) throw new PreviewException("cannot start Traefik container on " + host.id() + ": " + r.tail(10));
  }

  /** The {@code docker run} argument list of the managed Traefik container, with the configured or default socket. */
  public List<String> runCommand(List<String> docker) {
    return runCommand(docker, settings.dockerSocket() != null ? settings.dockerSocket() : Settings.DEFAULT_SOCKET);
  }

  /** The {@code docker run} argument list of the managed Traefik container, after the host's {@code docker}. */
  public List<String> runCommand(List<String> docker, String socket) {
    String instanceConstraint = "Label(`" + ByopLabels.INSTANCE + "`,`" + settings.instance() + "`)";
    return cmd(docker, "run", "-d", "--name", settings.containerName(), "--restart", "unless-stopped",
        "--network", settings.network(),
        "-p", settings.bindAddress() + ":" + settings.hostPort() + ":80",
        "-v", socket + ":/var/run/docker.sock:ro",
        "--label", ByopLabels.MANAGED + "=true", "--label", ByopLabels.ROUTER + "=traefik",
        "--label", ByopLabels.INSTANCE + "=" + settings.instance(),
        settings.image(),
        "--providers.docker=true", "--providers.docker.exposedbydefault=false",
        "--providers.docker.network=" + settings.network(),
        "--providers.docker.constraints=" + instanceConstraint,
        "--entrypoints." + settings.entrypoint() + ".address=:80");
  }

  @Override
  public RouteEndpoint activate(PreviewHost host, Route route, @Nullable Integer publishedPort, LogSink log) {
    for (String net : routeNetworks(host, route.previewId())) {
      CommandResult members = run(host, LogSink.discard(), "network", "inspect", "--format",
          "{{range .Containers}}{{.Name}} {{end}}", net);
      if (members.ok() && String.join(" ", members.output()).contains(settings.containerName())) continue;
      CommandResult r = run(host, log, "network", "connect", net, settings.containerName());
      if (!r.ok()) throw new PreviewException("cannot connect Traefik to network " + net + ": " + r.tail(5));
      log.line("Traefik joined the route network " + net);
    }
    String authority = route.hostname() + (settings.hostPort() == 80 ? "" : ":" + settings.hostPort());
    return new RouteEndpoint("http://" + authority + "/",
        URI.create("http://" + settings.bindAddress() + ":" + settings.hostPort() + "/"), route.hostname());
  }

  @Override
  public RouteEndpoint endpoint(PreviewHost host, String previewId, String hostname, String url) {
    return new RouteEndpoint(url, URI.create("http://" + settings.bindAddress() + ":" + settings.hostPort() + "/"),
        hostname);
  }

  @Override
  public void remove(PreviewHost host, String previewId, LogSink log) {
    // the route is the labels of the preview's containers (compose down removes them); Traefik leaves the preview's
    // route network first, or the engine would refuse to remove it
    for (String net : routeNetworks(host, previewId)) {
      if (run(host, LogSink.discard(), "network", "disconnect", "-f", net, settings.containerName()).ok()) {
        log.line("Traefik left the route network " + net);
      }
    }
  }

  /** The route networks of a preview this installation made, found by their labels. */
  private List<String> routeNetworks(PreviewHost host, String previewId) {
    CommandResult r = run(host, LogSink.discard(), "network", "ls", "--format", "{{.Name}}",
        "--filter", "label=" + ByopLabels.PREVIEW + "=" + previewId,
        "--filter", "label=" + ByopLabels.INSTANCE + "=" + settings.instance());
    if (!r.ok()) throw new PreviewException("docker network ls failed on " + host.id() + ": " + r.tail(5));
    return r.output().stream().map(String::trim).filter(x -> x.endsWith("_" + ROUTE_KEY)).toList();
  }

  private static CommandResult run(PreviewHost host, LogSink log, String... args) {
    return host.run(cmd(host.docker(), args), log, TIMEOUT);
  }

  @Override
  public Set<String> routedPreviewIds(PreviewHost host) {
    return Set.of();
  }

  @Override
  public boolean needsPublishedPort() {
    return false;
  }

  private static List<String> cmd(List<String> prefix, String... args) {
    List<String> l = new ArrayList<>(prefix);
    l.addAll(List.of(args));
    return l;
  }
}
