package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import dev.byop.core.ProviderSelector;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FactoriesTest {

    static final String FP = "SHA256:" + "A".repeat(43);

    @TempDir
    static Path dir;
    static String key;

    @BeforeAll
    static void files() throws IOException {
        key = Files.writeString(dir.resolve("key"), "not a key\n").toString();
    }

    static ByopConfig config(String cloud) {
        return ByopConfig.parse("""
                preview:
                  provider: ssh
                  domain: preview.example.com
                  router: {adminPort: 2419, server: byop, httpPort: 18480}
                  # the preview manager's own keys share the section
                  ttl: 2h
                  maxPerApp: 3
                  sweepInterval: 5m
                  reapInterval: 1m
                cloud:
                """ + cloud.replace("%KEY%", key), "test.yaml");
    }

    @Test
    void staticPoolAndSshDeployerFromConfigurationThroughDiscovery() {
        ByopConfig c = config("""
                  provider: static
                  hosts:
                    - id: vps1
                      address: 10.203.1.2
                      user: deploy
                      privateKey: {file: %KEY%}
                      hostKeyFingerprint: %FP%
                      capacity: 2
                """.replace("%FP%", FP));
        try (CloudProvider cloud = new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
                .discover(getClass().getClassLoader()).create(c)) {
            assertEquals(2, cloud.hosts().get(0).capacity());
            assertEquals("vps1", cloud.acquire("p1", Duration.ZERO).host().id());
        }
        try (PreviewDeployer d = new ProviderSelector<PreviewDeployer>("preview", PreviewDeployerFactory.class)
                .discover(getClass().getClassLoader()).create(c)) {
            assertFalse(d.toString().isEmpty());
        }
    }

    @Test
    void hostWithoutHostKeyPinIsRefusedNamingTheKey() {
        ByopConfig c = config("""
                  provider: static
                  hosts:
                    - address: 10.203.1.2
                      user: deploy
                      privateKey: {file: %KEY%}
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> new StaticCloudProviderFactory().create(
                new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(c)));
        assertTrue(e.getMessage().contains("cloud.hosts[0].hostKeyFingerprint") && e.getMessage().contains("always verified"), e.getMessage());
    }

    @Test
    void inlineSecretIsRefused() {
        ByopConfig c = config("""
                  provider: ovh
                  applicationKey: ak
                  applicationSecret: plain-text-secret
                  consumerKey: {file: %KEY%}
                  project: p
                  region: GRA11
                  flavorId: f
                  imageId: i
                  sshKeyId: k
                  privateKey: {file: %KEY%}
                  knownHosts: /kh
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> new OvhCloudProviderFactory().create(
                new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(c)));
        assertTrue(e.getMessage().contains("applicationSecret") && !e.getMessage().contains("plain-text-secret"), e.getMessage());
    }

    @Test
    void theDeployerFromTheFactoryForwardsEveryMethodAndClosesWhatItOwnsOnce() throws Exception {
        java.util.List<String> called = new java.util.concurrent.CopyOnWriteArrayList<>();
        PreviewDeployer recorder = (PreviewDeployer) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PreviewDeployer.class}, (proxy, m, args) -> {
                    if (m.getDeclaringClass() == Object.class) {
                        return m.getName().equals("toString") ? "recorder" : m.getName().equals("hashCode") ? 0 : false;
                    }
                    called.add(m.getName());
                    return null;
                });
        java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
        PreviewDeployer owning = SshPreviewDeployerFactory.owning(recorder, java.util.List.of(closes::incrementAndGet));
        java.util.List<String> expected = new java.util.ArrayList<>();
        for (java.lang.reflect.Method m : PreviewDeployer.class.getMethods()) {
            if (java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Object[] args = new Object[m.getParameterCount()];
            for (int i = 0; i < args.length; i++) {
                Class<?> t = m.getParameterTypes()[i];
                args[i] = t == int.class ? 0 : t == long.class ? 0L : t == boolean.class ? false : null;
            }
            m.invoke(owning, args);
            expected.add(m.getName());
        }
        assertTrue(expected.contains("sweep"), expected.toString());
        assertEquals(expected, called, "every method of PreviewDeployer reaches the deployer, sweep included");
        owning.close();
        assertEquals(1, closes.get(), "owned resources closed with the deployer");
        assertEquals(java.util.Collections.frequency(called, "close"), 1);
    }
}
