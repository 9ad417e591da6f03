package dev.byop.preview.ssh;

import dev.byop.core.ProviderSelector;
import dev.byop.core.Settings;
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
    private record Parsed(SshDeployerOptions options, SshOptions sshOptions, RemoteRouter router, RegistryDelivery delivery,
            Settings docker, Settings ssh) {}

    private static Parsed parse(Settings s) {
        java.util.Set<String> allowed = new java.util.LinkedHashSet<>(dev.byop.core.PreviewManager.SETTINGS_KEYS);
        allowed.addAll(KEYS);
        s.allowOnly(allowed.toArray(String[]::new));
        Settings router = s.section("router");
        router.allowOnly("adminAddress", "adminPort", "server", "httpPort");
        Settings docker = s.section("docker");
        docker.allowOnly("host", "remote");
        Settings ssh = s.section("ssh");
        ssh.allowOnly("connectTimeout", "commandTimeout", "transferTimeout", "keepAlive", "attempts");
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
        } catch (IllegalArgumentException e) {
            throw s.error("provider", e.getMessage());
        }
        ssh.integer("attempts", 3);
        docker.string("host").map(DockerEndpoint::parse);
        Settings reg = s.section("registry");
        reg.allowOnly("address", "username", "password");
        RegistryDelivery delivery = null;
        if (!reg.isEmpty()) {
            try {
                delivery = new RegistryDelivery(reg.requireString("address"), reg.requireString("username"), reg.requireSecret("password"));
            } catch (IllegalArgumentException e) {
                throw reg.error("address", e.getMessage());
            }
        }
        return new Parsed(options, sshOptions, r, delivery, docker, ssh);
    }

    @Override
    public void checkSettings(ProviderContext context) {
        parse(context.settings());
    }

    @Override
    public PreviewDeployer create(ProviderContext context) {
        Parsed p = parse(context.settings());
        SshDeployerOptions options = p.options();
        Settings docker = p.docker();
        Settings ssh = p.ssh();
        ClassLoader loader = Thread.currentThread().getContextClassLoader() != null ? Thread.currentThread().getContextClassLoader()
                : SshPreviewDeployerFactory.class.getClassLoader();
        // The host's own cloud provider when it has one (one set of leases per Byop); else one made here and owned.
        java.util.Optional<CloudProvider> shared = context.providers().find(CloudProvider.class);
        CloudProvider cloud = shared.orElseGet(() -> new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
                .register(new StaticCloudProviderFactory()).register(new OvhCloudProviderFactory())
                .discover(loader).create(context.config()));
        boolean ownsCloud = shared.isEmpty();
        if (ownsCloud) {
            // its leases must outlive the process as the host's own provider's do
            java.util.Optional<dev.byop.core.spi.Store> store = context.providers().find(dev.byop.core.spi.Store.class);
            if (store.isPresent()) {
                cloud = CloudProvider.recording(cloud, store.get());
            }
        }
        SshConnections pool = new SshConnections(p.sshOptions());
        DockerClient engine = DockerClient.connect(docker.string("host").map(DockerEndpoint::parse).orElseGet(DockerEndpoint::fromEnvironment));
        LocalImages local = new EngineLocalImages(engine);
        ImageShipper shipper = new ImageShipper(pool, local, options.remoteDocker(), ssh.integer("attempts", 3),
                context.dataDir().resolve("ssh").resolve("layer-names"));
        SshPreviewDeployer deployer = new SshPreviewDeployer(cloud, pool, shipper, p.router(), options, p.delivery());
        return new Owning(deployer, pool, cloud, ownsCloud, engine);
    }

    /** The deployer plus what the factory made for it, closed together. */
    private record Owning(SshPreviewDeployer d, SshConnections pool, CloudProvider cloud, boolean ownsCloud, DockerClient engine) implements PreviewDeployer {
        @Override
        public Deployment deploy(DeployRequest request, dev.byop.core.spi.JobContext context) {
            return d.deploy(request, context);
        }

        @Override
        public void tearDown(dev.byop.core.Preview preview, dev.byop.core.spi.JobContext context) {
            d.tearDown(preview, context);
        }

        @Override
        public List<String> sweep(java.util.Set<String> knownPreviewIds, dev.byop.core.spi.JobContext context) {
            return d.sweep(knownPreviewIds, context);
        }

        @Override
        public Health status(dev.byop.core.Preview preview) {
            return d.status(preview);
        }

        @Override
        public List<String> logs(dev.byop.core.Preview preview, int tail) {
            return d.logs(preview, tail);
        }

        @Override
        public void close() {
            d.close();
            pool.close();
            if (ownsCloud) {
                cloud.close();
            }
            engine.close();
        }
    }
}
