package dev.byop.preview.ssh;

import dev.byop.core.ConfigException;
import dev.byop.core.PreviewManager;
import dev.byop.core.ProviderSelector;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.ImageNames;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.Store;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.preview.compose.PreviewRouter;
import dev.byop.preview.compose.TraefikRouter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Makes the {@code ssh} preview deployer: the one {@link ComposeDeployer} over an {@link SshPlacement} (hosts of the
 * host application's {@code cloud} provider, found through {@link ProviderContext#providers()}, or of one made here
 * from the {@code cloud} section and owned) with Caddy or Traefik on each host.
 *
 * <pre>{@code
 * preview:
 *   provider: ssh
 *   domain: preview.example.com
 *   baseDir: byop/previews          # under the SSH user's home
 *   router: {adminPort: 2019, server: byop, httpPort: 80}   # Caddy on each host, admin API on its loopback
 *   # or, with the local deployer's keys: router: caddy (caddy: {admin, server, listener, publicPort, upstreamHost,
 *   #   routeIdPrefix}) or router: traefik (traefik: {image, network, containerName, entrypoint, bindAddress, port})
 *   docker: {host: unix:///var/run/docker.sock}   # the local engine images are shipped from
 *   ssh: {keepAlive: 15s, attempts: 8, retryDelay: 1s, retryWindow: 45s}   # lost transfers back off over the window
 *   registry:                                     # optional: hosts pull instead of receiving images over SSH
 *     address: registry.example.com
 *     username: deploy
 *     password: {env: REGISTRY_PASSWORD}
 * cloud:
 *   provider: static        # or ovh, or hetzner: provisioned hosts, the same keys for both
 *   hosts: [...]            #   (owner, user, privateKey, knownHosts, capacity, maxInstances, idleTimeout, userData, ...)
 * }</pre>
 */
public final class SshPreviewDeployerFactory implements PreviewDeployerFactory {

  @Override
  public String id() {
    return "ssh";
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    if (!context.settings().has("domain")) {
      return Applicability.no("preview.domain (the remote domain previews are served under) is not configured");
    }
    return context.config().section("cloud").isEmpty() ? Applicability.no("no cloud section names the hosts to deploy to")
        : Applicability.yes();
  }

  /** The keys of the {@code preview} section this deployer reads (the preview manager reads its own beside them). */
  static final Set<String> KEYS = Set.of("provider", "domain", "baseDir", "scheme", "acquireWait", "readyTimeout",
      "stopTimeout", "commandTimeout", "instance", "router", "caddy", "traefik", "docker", "ssh", "registry");

  @Override
  public Set<String> settingsKeys() {
    return KEYS;
  }

  /** Everything {@link #create} reads from the section, checked; nothing opened. */
  private record Parsed(SshDeployerOptions options, ComposeDeployer.Options compose, SshOptions sshOptions,
      ImageShipper.Retry retry, PreviewRouter router, @Nullable RegistryDelivery delivery, Settings docker) {}

  private static Parsed parse(ProviderContext context) {
    Settings s = context.settings();
    // the section is shared with the preview manager: its keys (ttl, sweepInterval, ...) are allowed here too
    Set<String> allowed = new LinkedHashSet<>(PreviewManager.SETTINGS_KEYS);
    allowed.addAll(KEYS);
    s.allowOnly(allowed.toArray(String[]::new));
    Settings docker = s.section("docker");
    docker.allowOnly("host", "remote");
    Settings ssh = s.section("ssh");
    ssh.allowOnly("connectTimeout", "commandTimeout", "transferTimeout", "keepAlive", "attempts", "retryDelay", "retryWindow");
    SshDeployerOptions options;
    ComposeDeployer.Options compose;
    SshOptions sshOptions;
    try {
      List<String> remoteDocker = docker.strings("remote").isEmpty() ? List.of("docker") : docker.strings("remote");
      options = new SshDeployerOptions(s.string("baseDir", "byop/previews"), s.requireString("domain"), s.string("scheme", "http"),
          s.duration("acquireWait", Duration.ofMinutes(2)), s.duration("readyTimeout", Duration.ofMinutes(2)), remoteDocker,
          s.duration("stopTimeout", Duration.ofSeconds(10)), s.string("instance", "byop"));
      compose = ComposeDeployer.Options.of(options.instance()).withReadyTimeout(options.readyTimeout())
          .withStopTimeout(options.stopTimeout()).withDomain(options.domain())
          // one compose or docker command on a host (compose up included: images are on the host by then)
          .withCommandTimeout(s.duration("commandTimeout", Duration.ofMinutes(5)));
      SshOptions d = SshOptions.defaults();
      sshOptions = new SshOptions(ssh.duration("connectTimeout", d.connectTimeout()), ssh.duration("commandTimeout", d.commandTimeout()),
          ssh.duration("transferTimeout", d.transferTimeout()), ssh.duration("keepAlive", d.keepAlive()));
    } catch (ValidationException e) {
      throw s.error("provider", e.getMessage());
    }
    PreviewRouter router = router(s, options.instance());
    ImageShipper.Retry retry;
    try {
      ImageShipper.Retry d = ImageShipper.Retry.defaults();
      retry = new ImageShipper.Retry(ssh.integer("attempts", d.attempts()), ssh.duration("retryDelay", d.firstDelay()),
          ssh.duration("retryWindow", d.window()));
    } catch (ValidationException e) {
      throw ssh.error("attempts", e.getMessage());
    }
    try {
      docker.string("host").map(DockerEndpoint::parse);
    } catch (IllegalArgumentException | ValidationException e) {
      throw docker.error("host", e.getMessage());
    }
    Settings reg = s.section("registry");
    reg.allowOnly("address", "username", "password");
    @Nullable RegistryDelivery delivery = null;
    if (!reg.isEmpty()) {
      try {
        // the namespace of the top-level registry section: hosts pull under the name builds push to
        delivery = new RegistryDelivery(reg.requireString("address"), reg.requireString("username"), reg.requireSecret("password"),
            ImageNames.namespace(context.config().section("registry")));
      } catch (ValidationException e) {
        throw reg.error("address", e.getMessage());
      }
    }
    return new Parsed(options, compose, sshOptions, retry, router, delivery, docker);
  }

  /**
   * The router on every host: {@code router: caddy} or {@code traefik} with the local deployer's {@code caddy} and
   * {@code traefik} sections, or the SSH deployer's own {@code router} section ({@code adminAddress}, {@code adminPort},
   * {@code server}, {@code httpPort}), which means Caddy. Addresses are as each host sees them: the admin API and the
   * listener on its loopback, reached through the SSH connection.
   */
  private static PreviewRouter router(Settings s, String instance) {
    Optional<String> kind = routerKind(s);
    try {
      if (kind.isEmpty()) {
        Settings r = s.section("router");
        r.allowOnly("adminAddress", "adminPort", "server", "httpPort");
        String adminAddress = r.string("adminAddress", "127.0.0.1");
        int adminPort = r.integer("adminPort", 2019);
        int httpPort = r.integer("httpPort", 80);
        dev.byop.core.internal.Checks.port("preview.router.adminPort", adminPort);
        dev.byop.core.internal.Checks.port("preview.router.httpPort", httpPort);
        return new CaddyRouter(new CaddyRouter.Settings(uri("preview.router.adminAddress", adminAddress, adminPort),
            r.string("server", "byop"), URI.create("http://127.0.0.1:" + httpPort), httpPort == 80 ? 0 : httpPort,
            "127.0.0.1", "byop-"));
      }
      if (kind.get().equals("caddy")) {
        Settings c = s.section("caddy");
        c.allowOnly("admin", "server", "listener", "publicPort", "upstreamHost", "routeIdPrefix");
        return new CaddyRouter(new CaddyRouter.Settings(URI.create(c.string("admin", "http://127.0.0.1:2019")),
            c.string("server", "byop"), URI.create(c.string("listener", "http://127.0.0.1:80")), c.integer("publicPort", 0),
            c.string("upstreamHost", "127.0.0.1"), c.string("routeIdPrefix", "byop-")));
      }
      if (kind.get().equals("traefik")) {
        // each host's engine socket is asked on the host (its DOCKER_HOST) unless traefik.dockerSocket sets one
        return new TraefikRouter(TraefikRouter.Settings.from(s.section("traefik"), instance));
      }
    } catch (ValidationException | IllegalArgumentException e) {
      throw s.error("router", e.getMessage());
    }
    throw s.error("router", "must be caddy or traefik (or a section with adminAddress, adminPort, server, httpPort for"
        + " Caddy), got '" + kind.get() + "'");
  }

  /** {@code caddy} or {@code traefik} when {@code router} is a text value; empty when it is a section (or absent). */
  private static Optional<String> routerKind(Settings s) {
    try {
      s.section("router");
      return Optional.empty();
    } catch (ConfigException notASection) {
      return s.string("router");
    }
  }

  private static URI uri(String field, String host, int port) {
    if (!host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
      throw new ValidationException(field, dev.byop.core.internal.Checks.printable(host), "must be a host name or address");
    }
    return URI.create("http://" + host + ":" + port);
  }

  @Override
  public void checkSettings(ProviderContext context) {
    parse(context);
  }

  @Override
  public PreviewDeployer create(ProviderContext context) {
    Parsed p = parse(context);
    ClassLoader loader = Thread.currentThread().getContextClassLoader() != null ? Thread.currentThread().getContextClassLoader()
        : SshPreviewDeployerFactory.class.getClassLoader();
    // The host's own cloud provider when it has one (one set of leases per Byop); else one made here and owned.
    Optional<CloudProvider> shared = context.providers().find(CloudProvider.class);
    CloudProvider cloud = shared.orElseGet(() -> new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .register(new StaticCloudProviderFactory()).register(new OvhCloudProviderFactory())
        .register(new HetznerCloudProviderFactory())
        .discover(loader).create(context.config()));
    Redactor secrets = new Redactor().addAll(context.config().secrets());
    List<AutoCloseable> owned = new ArrayList<>();
    SshConnections pool = new SshConnections(p.sshOptions());
    owned.add(pool);
    DockerClient engine = DockerClient.connect(p.docker().string("host").map(DockerEndpoint::parse)
        .orElseGet(DockerEndpoint::fromEnvironment));
    owned.add(engine);
    if (shared.isEmpty()) {
      // its leases must outlive the process as the host's own provider's do
      Optional<Store> store = context.providers().find(Store.class);
      if (store.isPresent()) {
        cloud = CloudProvider.recording(cloud, store.get());
      }
      owned.add(cloud);
    }
    ImageShipper shipper = new ImageShipper(pool, new EngineLocalImages(engine), p.options().remoteDocker(), p.retry(),
        context.dataDir().resolve("ssh").resolve("layer-names"), secrets);
    // the deployer itself closes what was made for it (through its placement): no wrapper between Byop and the
    // deployer that could forget to forward a method (one once forgot sweep, and the orphan sweep did nothing)
    dev.byop.core.ByopListener events = context.providers().find(dev.byop.core.ByopListener.class)
        .orElse(new dev.byop.core.ByopListener() { });
    return new ComposeDeployer(new SshPlacement(cloud, pool, shipper, p.options(), p.delivery(), secrets, events,
        owned), p.router(), p.compose());
  }
}
