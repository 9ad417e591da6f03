package dev.byop.preview.ssh;

import dev.byop.core.ProviderSelector;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import java.time.Duration;
import java.util.List;

/**
 * Makes the {@code ssh} preview deployer; it takes its hosts from the host's {@code cloud} provider (through
 * {@link dev.byop.core.spi.ProviderContext#providers()}), or from one it makes from the {@code cloud} section and owns.
 *
 * <pre>{@code
 * preview:
 *   provider: ssh
 *   domain: preview.example.com
 *   baseDir: byop/previews          # under the SSH user's home
 *   router: {adminPort: 2019, server: byop, httpPort: 80}
 *   docker: {host: unix:///var/run/docker.sock}   # the local engine images are shipped from
 *   ssh: {keepAlive: 15s, attempts: 8, retryDelay: 1s, retryWindow: 45s}   # lost transfers back off over the window
 *   registry:                                     # optional: hosts pull instead of receiving images over SSH
 *     address: registry.example.com
 *     username: deploy
 *     password: {env: REGISTRY_PASSWORD}
 * cloud:
 *   provider: static
 *   hosts: [...]
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
    return context.config().section("cloud").isEmpty() ? Applicability.no("no cloud section names the hosts to deploy to") : Applicability.yes();
  }

  /** The keys of the {@code preview} section this deployer reads (the preview manager reads its own beside them). */
  static final java.util.Set<String> KEYS = java.util.Set.of("provider", "domain", "baseDir", "scheme", "acquireWait", "readyTimeout",
      "stopTimeout", "instance", "router", "docker", "ssh", "registry");

  @Override
  public java.util.Set<String> settingsKeys() {
    return KEYS;
  }

  /** Everything {@link #create} reads from the section, checked; nothing opened. */
  private record Parsed(SshDeployerOptions options, SshOptions sshOptions, ImageShipper.Retry retry, RemoteRouter router,
      RegistryDelivery delivery, Settings docker) {}

  private static Parsed parse(ProviderContext context) {
    Settings s = context.settings();
    // the section is shared with the preview manager: its keys (ttl, sweepInterval, ...) are allowed here too
    java.util.Set<String> allowed = new java.util.LinkedHashSet<>(dev.byop.core.PreviewManager.SETTINGS_KEYS);
    allowed.addAll(KEYS);
    s.allowOnly(allowed.toArray(String[]::new));
    Settings router = s.section("router");
    router.allowOnly("adminAddress", "adminPort", "server", "httpPort");
    Settings docker = s.section("docker");
    docker.allowOnly("host", "remote");
    Settings ssh = s.section("ssh");
    ssh.allowOnly("connectTimeout", "commandTimeout", "transferTimeout", "keepAlive", "attempts", "retryDelay", "retryWindow");
    SshDeployerOptions options;
    SshOptions sshOptions;
    RemoteRouter r;
    try {
      List<String> remoteDocker = docker.strings("remote").isEmpty() ? List.of("docker") : docker.strings("remote");
      options = new SshDeployerOptions(s.string("baseDir", "byop/previews"), s.requireString("domain"), s.string("scheme", "http"),
          s.duration("acquireWait", Duration.ofMinutes(2)), s.duration("readyTimeout", Duration.ofMinutes(2)), remoteDocker,
          s.duration("stopTimeout", Duration.ofSeconds(10)), s.string("instance", "byop"));
      SshOptions d = SshOptions.defaults();
      sshOptions = new SshOptions(ssh.duration("connectTimeout", d.connectTimeout()), ssh.duration("commandTimeout", d.commandTimeout()),
          ssh.duration("transferTimeout", d.transferTimeout()), ssh.duration("keepAlive", d.keepAlive()));
      r = new CaddyRemoteRouter(router.string("adminAddress", "127.0.0.1"), router.integer("adminPort", 2019), router.string("server", "byop"),
          router.integer("httpPort", 80));
    } catch (IllegalArgumentException | ValidationException e) {
      throw s.error("provider", e.getMessage());
    }
    ImageShipper.Retry retry;
    try {
      ImageShipper.Retry d = ImageShipper.Retry.defaults();
      retry = new ImageShipper.Retry(ssh.integer("attempts", d.attempts()), ssh.duration("retryDelay", d.firstDelay()),
          ssh.duration("retryWindow", d.window()));
    } catch (IllegalArgumentException | ValidationException e) {
      throw ssh.error("attempts", e.getMessage());
    }
    docker.string("host").map(DockerEndpoint::parse);
    Settings reg = s.section("registry");
    reg.allowOnly("address", "username", "password");
    RegistryDelivery delivery = null;
    if (!reg.isEmpty()) {
      try {
        // the namespace of the top-level registry section: hosts pull under the name builds push to
        delivery = new RegistryDelivery(reg.requireString("address"), reg.requireString("username"), reg.requireSecret("password"),
            dev.byop.core.internal.ImageNames.namespace(context.config().section("registry")));
      } catch (IllegalArgumentException | ValidationException e) {
        throw reg.error("address", e.getMessage());
      }
    }
    return new Parsed(options, sshOptions, retry, r, delivery, docker);
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
    java.util.Optional<CloudProvider> shared = context.providers().find(CloudProvider.class);
    CloudProvider cloud = shared.orElseGet(() -> new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .register(new StaticCloudProviderFactory()).register(new OvhCloudProviderFactory())
        .discover(loader).create(context.config()));
    List<AutoCloseable> owned = new java.util.ArrayList<>();
    if (shared.isEmpty()) {
      // its leases must outlive the process as the host's own provider's do
      java.util.Optional<dev.byop.core.spi.Store> store = context.providers().find(dev.byop.core.spi.Store.class);
      if (store.isPresent()) {
        cloud = CloudProvider.recording(cloud, store.get());
      }
      owned.add(cloud);
    }
    SshConnections pool = new SshConnections(p.sshOptions());
    owned.add(0, pool);
    DockerClient engine = DockerClient.connect(p.docker().string("host").map(DockerEndpoint::parse).orElseGet(DockerEndpoint::fromEnvironment));
    owned.add(engine);
    LocalImages local = new EngineLocalImages(engine);
    ImageShipper shipper = new ImageShipper(pool, local, p.options().remoteDocker(), p.retry(),
        context.dataDir().resolve("ssh").resolve("layer-names"), new dev.byop.core.internal.Redactor().addAll(context.config().secrets()));
    // the deployer itself closes what was made for it: no wrapper between Byop and the deployer that could forget
    // to forward a method (one once forgot sweep, a default method, and the orphan sweep silently did nothing)
    return new SshPreviewDeployer(cloud, pool, shipper, p.router(), p.options(), p.delivery(), owned);
  }
}
