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

    @Override
    public PreviewDeployer create(ProviderContext context) {
        Settings s = context.settings();
        // the section is shared with the preview manager: its keys (ttl, sweepInterval, ...) are allowed here too
        java.util.Set<String> allowed = new java.util.LinkedHashSet<>(List.of("provider", "baseDir", "scheme", "acquireWait", "readyTimeout",
                "stopTimeout", "instance", "router", "docker", "ssh", "registry"));
        allowed.addAll(dev.byop.core.internal.DefaultPreviewManager.Options.KEYS);
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
        } catch (IllegalArgumentException e) {
            throw s.error("provider", e.getMessage());
        }
        ImageShipper.Retry retry;
        try {
            ImageShipper.Retry d = ImageShipper.Retry.defaults();
            retry = new ImageShipper.Retry(ssh.integer("attempts", d.attempts()), ssh.duration("retryDelay", d.firstDelay()),
                    ssh.duration("retryWindow", d.window()));
        } catch (IllegalArgumentException e) {
            throw ssh.error("attempts", e.getMessage());
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader() != null ? Thread.currentThread().getContextClassLoader()
                : SshPreviewDeployerFactory.class.getClassLoader();
        // The host's own cloud provider when it has one (one set of leases per Byop); else one made here and owned.
        java.util.Optional<CloudProvider> shared = context.providers().find(CloudProvider.class);
        CloudProvider cloud = shared.orElseGet(() -> new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
                .register(new StaticCloudProviderFactory()).register(new OvhCloudProviderFactory())
                .discover(loader).create(context.config()));
        boolean ownsCloud = shared.isEmpty();
        SshConnections pool = new SshConnections(sshOptions);
        DockerClient engine = DockerClient.connect(docker.string("host").map(DockerEndpoint::parse).orElseGet(DockerEndpoint::fromEnvironment));
        LocalImages local = new EngineLocalImages(engine);
        ImageShipper shipper = new ImageShipper(pool, local, options.remoteDocker(), retry, context.dataDir().resolve("ssh").resolve("layer-names"));
        Settings reg = s.section("registry");
        reg.allowOnly("address", "username", "password");
        RegistryDelivery delivery = null;
        if (!reg.isEmpty()) {
            try {
                // the namespace of the top-level registry section: hosts pull under the name builds push to
                delivery = new RegistryDelivery(reg.requireString("address"), reg.requireString("username"), reg.requireSecret("password"),
                        dev.byop.core.internal.ImageNames.namespace(context.config().section("registry")));
            } catch (IllegalArgumentException e) {
                throw reg.error("address", e.getMessage());
            }
        }
        SshPreviewDeployer deployer = new SshPreviewDeployer(cloud, pool, shipper, r, options, delivery);
        List<AutoCloseable> owned = new java.util.ArrayList<>(List.of(pool));
        if (ownsCloud) {
            owned.add(cloud);
        }
        owned.add(engine);
        return owning(deployer, owned);
    }

    /**
     * {@code deployer} as a {@link PreviewDeployer} that also closes {@code owned} (in order) when closed; safe to close
     * twice. A dynamic proxy rather than a hand-written forwarding class: such a class once forwarded everything except
     * {@link PreviewDeployer#sweep} (a default method, so nothing failed to compile) and the orphan sweep of every
     * deployer made through {@code Byop} silently did nothing. The proxy forwards every method, present and future.
     */
    static PreviewDeployer owning(PreviewDeployer deployer, List<AutoCloseable> owned) {
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        List<AutoCloseable> resources = List.copyOf(owned);
        java.lang.reflect.InvocationHandler forward = (proxy, method, args) -> {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
                if (closed.compareAndSet(false, true)) {
                    closeAll(deployer, resources);
                }
                return null;
            }
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "equals" -> proxy == args[0];
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> "owning " + deployer;
                };
            }
            try {
                return method.invoke(deployer, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (PreviewDeployer) java.lang.reflect.Proxy.newProxyInstance(PreviewDeployer.class.getClassLoader(),
                new Class<?>[] {PreviewDeployer.class}, forward);
    }

    private static void closeAll(PreviewDeployer deployer, List<AutoCloseable> resources) {
        Exception first = null;
        List<AutoCloseable> all = new java.util.ArrayList<>();
        all.add(deployer);
        all.addAll(resources);
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first != null) {
            throw new SshException("closing the ssh preview deployer failed: " + first.getMessage(), first);
        }
    }
}
